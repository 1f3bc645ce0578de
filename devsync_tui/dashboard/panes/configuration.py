"""The Configuration tab: a project's defaults, or an environment's effective configuration
with the source of every value. Secrets are masked; `r` reveals for those who may."""

from __future__ import annotations

import logging
from functools import partial
from uuid import UUID

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError, PermissionDenied
from devsync_tui.core import clock
from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from devsync_tui.core.printable import visible
from devsync_tui.core.wording import count
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.palette import JumpTarget
from devsync_tui.dashboard.panes.config_actions import ConfigActions, ConfigView
from devsync_tui.dashboard.panes.config_required import missing_line, read_missing
from devsync_tui.dashboard.session import Access, Selection, Session
from devsync_tui.dashboard.widgets.filter_table import FilterableTable, KeyTable, Row
from devsync_tui.dashboard.workspace import read_rows
from devsync_tui.logging_setup import register_secret

log = logging.getLogger("devsync.ui")

MASK = "••••••••"
COLUMNS = ("Key", "Value", "Type", "Scope", "Ver", "Changed")
#: Value column width bounds (long values are cut; `enter` shows all).
VALUE_MIN, VALUE_MAX = 10, 120
#: Room beside the cells: each column's padding (1 each side) and the vertical scrollbar.
OTHER_COLUMNS = 2 * len(COLUMNS) + 2


class ConfigTable(KeyTable):
    BINDINGS = cmd.bindings(cmd.CFG_EDIT)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `enter` edits: offered only where the user may change something.
        if action == "select_cursor":
            for pane in self.ancestors:
                if isinstance(pane, ConfigurationPane):
                    return pane.check_action("edit", parameters)
        return True


class ConfigLoaded(Message):
    def __init__(
        self, view: ConfigView, flash: frozenset[str], missing: tuple[tuple[str, ...], str | None]
    ) -> None:
        super().__init__()
        self.view = view
        self.flash = flash
        self.missing = missing  # required keys the environment lacks, its template's name


class SecretRevealed(Message):
    def __init__(self, configuration_id: UUID, value: str, then_copy: bool) -> None:
        super().__init__()
        self.configuration_id = configuration_id
        self.value = value
        self.then_copy = then_copy


