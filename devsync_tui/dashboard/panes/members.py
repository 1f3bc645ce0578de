"""The Members tab: who is in the selected team, with what role; add, change role, remove,
leave (admins only where PERMISSIONS.md allows)."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.core import clock, permissions
from devsync_tui.core.models import Role, TeamMember
from devsync_tui.core.wording import count
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, Field, FormDialog, FormValues
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.dashboard.widgets.filter_table import FilterableTable, KeyTable, Row
from devsync_tui.dashboard.writes import attempt

ROLE_OPTIONS = [("admin", "admin"), ("member", "member"), ("viewer", "viewer")]


class MembersTable(KeyTable):
    BINDINGS = cmd.bindings(cmd.MEMBER_ROLE)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "select_cursor":
            for pane in self.ancestors:
                if isinstance(pane, MembersPane):
                    return pane.check_action("change_role", parameters)
        return True


class MembersLoaded(Message):
    def __init__(self, team_id: UUID, members: list[TeamMember], flash: frozenset[str]) -> None:
        super().__init__()
        self.team_id = team_id
        self.members = members
        self.flash = flash


class MembersPane(Vertical):
    """Members of the selected team."""

    BINDINGS = cmd.bindings(cmd.MEMBER_ADD, cmd.MEMBER_REMOVE, cmd.MEMBER_LEAVE)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.selection: Selection | None = None
        self.members: list[TeamMember] = []

    def compose(self) -> ComposeResult:
        yield Static("Select a team.", id="members-hint", classes="pane-hint")
        yield FilterableTable(
            ("User", "Name", "Role", "Joined"),
            table=MembersTable(id="members-table"),
            id="members-rows",
        )

    @property
    def role(self) -> Role | None:
        if self.session is None or self.selection is None:
            return None
        return self.session.role_in(self.selection.team.id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Adding, re-roling and removing are for admins, the last two offered only on a row
        they may change (never the owner's, nor the last admin's); the owner cannot leave."""
        if action == "add_member":
            return permissions.can_add_member(self.role)
        if action in ("change_role", "remove_member"):
            if not self.members or not permissions.can_add_member(self.role):
                return False
            member = self._member()
            if member is None:
                return False
            is_owner, last_admin = self._facts(member)
            if action == "remove_member":
                return permissions.can_remove_member(
                    self.role,
                    target_is_self=self._is_me(member),
                    target_is_owner=is_owner,
                    target_is_last_admin=last_admin,
                )
            return any(
                permissions.can_set_member_role(
                    self.role,
                    target_is_owner=is_owner,
                    target_is_last_admin=last_admin,
                    new_role=role,
                )
                for role in Role
                if role is not member.role
            )
        if action == "leave_team":  # not the owner; not from a read-only dashboard
            sel, session = self.selection, self.session
            if session is not None and session.read_only:
                return False
            return not (sel and session and sel.team.owner_id == session.identity.user_id)
        return True

    def show(self, session: Session, selection: Selection) -> None:
        changed_team = self.selection is None or self.selection.team.id != selection.team.id
        self.session, self.selection = session, selection
        if changed_team:
            self.members = []
            self.query_one(FilterableTable).set_rows([])
        self.load(frozenset())

    @work(exclusive=True, group="members-load", exit_on_error=False)
    async def load(self, flash: frozenset[str]) -> None:
        if self.session is None or self.selection is None:
            return
        team_id = self.selection.team.id
        members = await self.session.backend.list_members(team_id)
        self.post_message(MembersLoaded(team_id, members, flash))

    def on_members_loaded(self, message: MembersLoaded) -> None:
        if self.selection is None or message.team_id != self.selection.team.id:
            return
        self.members = sorted(message.members, key=lambda m: (m.username or "").lower())
        team = self.selection.team
        rows = []
        for m in self.members:
            name = Text(m.username or str(m.user_id), style="bold")
            if m.user_id == team.owner_id:
                name.append(" (owner)", style="dim")
            rows.append(
                Row(
                    str(m.user_id),
                    (name, m.full_name or "", m.role.value, clock.ago(m.joined_at)),
                    f"{m.username} {m.full_name} {m.role.value}",
                )
            )
        table = self.query_one(FilterableTable)
        table.set_rows(rows)
        self.refresh_bindings()
        table.table.refresh_bindings()
        if message.flash:
            table.flash(message.flash)
        admin = permissions.can_add_member(self.role)
        key = partial(cmd.key_name, self.app)
        tail = (
            f"{key(cmd.MEMBER_ADD)} add · {key(cmd.MEMBER_ROLE)} role · "
            f"{key(cmd.MEMBER_REMOVE)} remove"
            if admin
            else f"{key(cmd.MEMBER_LEAVE)} leaves the team"
        )
        self.query_one("#members-hint", Static).update(
            f"{count(len(rows), 'member')} of {team.name}: {tail}"
        )

    def apply_live(self, batch: LiveBatch) -> None:
        if self.selection is None:
            return
        team_id = self.selection.team.id
        flash = {
            e.id.split(":", 1)[-1]
            for e in batch.changes
            if e.table == "team_members" and e.team_id == team_id
        }
        if flash or batch.touches("profiles") or batch.resync:
            self.load(frozenset(flash))

    # -- actions -------------------------------------------------------------------------
    def _member(self) -> TeamMember | None:
        key = self.query_one(FilterableTable).cursor_key
        return next((m for m in self.members if str(m.user_id) == key), None)

    def _is_me(self, member: TeamMember) -> bool:
        return self.session is not None and member.user_id == self.session.identity.user_id

    def _facts(self, member: TeamMember) -> tuple[bool, bool]:
        assert self.selection is not None
        admins = [m for m in self.members if m.role is Role.ADMIN]
        is_owner = member.user_id == self.selection.team.owner_id
        last_admin = member.role is Role.ADMIN and len(admins) <= 1
        return is_owner, last_admin

    def action_add_member(self) -> None:
        if not permissions.can_add_member(self.role):
            self.app.notify("Only the team's admins can add members.", severity="warning")
            return
        self._add()

    @work(group="members-write", exit_on_error=False)
    async def _add(self) -> None:
        if self.session is None or self.selection is None:
            return
        backend, team = self.session.backend, self.selection.team
        added: list[TeamMember] = []

        async def add(values: FormValues) -> str | None:
            username = str(values["username"])
            try:
                added.append(await backend.add_member(team.id, username, Role(str(values["role"]))))
            except InvalidInput:
                # The server says "already a member of this team"; name the person and team.
                known = self._member_named(username)
                if known is None:
                    raise
                return f"{known.username} is already a member of {team.name}."
            return None

        values = await self.app.push_screen_wait(FormDialog(
            f"Add a member to {team.name}",
            [Field("username", "Username", placeholder="dave"),
             Field("role", "Role", "select", "member", ROLE_OPTIONS)],
            submit="Add", required=["username"], on_submit=add,
        ))  # fmt: skip
        if values and added:
            self.app.notify(f"Added {added[0].username or values['username']}.")
            self.load(frozenset({str(added[0].user_id)}))

    def _member_named(self, username: str) -> TeamMember | None:
        """The loaded member with this username (the server matches case-insensitively too)."""
        wanted = username.lower()
        return next((m for m in self.members if (m.username or "").lower() == wanted), None)

    @on(DataTable.RowSelected, "#members-table")
    def _row_chosen(self) -> None:
        self.action_change_role()

    @on(DataTable.RowHighlighted, "#members-table")
    def _row_moved(self) -> None:
        self.refresh_bindings()  # role and remove follow the row (not on the owner's)

    def action_change_role(self) -> None:
        member = self._member()
        if member is None:
            return
        if not permissions.can_add_member(self.role):
            self.app.notify("Only the team's admins can change roles.", severity="warning")
            return
        if not self.check_action("change_role", ()):  # a click on the owner's row
            is_owner, _ = self._facts(member)
            self.app.notify(
                "The team's owner stays an admin."
                if is_owner
                else "The last admin stays an admin; make someone else admin first.",
                severity="warning",
            )
            return
        self._change_role(member)

    @work(group="members-write", exit_on_error=False)
    async def _change_role(self, member: TeamMember) -> None:
        if self.session is None or self.selection is None:
            return
        backend, team_id = self.session.backend, self.selection.team.id

        async def change(values: FormValues) -> str | None:
            new_role = Role(str(values["role"]))
            if new_role is member.role:
                return None
            is_owner, last_admin = self._facts(member)
            if not permissions.can_set_member_role(
                self.role,
                target_is_owner=is_owner,
                target_is_last_admin=last_admin,
                new_role=new_role,
            ):
                return f"You cannot demote {'the owner' if is_owner else 'the last admin'}."
            await backend.set_member_role(team_id, member.user_id, new_role)
            return None

        values = await self.app.push_screen_wait(FormDialog(
            f"Role of {member.username}",
            [Field("role", "Role", "select", member.role.value, ROLE_OPTIONS)],
            submit="Change", on_submit=change,
        ))  # fmt: skip
        if values and values["role"] != member.role.value:
            self.app.notify(f"{member.username} is now {values['role']}.")
            self.load(frozenset({str(member.user_id)}))

    def action_remove_member(self) -> None:
        member = self._member()
        if member is not None:
            self._remove(member)

    def action_leave_team(self) -> None:
        if self.session is None:
            return
        me = next((m for m in self.members if m.user_id == self.session.identity.user_id), None)
        if me is not None:
            self._remove(me)

    @work(group="members-write", exit_on_error=False)
    async def _remove(self, member: TeamMember) -> None:
        if self.session is None or self.selection is None:
            return
        is_self = member.user_id == self.session.identity.user_id
        is_owner, last_admin = self._facts(member)
        if not permissions.can_remove_member(
            self.role,
            target_is_self=is_self,
            target_is_owner=is_owner,
            target_is_last_admin=last_admin,
        ):
            if is_owner:
                text = "The team's owner cannot be removed or leave."
            elif last_admin:
                text = "The last admin cannot be removed; make someone else admin first."
            else:
                text = "Only the team's admins can remove members."
            self.app.notify(text, severity="warning")
            return
        team = self.selection.team.name
        question = f"Leave {team}?" if is_self else f"Remove {member.username} from {team}?"
        if not await self.app.push_screen_wait(
            ConfirmDialog(question, confirm="Leave" if is_self else "Remove")
        ):
            return
        await attempt(self.app, self.session.backend.remove_member(
            self.selection.team.id, member.user_id
        ), done=f"You left {team}." if is_self else f"Removed {member.username}.")  # fmt: skip
        self.load(frozenset())
