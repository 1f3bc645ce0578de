"""Create, rename and delete teams, projects and environments from the navigation tree, and
give an environment to another member of its team.

What the tree offers and what its actions check is one answer, ``tree_refusal``. What was just
created is shown: its parents expanded, the cursor on it (``select_after_load``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from textual import work

from devsync_tui.core import permissions
from devsync_tui.core.models import Role
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.dashboard.writes import attempt

if TYPE_CHECKING:
    from textual.app import App

    from devsync_tui.dashboard.screens.dialogs import FormValues
    from devsync_tui.dashboard.widgets.nav_tree import NavTree


#: What the tree's keys do to the selected item.
TreeAction = Literal["new", "rename", "delete", "owner"]
#: A node of the tree: (team, project or None, environment or None).
NavKey = tuple[UUID, UUID | None, UUID | None]
#: The screen actions of the tree's keys (``keys.TREE_NEW`` …).
_ACTIONS: dict[str, TreeAction] = {
    "new_item": "new",
    "rename_item": "rename",
    "delete_item": "delete",
    "change_owner": "owner",
}


def tree_refusal(
    session: Session | None, selection: Selection | None, action: TreeAction
) -> str | None:
    """None when the user may ``action`` the selected item (new: a project in a team, an
    environment in a project, a team when nothing is selected); else one sentence saying who
    may (PERMISSIONS.md, through ``core.permissions``; the database stays the authority)."""
    if session is None:
        return "Not connected yet."
    if session.read_only:
        return "This dashboard is read-only: it changes nothing."
    if selection is None:
        return None if action == "new" else "Select a team, project or environment first."
    role = session.role_in(selection.team.id)
    me = session.identity.user_id
    allowed: bool
    if action == "owner":
        if selection.environment is None:
            return "Select an environment first."
        # PERMISSIONS.md environments: who owns one is changed by the team's admins only.
        if role != Role.ADMIN:
            return "Only the team's admins can change who owns an environment."
        return None
    if action == "new":
        allowed = (
            permissions.can_create_project(role)
            if selection.project is None
            else permissions.can_create_environment(role)
        )
        what = "projects" if selection.project is None else "environments"
        refusal = f"Only admins and members can create {what}."
    elif selection.environment is not None:
        mine = selection.environment.user_id == me
        allowed = (
            permissions.can_edit_environment(role, env_owner=mine)
            if action == "rename"
            else permissions.can_delete_environment(role, env_owner=mine)
        )
        refusal = f"Only admins and the environment's owner can {action} it."
    elif selection.project is not None:
        if action == "rename":
            allowed = permissions.can_edit_project(role)
            refusal = "Only admins and members can rename projects."
        else:
            allowed = permissions.can_delete_project(role)
            refusal = "Only the team's admins can delete projects."
    elif action == "rename":
        allowed = permissions.can_rename_team(role)
        refusal = "Only the team's admins can rename it."
    else:
        owner = selection.team.owner_id == me
        allowed = permissions.can_delete_team(role, is_team_owner=owner)
        refusal = "Only the team's owner can delete it."
    return None if allowed else refusal


def slugify(name: str) -> str:
    """A team slug from its name: lower case, dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "team"


