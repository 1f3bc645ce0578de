"""Create, rename and delete teams, projects and environments from the navigation tree."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from textual import work

from devsync_tui.core import permissions
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.dashboard.writes import attempt

# The dialogs are imported by the actions that open them: the first frame needs none.

if TYPE_CHECKING:
    from textual.app import App


def slugify(name: str) -> str:
    """A team slug from its name: lower case, dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "team"


class TreeActions:
    """Mixed into MainScreen: the tree's n / e / d / N actions."""

    session: Session | None
    selection: Selection | None
    app: App[Any]

    if TYPE_CHECKING:

        def load_workspace(self) -> object: ...  # provided by MainScreen

    def _refused(self, sentence: str) -> None:
        self.app.notify(sentence, severity="warning")

    def action_new_item(self) -> None:
        sel = self.selection
        if sel is None:
            self.action_new_team()
        elif sel.project is None:
            self._new_project(sel)
        else:
            self._new_environment(sel)

    def action_new_team(self) -> None:
        self._new_team()

    def action_rename_item(self) -> None:
        self._rename()

    def action_delete_item(self) -> None:
        self._delete()

    @work(group="tree-write", exit_on_error=False)
    async def _new_team(self) -> None:
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog, FormValues

        session = self.session
        if session is None:
            return
        backend = session.backend

        async def create(values: FormValues) -> None:
            name = str(values["name"])
            await backend.create_team(name, str(values["slug"]) or slugify(name))

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
            self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_project(self, sel: Selection) -> None:
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog, FormValues

        session = self.session
        if session is None:
            return
        if not permissions.can_create_project(session.role_in(sel.team.id)):
            self._refused("Only admins and members can create projects.")
            return
        backend = session.backend

        async def create(values: FormValues) -> None:
            await backend.create_project(
                sel.team.id,
                str(values["name"]),
                str(values["description"]) or None,
                str(values["repository_url"]) or None,
            )

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
            self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_environment(self, sel: Selection) -> None:
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog, FormValues

        session = self.session
        if session is None or sel.project is None:
            return
        project = sel.project
        if not permissions.can_create_environment(session.role_in(sel.team.id)):
            self._refused("Only admins and members can create environments.")
            return
        backend = session.backend
        templates = await attempt(self.app, backend.list_templates(project.id))
        options = [(t.name, str(t.id)) for t in templates or []]
        fields = [Field("name", "Name", placeholder=f"{session.identity.username}-laptop")]
        if options:
            fields.append(Field("template", "From template (optional)", "select", "", options))

        async def create(values: FormValues) -> None:
            template = str(values.get("template") or "")
            await backend.create_environment(
                project.id, str(values["name"]), UUID(template) if template else None
            )

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
            self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _rename(self) -> None:
        session, sel = self.session, self.selection
        if session is None or sel is None:
            return
        role = session.role_in(sel.team.id)
        backend = session.backend
        if sel.environment is not None:
            env = sel.environment
            if not permissions.can_edit_environment(
                role, env_owner=env.user_id == session.identity.user_id
            ):
                self._refused("Only admins and the environment's owner can rename it.")
                return

            async def rename_env(name: str) -> None:
                await backend.rename_environment(env.id, name)

            renamed = await self._ask_name("Rename environment", env.name, rename_env)
        elif sel.project is not None:
            project = sel.project
            if not permissions.can_edit_project(role):
                self._refused("Only admins and members can rename projects.")
                return

            async def rename_project(name: str) -> None:
                await backend.update_project(project.id, name=name)

            renamed = await self._ask_name("Rename project", project.name, rename_project)
        else:
            team = sel.team
            if not permissions.can_rename_team(role):
                self._refused("Only the team's admins can rename it.")
                return

            async def rename_team(name: str) -> None:
                await backend.rename_team(team.id, name)

            renamed = await self._ask_name("Rename team", team.name, rename_team)
        if renamed:
            self.load_workspace()

    async def _ask_name(
        self, title: str, current: str, rename: Callable[[str], Awaitable[None]]
    ) -> bool:
        """Ask for a new name and ``rename`` to it inside the dialog; True when renamed."""
        from devsync_tui.dashboard.screens.dialogs import Field, FormDialog, FormValues

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
        from devsync_tui.dashboard.screens.dialogs import ConfirmDialog

        session, sel = self.session, self.selection
        if session is None or sel is None:
            return
        role = session.role_in(sel.team.id)
        backend = session.backend
        if sel.environment is not None:
            env = sel.environment
            if not permissions.can_delete_environment(
                role, env_owner=env.user_id == session.identity.user_id
            ):
                self._refused("Only admins and the environment's owner can delete it.")
                return
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
            if not permissions.can_delete_project(role):
                self._refused("Only the team's admins can delete projects.")
                return
            question = f"Delete project {sel.project.name} with its environments and configuration?"
            if await self.app.push_screen_wait(ConfirmDialog(question)):
                await attempt(
                    self.app,
                    backend.delete_project(sel.project.id),
                    done=f"Project {sel.project.name} deleted.",
                )
                self.load_workspace()
        else:
            if not permissions.can_delete_team(
                role, is_team_owner=sel.team.owner_id == session.identity.user_id
            ):
                self._refused("Only the team's owner can delete it.")
                return
            question = f"Delete team {sel.team.name} with all its projects?"
            if await self.app.push_screen_wait(ConfirmDialog(question)):
                await attempt(
                    self.app,
                    backend.delete_team(sel.team.id),
                    done=f"Team {sel.team.name} deleted.",
                )
                self.load_workspace()
