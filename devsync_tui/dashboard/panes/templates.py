"""The Templates tab: a project's environment templates; create one from what is selected,
delete (admins or the creator)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.core import clock, permissions
from devsync_tui.core.models import ConfigType, EnvTemplate
from devsync_tui.core.wording import count
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, Field, FormDialog, FormValues
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.dashboard.widgets.filter_table import FilterableTable, Row
from devsync_tui.dashboard.writes import attempt

#: The longest template name the database takes (``env_templates_name_check``, as for
#: projects and environments).
MAX_NAME = 200
#: Cells the columns after the name take (Keys, Packages, Public, Created and the padding).
OTHER_COLUMNS = 38


class TemplatesLoaded(Message):
    def __init__(self, project_id: UUID, templates: list[EnvTemplate]) -> None:
        super().__init__()
        self.project_id = project_id
        self.templates = templates


class TemplatesPane(Vertical):
    """Templates of the selected project."""

    BINDINGS = cmd.bindings(cmd.TEMPLATE_NEW, cmd.TEMPLATE_DELETE)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.selection: Selection | None = None
        self.templates: list[EnvTemplate] = []

    def compose(self) -> ComposeResult:
        yield Static("Select a project.", id="templates-hint", classes="pane-hint")
        yield FilterableTable(
            ("Template", "Keys", "Packages", "Public", "Created"), id="templates-rows"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Creating templates: admins and members, never viewers. Deleting the one under the
        cursor: admins, or its creator while a member."""
        if action in ("new_template", "delete_template"):
            sel, session = self.selection, self.session
            if sel is None or session is None or sel.project is None:
                return False
            role = session.role_in(sel.team.id)
            if action == "new_template":
                return permissions.can_create_template(role)
            template = self._selected() if self.templates else None
            return template is not None and permissions.can_delete_template(
                role, is_creator=template.created_by == session.identity.user_id
            )
        return True

    def _selected(self) -> EnvTemplate | None:
        key = self.query_one(FilterableTable).cursor_key
        return next((t for t in self.templates if str(t.id) == key), None)

    @on(DataTable.RowHighlighted)
    def _row_moved(self) -> None:
        self.refresh_bindings()  # delete follows the row (the creator's own, for a member)

    def on_resize(self) -> None:
        # Also when the tree is hidden or shown (ctrl+b): names are cut to the pane's width.
        if self.templates:
            self._show_rows()

    def show(self, session: Session, selection: Selection) -> None:
        self.session, self.selection = session, selection
        if selection.project is None:
            self.templates = []
            self.query_one(FilterableTable).set_rows([])
            self.query_one("#templates-hint", Static).update(
                "Select a project to see its environment templates."
            )
            return
        self.load()

    @work(exclusive=True, group="templates-load", exit_on_error=False)
    async def load(self) -> None:
        sel = self.selection
        if self.session is None or sel is None or sel.project is None:
            return
        templates = await self.session.backend.list_templates(sel.project.id)
        self.post_message(TemplatesLoaded(sel.project.id, templates))

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        """Reading the templates failed (offline, a cached view): say why, not "Select"."""
        if event.worker.group != "templates-load" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.query_one("#templates-hint", Static).update(load_failure(self, "the templates", error))

    def on_templates_loaded(self, message: TemplatesLoaded) -> None:
        sel = self.selection
        if sel is None or sel.project is None or sel.project.id != message.project_id:
            return
        self.templates = sorted(message.templates, key=lambda t: t.name.lower())
        self._show_rows()
        self.refresh_bindings()
        hint = (
            f"{count(len(self.templates), 'template')} for {sel.project.name}. A new environment "
            f"({cmd.key_name(self.app, cmd.TREE_NEW)} in the tree) can start from one."
        )
        self.query_one("#templates-hint", Static).update(hint)

    def _show_rows(self) -> None:
        """The rows, each name cut with … to what the pane leaves it (the other columns stay
        on screen); the filter searches the whole name."""
        table = self.query_one(FilterableTable)
        width = max(16, (table.table.size.width or self.size.width or 100) - OTHER_COLUMNS)
        rows = [
            Row(
                str(t.id),
                (
                    _cut(t.name, width),
                    str(len(t.config_json)),
                    str(len(t.dependencies_json)),
                    "yes" if t.is_public else "",
                    clock.ago(t.created_at),
                ),
                t.name,
            )
            for t in self.templates
        ]
        table.set_rows(rows)

    def apply_live(self, batch: LiveBatch) -> None:
        sel = self.selection
        if sel is None or sel.project is None:
            return
        if batch.resync or any(
            e.table == "env_templates" and e.project_id == sel.project.id for e in batch.changes
        ):
            self.load()

    # -- actions -------------------------------------------------------------------------
    def action_new_template(self) -> None:
        sel, session = self.selection, self.session
        if sel is None or session is None or sel.project is None:
            return
        if not permissions.can_create_template(session.role_in(sel.team.id)):
            self.app.notify("Only admins and members can create templates.", severity="warning")
            return
        self._create()

    @work(group="templates-write", exit_on_error=False)
    async def _create(self) -> None:
        sel, session = self.selection, self.session
        if sel is None or session is None or sel.project is None:
            return
        source = sel.environment.name if sel.environment else f"{sel.project.name} defaults"
        backend, project_id, project_name = session.backend, sel.project.id, sel.project.name
        env_id = sel.environment.id if sel.environment else None
        role = session.role_in(sel.team.id)
        left_out: list[str] = []

        async def create(values: FormValues) -> str | None:
            if env_id is not None:
                rows = await backend.effective_configuration(env_id)
            else:
                rows = await backend.project_configuration(project_id)
            kept = [r for r in rows if not r.is_secret]
            left_out[:] = [
                r.key for r in kept if not permissions.can_put_in_template(role, r.key, r.type)
            ]
            config: dict[str, Any] = {
                r.key: {"value": r.value or "", "type": r.type.value}
                if r.type is ConfigType.FILE
                else (r.value or "")
                for r in kept
                if r.key not in left_out
            }
            deps = await backend.list_dependencies(project_id, environment_ids=[env_id])
            packages = [
                {"package_manager": d.package_manager.value, "package_name": d.package_name,
                 "version_constraint": d.version_constraint,
                 "resolved_version": d.resolved_version}
                for d in deps
            ]  # fmt: skip
            name = str(values["name"])
            try:
                await backend.create_template(
                    project_id, name, config, packages, bool(values["public"])
                )
            except InvalidInput:
                # The database refuses a second template of that name in the project (as it
                # does a second environment); say which name and where.
                if not any(
                    t.name == name and t.project_id == project_id
                    for t in await backend.list_templates(project_id)
                ):
                    raise
                return f'A template named "{name}" already exists in {project_name}.'
            return None

        values = await self.app.push_screen_wait(FormDialog(
            "New environment template",
            [Field("name", "Name", placeholder="laptop", max_length=MAX_NAME),
             Field("public", "Public (everyone signed in may read it)", "check", False)],
            submit="Create", required=["name"], on_submit=create,
            note=f"Copies the configuration and dependencies of {source}. Secret values are "
            "never copied into a template: their keys are left out"
            + ("." if permissions.can_put_in_template(role, "PATH") else
               ", and so are keys only admins may set (PATH, .npmrc, …)."),
        ))  # fmt: skip
        if values:
            without = (
                f" without {', '.join(left_out)} (only admins may put "
                f"{'it' if len(left_out) == 1 else 'them'} in a template)"
                if left_out
                else ""
            )
            self.app.notify(f"Template {values['name']} created{without}.")
            self.load()

    def action_delete_template(self) -> None:
        sel, session = self.selection, self.session
        template = self._selected()
        if sel is None or session is None or template is None:
            return
        if not permissions.can_delete_template(
            session.role_in(sel.team.id), is_creator=template.created_by == session.identity.user_id
        ):
            self.app.notify(
                "Only admins and the template's creator can delete it.", severity="warning"
            )
            return
        self._delete(template)

    @work(group="templates-write", exit_on_error=False)
    async def _delete(self, template: EnvTemplate) -> None:
        assert self.session is not None
        if await self.app.push_screen_wait(ConfirmDialog(f"Delete template {template.name}?")):
            await attempt(
                self.app,
                self.session.backend.delete_template(template.id),
                done=f"Template {template.name} deleted.",
            )
            self.load()


def _cut(name: str, width: int) -> Text:
    """``name`` in at most ``width`` cells, cut with … when longer (wide characters count
    twice)."""
    text = Text(name, no_wrap=True)
    text.truncate(width, overflow="ellipsis")
    return text