class TreeActions:
    """Mixed into MainScreen: the tree's n / e / d / N actions."""

    session: Session | None
    selection: Selection | None
    app: App[Any]
    #: What was just created: the tree shows it (parents expanded, the cursor on it) once a
    #: reload of the workspace holds it (``MainScreen.on_workspace_loaded``).
    select_after_load: NavKey | None = None

    if TYPE_CHECKING:

        def load_workspace(self) -> object: ...  # provided by MainScreen

        @property
        def nav_tree(self) -> NavTree: ...  # provided by MainScreen

    def _acted_on(self) -> Selection | None:
        """What the tree's keys act on: the selection while it is the node under the tree's
        cursor and that node is on screen; None when a filter hides it (nothing selected)."""
        sel, item = self.selection, self.nav_tree.cursor_item()
        if sel is None or item is None:
            return None
        shown = (
            sel.team.id,
            sel.project.id if sel.project else None,
            sel.environment.id if sel.environment else None,
        )
        return sel if item.key == shown else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The tree's writing keys, offered only where the role allows (``tree_refusal``) and
        only for the node under the cursor that is on screen."""
        if action == "new_team":
            return self.session is None or not self.session.read_only
        what = _ACTIONS.get(action)
        return what is None or tree_refusal(self.session, self._acted_on(), what) is None

    def _refused(self, session: Session, selection: Selection | None, action: TreeAction) -> bool:
        """Say why not and return True when the user may not ``action`` the selection."""
        refusal = tree_refusal(session, selection, action)
        if refusal is not None:
            self.app.notify(refusal, severity="warning")
        return refusal is not None

    def action_new_item(self) -> None:
        sel = self._acted_on()
        if sel is None:
            self.action_new_team()
        elif sel.project is None:
            self._new_project(sel)
        else:
            self._new_environment(sel)

    def action_new_team(self) -> None:
        if self.session is not None and self.session.read_only:
            self.app.notify("This dashboard is read-only: it changes nothing.", severity="warning")
            return
        self._new_team()

    def action_rename_item(self) -> None:
        self._rename()

    def action_delete_item(self) -> None:
        self._delete()

    def action_change_owner(self) -> None:
        self._change_owner()

    def _show_created(self, key: NavKey) -> None:
        """Reload the tree and put the cursor on ``key`` (a new item) once it is there."""
        self.select_after_load = key
        self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_team(self) -> None:
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog

        session = self.session
        if session is None:
            return
        backend = session.backend

        made: list[NavKey] = []

        async def create(values: FormValues) -> None:
            name = str(values["name"])
            team = await backend.create_team(name, str(values["slug"]) or slugify(name))
            made.append((team.id, None, None))

        values = await self.app.push_screen_wait(
            FormDialog(
                "New team",
                [
                    Field("name", "Name", placeholder="Acme"),
                    Field("slug", "Slug (blank: from the name)", placeholder="acme"),
                ],
                submit="Create",
                required=["name"],
                note="You become the team's owner and an admin.",
                on_submit=create,
            )
        )
        if values:
            self.app.notify(f"Team {values['name']} created.")
            if made:
                self._show_created(made[0])
            else:
                self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_project(self, sel: Selection) -> None:
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog

        session = self.session
        if session is None:
            return
        if self._refused(session, sel, "new"):
            return
        backend = session.backend

        made: list[NavKey] = []

        async def create(values: FormValues) -> None:
            project = await backend.create_project(
                sel.team.id,
                str(values["name"]),
                str(values["description"]) or None,
                str(values["repository_url"]) or None,
            )
            made.append((sel.team.id, project.id, None))

        values = await self.app.push_screen_wait(
            FormDialog(
                f"New project in {sel.team.name}",
                [
                    Field("name", "Name", placeholder="storefront"),
                    Field("description", "Description"),
                    Field("repository_url", "Repository URL"),
                ],
                submit="Create",
                required=["name"],
                on_submit=create,
            )
        )
        if values:
            self.app.notify(f"Project {values['name']} created.")
            if made:
                self._show_created(made[0])
            else:
                self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_environment(self, sel: Selection) -> None:
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog

        session = self.session
        if session is None or sel.project is None:
            return
        project = sel.project
        if self._refused(session, sel, "new"):
            return
        backend = session.backend
        templates = await attempt(self.app, backend.list_templates(project.id))
        options = [(t.name, str(t.id)) for t in templates or []]
        fields = [Field("name", "Name", placeholder=f"{session.identity.username}-laptop")]
        if options:
            fields.append(Field("template", "From template (optional)", "select", "", options))

        made: list[NavKey] = []

        async def create(values: FormValues) -> None:
            template = str(values.get("template") or "")
            env = await backend.create_environment(
                project.id, str(values["name"]), UUID(template) if template else None
            )
            made.append((sel.team.id, project.id, env.id))

        values = await self.app.push_screen_wait(
            FormDialog(
                f"New environment in {project.name}",
                fields,
                submit="Create",
                required=["name"],
                note="The environment will be yours; a template copies its configuration "
                "and dependencies in.",
                on_submit=create,
            )
        )
        if values:
            self.app.notify(f"Environment {values['name']} created.")
            if made:
                self._show_created(made[0])
            else:
                self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _rename(self) -> None:
        session, sel = self.session, self._acted_on()
        if session is None or self._refused(session, sel, "rename") or sel is None:
            return
        backend = session.backend
        if sel.environment is not None:
            env = sel.environment

            async def rename_env(name: str) -> None:
                await backend.rename_environment(env.id, name)

            renamed = await self._ask_name("Rename environment", env.name, rename_env)
        elif sel.project is not None:
            project = sel.project

            async def rename_project(name: str) -> None:
                await backend.update_project(project.id, name=name)

            renamed = await self._ask_name("Rename project", project.name, rename_project)
        else:
            team = sel.team

            async def rename_team(name: str) -> None:
                await backend.rename_team(team.id, name)

            renamed = await self._ask_name("Rename team", team.name, rename_team)
        if renamed:
            self.load_workspace()

    async def _ask_name(
        self, title: str, current: str, rename: Callable[[str], Awaitable[None]]
    ) -> bool:
        """Ask for a new name and ``rename`` to it inside the dialog; True when renamed."""
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog

        async def save(values: FormValues) -> None:
            name = str(values["name"])
            if name != current:
                await rename(name)

        values = await self.app.push_screen_wait(
            FormDialog(
                title, [Field("name", "New name", value=current)], required=["name"], on_submit=save
            )
        )
        return values is not None and values["name"] != current

    @work(group="tree-write", exit_on_error=False)
    async def _delete(self) -> None:
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import ConfirmDialog

        session, sel = self.session, self._acted_on()
        if session is None or self._refused(session, sel, "delete") or sel is None:
            return
        backend = session.backend
        if sel.environment is not None:
            env = sel.environment
            question = (
                f"Delete environment {env.name}? Its overrides, dependencies and health "
                "history go with it."
            )
            if await self.app.push_screen_wait(ConfirmDialog(question)):
                await attempt(
                    self.app,
                    backend.delete_environment(env.id),
                    done=f"Environment {env.name} deleted.",
                )
                self.load_workspace()
        elif sel.project is not None:
            question = f"Delete project {sel.project.name} with its environments and configuration?"
            if await self.app.push_screen_wait(ConfirmDialog(question)):
                await attempt(
                    self.app,
                    backend.delete_project(sel.project.id),
                    done=f"Project {sel.project.name} deleted.",
                )
                self.load_workspace()
        else:
            question = f"Delete team {sel.team.name} with all its projects?"
            if await self.app.push_screen_wait(ConfirmDialog(question)):
                await attempt(
                    self.app,
                    backend.delete_team(sel.team.id),
                    done=f"Team {sel.team.name} deleted.",
                )
                self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _change_owner(self) -> None:
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog

        session, sel = self.session, self._acted_on()
        if session is None or self._refused(session, sel, "owner") or sel is None:
            return
        env, project = sel.environment, sel.project
        if env is None or project is None:
            return
        backend = session.backend
        members = await attempt(self.app, backend.list_members(sel.team.id))
        if members is None:
            return
        # Viewers never write, so they cannot own an environment (the database refuses too).
        owners = [m for m in members if m.role != Role.VIEWER]
        names = {m.user_id: m.username or str(m.user_id) for m in owners}
        options = [(f"{names[m.user_id]} ({m.role})", str(m.user_id)) for m in owners]
        current = str(env.user_id) if env.user_id in names else ""
        label = f"{project.name}/{env.name}"

        async def save(values: FormValues) -> str | None:
            chosen = str(values["owner"])
            if chosen != str(env.user_id):
                await backend.set_environment_owner(env.id, UUID(chosen))
            return None

        values = await self.app.push_screen_wait(
            FormDialog(
                f"Owner of {label}",
                [Field("owner", "Belongs to", "select", current, options)],
                required=["owner"],
                note="Its owner (besides the admins) changes its overrides and reveals its "
                "secrets. Viewers cannot own one.",
                on_submit=save,
            )
        )
        if values is None:
            return
        chosen = str(values["owner"])
        if chosen == str(env.user_id):
            self.app.notify(f"{label} already belongs to {names.get(env.user_id, '?')}.")
            return
        self.app.notify(f"{label} now belongs to {names.get(UUID(chosen), '?')}.")
        self.load_workspace()
