"""Create, rename and delete teams, projects and environments from the navigation tree."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from uuid import UUID

from textual import work

from devsync_tui.core import permissions
from devsync_tui.screens.context import Selection, Session
from devsync_tui.screens.writes import attempt

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
        from devsync_tui.screens.dialogs import Field, FormDialog

        session = self.session
        if session is None:
            return
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
            )
        )
        if not values:
            return
        name = str(values["name"])
        slug = str(values["slug"]) or slugify(name)
        team = await attempt(
            self.app, session.backend.create_team(name, slug), done=f"Team {name} created."
        )
        if team is not None:
            self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_project(self, sel: Selection) -> None:
        from devsync_tui.screens.dialogs import Field, FormDialog

        session = self.session
        if session is None:
            return
        if not permissions.can_create_project(session.role_in(sel.team.id)):
            self._refused("Only admins and members can create projects.")
            return
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
            )
        )
        if not values:
            return
        project = await attempt(
            self.app,
            session.backend.create_project(
                sel.team.id,
                str(values["name"]),
                str(values["description"]) or None,
                str(values["repository_url"]) or None,
            ),
            done=f"Project {values['name']} created.",
        )
        if project is not None:
            self.load_workspace()

    @work(group="tree-write", exit_on_error=False)
    async def _new_environment(self, sel: Selection) -> None:
        from devsync_tui.screens.dialogs import Field, FormDialog

        session = self.session
        if session is None or sel.project is None:
            return
        if not permissions.can_create_environment(session.role_in(sel.team.id)):
            self._refused("Only admins and members can create environments.")
            return
        templates = await attempt(self.app, session.backend.list_templates(sel.project.id))
        options = [(t.name, str(t.id)) for t in templates or []]
        fields = [Field("name", "Name", placeholder=f"{session.identity.username}-laptop")]
        if options:
            fields.append(Field("template", "From template (optional)", "select", "", options))
        values = await self.app.push_screen_wait(
            FormDialog(
                f"New environment in {sel.project.name}",
                fields,
                submit="Create",
                required=["name"],
                note="The environment will be yours; a template copies its configuration "
                "and dependencies in.",
            )
        )
        if not values:
            return
        template = str(values.get("template") or "")
        env = await attempt(
            self.app,
            session.backend.create_environment(
                sel.project.id, str(values["name"]), UUID(template) if template else None
            ),
            done=f"Environment {values['name']} created.",
        )
        if env is not None:
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
            name = await self._ask_name("Rename environment", env.name)
            if (
                name
                and name != env.name
                and await attempt(self.app, backend.rename_environment(env.id, name))
            ):
                self.load_workspace()
        elif sel.project is not None:
            if not permissions.can_edit_project(role):
                self._refused("Only admins and members can rename projects.")
                return
            name = await self._ask_name("Rename project", sel.project.name)
            if (
                name
                and name != sel.project.name
                and await attempt(self.app, backend.update_project(sel.project.id, name=name))
            ):
                self.load_workspace()
        else:
            if not permissions.can_rename_team(role):
                self._refused("Only the team's admins can rename it.")
                return
            name = await self._ask_name("Rename team", sel.team.name)
            if (
                name
                and name != sel.team.name
                and await attempt(self.app, backend.rename_team(sel.team.id, name))
            ):
                self.load_workspace()

    async def _ask_name(self, title: str, current: str) -> str:
        from devsync_tui.screens.dialogs import Field, FormDialog

        values = await self.app.push_screen_wait(
            FormDialog(title, [Field("name", "New name", value=current)], required=["name"])
        )
        return str(values["name"]) if values else ""

    @work(group="tree-write", exit_on_error=False)
    async def _delete(self) -> None:
        from devsync_tui.screens.dialogs import ConfirmDialog

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
