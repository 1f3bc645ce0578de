"""The Activity tab: the team's audit log (reveals, changes, membership), for admins."""

from __future__ import annotations

from uuid import UUID

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from devsync_tui import clock
from devsync_tui.core import permissions
from devsync_tui.core.models import AuditEntry
from devsync_tui.messages import LiveBatch
from devsync_tui.screens.context import Selection, Session
from devsync_tui.widgets.filter_table import FilterableTable, Row

_ACTIONS = {
    "config.create": "created",
    "config.update": "changed",
    "config.delete": "deleted",
    "secret.reveal": "revealed",
    "member.add": "added member",
    "member.role": "changed role of",
    "member.remove": "removed member",
    "team.create": "created team",
}


def describe(entry: AuditEntry) -> str:
    """One line for an audit entry (``details`` never holds a value)."""
    verb = _ACTIONS.get(entry.action, entry.action)
    what = entry.details.get("key") or entry.details.get("username") or entry.target_id or ""
    extra = entry.details.get("role")
    return f"{verb} {what}" + (f" → {extra}" if extra else "")


class ActivityLoaded(Message):
    def __init__(self, team_id: UUID, entries: list[AuditEntry]) -> None:
        super().__init__()
        self.team_id = team_id
        self.entries = entries


class ActivityPane(Vertical):
    """Newest first; admins only, others see why not."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.selection: Selection | None = None

    def compose(self) -> ComposeResult:
        yield Static("Select a team.", id="activity-hint", classes="pane-hint")
        yield FilterableTable(("When", "Who", "What", "Where"), id="activity-rows")

    def show(self, session: Session, selection: Selection) -> None:
        self.session, self.selection = session, selection
        table = self.query_one(FilterableTable)
        if not permissions.can_read_audit_log(session.role_in(selection.team.id)):
            table.display = False
            table.set_rows([])
            self.query_one("#activity-hint", Static).update(
                f"Only admins of {selection.team.name} see its activity log."
            )
            return
        table.display = True
        self.load()

    @work(exclusive=True, group="activity-load", exit_on_error=False)
    async def load(self) -> None:
        if self.session is None or self.selection is None:
            return
        team_id = self.selection.team.id
        entries = await self.session.backend.audit_log(team_id, limit=200)
        self.post_message(ActivityLoaded(team_id, entries))

    def on_activity_loaded(self, message: ActivityLoaded) -> None:
        sel = self.selection
        if sel is None or sel.team.id != message.team_id:
            return
        names = {p.id: p.name for p in ([sel.project] if sel.project else [])}
        envs = {e.id: e.name for e in sel.environments}
        rows = []
        for e in message.entries:
            where = envs.get(e.environment_id) if e.environment_id else None
            where = where or (names.get(e.project_id) if e.project_id else None) or ""
            what = describe(e)
            rows.append(
                Row(
                    str(e.id),
                    (clock.ago(e.created_at), e.actor_username or "?", what, where),
                    f"{e.actor_username} {what} {where}",
                )
            )
        self.query_one(FilterableTable).set_rows(rows)
        self.query_one("#activity-hint", Static).update(
            f"Audit log of {sel.team.name}: configuration changes, reveals and membership."
        )

    def apply_live(self, batch: LiveBatch) -> None:
        sel = self.selection
        if sel is None or self.session is None:
            return
        if not permissions.can_read_audit_log(self.session.role_in(sel.team.id)):
            return
        if batch.resync or any(
            e.table == "audit_log" and e.team_id == sel.team.id for e in batch.changes
        ):
            self.load()