class ConfigurationPane(ConfigActions, Vertical):
    """Key, value (masked), type, scope, version, changed by/at."""

    BINDINGS = cmd.bindings(
        cmd.CFG_NEW,
        cmd.CFG_DELETE,
        cmd.CFG_REVEAL,
        cmd.CFG_COPY,
        cmd.CFG_HISTORY,
        cmd.CFG_EXPORT,
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.view: ConfigView | None = None
        self.revealed: dict[UUID, str] = {}
        self._mask_timers: dict[UUID, Timer] = {}
        self._value_width = VALUE_MAX

    def compose(self) -> ComposeResult:
        # Empty until there is a selection (or a reason there is none) to speak of.
        yield Static("", id="config-hint", classes="pane-hint")
        required = Static("", id="config-required", classes="pane-hint")
        required.display = False  # only when a required key is missing
        yield required
        yield FilterableTable(COLUMNS, table=ConfigTable(id="config-table"), id="config-rows")
        yield Static("", id="config-detail", classes="pane-detail")

    @property
    def rows_table(self) -> FilterableTable:
        return self.query_one("#config-rows", FilterableTable)

    @property
    def access(self) -> Access | None:
        if self.session is None or self.view is None:
            return None
        return Access.of(self.session, self.view.selection)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the writing keys from users who may not write here (PERMISSIONS.md)."""
        if action in ("new", "edit", "delete"):
            access = self.access
            if access is None:
                return False
            env_id = (
                self.view.selection.environment.id
                if self.view and self.view.selection.environment
                else None
            )
            if action == "new":
                return access.can_edit_config(env_id)
            row = self.selected()
            if row is not None and not access.can_edit_config(
                row.environment_id, row.key, row.type
            ):
                return False  # an execution-control variable (PATH, …): admins only
            return access.can_edit_config(env_id) or access.can_edit_config(None)
        return True

    # -- loading -------------------------------------------------------------------------
    def show(self, session: Session, selection: Selection) -> None:
        """Show the configuration of the selected project or environment."""
        self.session = session
        same = (
            self.view is not None
            and self.view.selection.project == selection.project
            and self.view.selection.environment == selection.environment
        )
        if not same:
            self._mask_all()
            self.query_one("#config-required", Static).display = False
        if selection.project is None:
            self.view = None
            self.rows_table.set_rows([])
            self._hint("Select a project or an environment to see its configuration.")
            return
        if not same:
            self.view = ConfigView(selection, ())
            self.rows_table.set_rows([])
            self._hint("Loading…")
        else:
            assert self.view is not None
            self.view = ConfigView(selection, self.view.rows)
        answer_now = getattr(session.backend, "answer_now", None)
        answered = answer_now(partial(_first_view, selection=selection)) if answer_now else None
        if answered is not None:  # the opening read (or a warm start's): on the first frame
            rows, missing = answered
            self.on_config_loaded(ConfigLoaded(ConfigView(selection, rows), frozenset(), missing))
            return
        self.load(selection, frozenset())

    @work(exclusive=True, group="config-load", exit_on_error=False)
    async def load(self, selection: Selection, flash: frozenset[str]) -> None:
        session = self.session
        if session is None or selection.project is None:
            return
        rows, missing = await _first_view(session.backend, selection)
        self.post_message(ConfigLoaded(ConfigView(selection, rows), flash, missing))

    def on_config_loaded(self, message: ConfigLoaded) -> None:
        current = self.view
        if current is None or current.selection.project != message.view.selection.project:
            return
        if current.selection.environment != message.view.selection.environment:
            return
        self.view = message.view
        required = self.query_one("#config-required", Static)
        required.update(missing_line(*message.missing) if message.missing[0] else "")
        required.display = bool(message.missing[0])
        self._show_rows()
        self.refresh_bindings()
        self.rows_table.table.refresh_bindings()
        if message.flash:
            self.rows_table.flash(message.flash)

    def apply_live(self, batch: LiveBatch) -> None:
        """Re-read when a configuration of the shown project changed; flash those keys."""
        view = self.view
        if view is None or view.selection.project is None:
            return
        project_id = view.selection.project.id
        keys: set[str] = set()
        relevant = batch.resync
        for event in batch.changes:
            if event.table == "configurations" and event.project_id == project_id:
                relevant = True
                key = getattr(event.row, "key", None)
                if key is None:  # a delete: find the key by the id we showed
                    key = next(
                        (r.key for r in view.rows if str(r.configuration_id) == event.id), None
                    )
                if key:
                    keys.add(key)
                if _is_uuid(event.id):  # a revealed value that changed is stale
                    self.revealed.pop(UUID(event.id), None)
        if relevant:
            self.load(view.selection, frozenset(keys))

    # -- rendering -----------------------------------------------------------------------
    def _hint(self, text: str) -> None:
        self.query_one("#config-hint", Static).update(text)

    def _show_rows(self) -> None:
        view = self.view
        access = self.access
        if view is None or access is None:
            return
        sel = view.selection
        if sel.environment is not None:
            self._hint(f"{sel.environment.name}: effective = project defaults + its overrides")
        else:
            assert sel.project is not None
            self._hint(f"{sel.project.name}: project defaults (every environment inherits them)")
        self._value_width = VALUE_MAX
        rows = [self._row(r, access) for r in view.rows]
        # The value column gets the room the other columns leave (measured from their cells:
        # the table sizes every column to its widest cell), so that hiding the tree or a
        # wider terminal shows more of each value.
        room = (self.size.width or 100) - _other_columns_width(rows)
        width = max(VALUE_MIN, min(VALUE_MAX, room))
        if width != self._value_width:
            self._value_width = width
            rows = [self._row(r, access) for r in view.rows]
        self.rows_table.set_rows(rows)
        if not rows:
            new_key = cmd.key_name(self.app, cmd.CFG_NEW)
            self._hint(f"No configuration here yet. Press {new_key} to add a key.")
        self._update_detail()

    def _row(self, r: EffectiveConfigRow, access: Access) -> Row:
        if r.is_secret:
            shown = self.revealed.get(r.configuration_id)
            if shown is not None:
                value = Text(_one_line(shown, self._value_width), style="bold yellow")
            elif access.can_reveal(r.environment_id):
                value = Text(MASK, style="dim")
            else:
                value = Text.assemble((MASK, "dim"), " 🔒")
        elif r.value is None:
            value = Text("")
        elif r.type is ConfigType.FILE:
            lines = r.value.count("\n") + (0 if r.value.endswith("\n") else 1)
            value = Text(f"{count(lines, 'line')}, {len(r.value.encode())} B", style="italic")
        else:
            value = Text(_one_line(r.value, self._value_width))
        kind = "file" if r.type is ConfigType.FILE else "env"
        if r.environment_id is None:
            scope = Text("default", style="dim") if self._in_env() else Text("project")
        else:
            scope = Text("override", style="bold")
        who = r.updated_by or "?"
        changed = f"{who} · {clock.ago(r.updated_at)}"
        cells = (Text(r.key, style="bold"), value, kind, scope, str(r.version), changed)
        return Row(r.key, cells, f"{r.key} {who}")

    def _in_env(self) -> bool:
        return self.view is not None and self.view.selection.environment is not None

    def selected(self) -> EffectiveConfigRow | None:
        view = self.view
        key = self.rows_table.cursor_key
        if view is None or key is None:
            return None
        return next((r for r in view.rows if r.key == key), None)

    def on_resize(self) -> None:
        # Also when the tree is hidden or shown (ctrl+b): the pane's width changes then.
        if self.view is not None and self.view.rows:
            self._show_rows()

    @on(DataTable.RowSelected, "#config-table")
    def _row_chosen(self) -> None:
        # Declared here, not in the ConfigActions mixin: @on handlers register per class body.
        self.action_edit()

    @on(DataTable.RowHighlighted)
    def _row_moved(self) -> None:
        self._update_detail()
        self.refresh_bindings()  # edit/delete follow the row (execution-control keys)

    @on(Input.Changed, "#filter")
    def _filtered(self) -> None:
        # The table (handled first, it is nearer) has re-rendered its rows: a cursor that
        # stays at row 0 or a table left empty sends no RowHighlighted, so say it here.
        self._update_detail()

    def _update_detail(self) -> None:
        row, access = self.selected(), self.access
        detail = self.query_one("#config-detail", Static)
        if row is None or access is None:
            detail.update("")
            return
        parts: list[str] = []
        if row.is_secret:
            if row.configuration_id in self.revealed:
                reveal_key = cmd.key_name(self.app, cmd.CFG_REVEAL)
                parts.append(f"Revealed; masked again shortly or on {reveal_key}.")
            elif access.can_reveal(row.environment_id):
                parts.append(
                    f"Secret: {cmd.key_name(self.app, cmd.CFG_REVEAL)} reveals it "
                    "(the reveal is recorded)."
                )
            else:
                parts.append(f"🔒 {access.reveal_reason(row.environment_id)}")
        if self._in_env():
            parts.append(
                "Overrides the project default."
                if row.source == "override" and row.overrides_id
                else "Set for this environment only."
                if row.source == "override"
                else "Inherited from the project default."
            )
        detail.update("  ".join(parts))

    # -- reveal and mask -----------------------------------------------------------------
    @work(group="config-reveal", exit_on_error=False)
    async def fetch_secret(self, configuration_id: UUID, then_copy: bool) -> None:
        session = self.session
        if session is None:
            return
        try:
            value = await session.backend.reveal_secret(configuration_id)
        except PermissionDenied:
            self.app.notify("You are not allowed to see this secret.", severity="error")
            return
        except DevSyncError as exc:
            self.app.notify(str(exc) or "The secret could not be read.", severity="error")
            return
        register_secret(value)
        self.post_message(SecretRevealed(configuration_id, value, then_copy))

    def on_secret_revealed(self, message: SecretRevealed) -> None:
        if self.session is None:  # only a session reveals
            return
        self.revealed[message.configuration_id] = message.value
        old = self._mask_timers.pop(message.configuration_id, None)
        if old is not None:
            old.stop()
        self._mask_timers[message.configuration_id] = self.set_timer(
            self.session.settings.reveal_timeout, partial(self.mask, message.configuration_id)
        )
        if message.then_copy:
            self.app.copy_to_clipboard(message.value)
            self.app.notify("Copied the secret to the clipboard.")
        self._show_rows()

    def mask(self, configuration_id: UUID) -> None:
        self.revealed.pop(configuration_id, None)
        timer = self._mask_timers.pop(configuration_id, None)
        if timer is not None:
            timer.stop()
        if self.is_mounted:
            self._show_rows()

    def _mask_all(self) -> None:
        for timer in self._mask_timers.values():
            timer.stop()
        self._mask_timers.clear()
        self.revealed.clear()

    def jump_targets(self) -> list[JumpTarget]:
        view = self.view
        if view is None:
            return []
        return [
            JumpTarget(
                f"{r.key}",
                f"Configuration key in {view.selection.title}",
                partial(self.go_to_key, r.key),
            )
            for r in view.rows
        ]

    def go_to_key(self, key: str) -> None:
        """Show this pane's tab with the cursor on ``key``."""
        tab = next(a for a in self.ancestors if isinstance(a, TabPane))
        self.screen.query_one(TabbedContent).active = tab.id or ""
        table = self.rows_table.table
        try:
            table.move_cursor(row=table.get_row_index(key))
        except Exception:  # filtered out
            self.rows_table.action_clear_filter()
            table.move_cursor(row=table.get_row_index(key))
        table.focus()


def _other_columns_width(rows: list[Row]) -> int:
    """What every column but the value takes: its widest cell or label, plus the padding."""
    total = OTHER_COLUMNS
    for i, label in enumerate(COLUMNS):
        if i == 1:
            continue
        total += max([cell_len(label), *(_cell_width(row.cells[i]) for row in rows)])
    return total


def _cell_width(cell: object) -> int:
    if isinstance(cell, Text):
        return max((line.cell_len for line in cell.split("\n")), default=0)
    return max((cell_len(line) for line in str(cell).split("\n")), default=0)


def _one_line(value: str, width: int) -> str:
    value = visible(value)
    first = value.splitlines()[0] if value else ""
    if "\n" not in value and len(first) <= width:
        return first
    return first[: max(1, width - 1)] + "…"


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


async def _first_view(
    backend: Backend, selection: Selection
) -> tuple[tuple[EffectiveConfigRow, ...], tuple[tuple[str, ...], str | None]]:
    """A scope's rows and the required keys it lacks (with its template's name)."""
    assert selection.project is not None
    environment_id = selection.environment.id if selection.environment else None
    rows = await read_rows(backend, selection.project.id, environment_id)
    return rows, await read_missing(backend, selection, rows)
