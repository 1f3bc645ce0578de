"""The Configuration tab: a project's defaults, or an environment's effective configuration
with the source of every value. Secrets are masked; `r` reveals for those who may.

The pane draws the rows and the detail line and says what may be done to the selected row; its
mixins hold the rest: whole reads (``config_load``), live changes (``config_live``), revealed
secrets (``config_reveal``) and the keys' actions (``config_actions``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from uuid import UUID

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane

from devsync_tui.core import clock
from devsync_tui.core.config_states import ConfigState
from devsync_tui.core.models import EffectiveConfigRow
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.palette import JumpTarget
from devsync_tui.dashboard.panes.config_actions import ConfigActions, ConfigView
from devsync_tui.dashboard.panes.config_cells import (
    ALL_COLUMNS,
    CellMaker,
    Layout,
    RowWidths,
    detail_value,
    layout_for,
    origin,
    row_widths,
)
from devsync_tui.dashboard.panes.config_live import AGE_TICK_SECONDS, LiveRows, Missing
from devsync_tui.dashboard.panes.config_load import ViewLoading
from devsync_tui.dashboard.panes.config_reveal import RevealedSecrets
from devsync_tui.dashboard.session import Access, Session
from devsync_tui.dashboard.widgets.filter_table import FilterableTable, KeyTable, Row


class ConfigTable(KeyTable):
    BINDINGS = cmd.bindings(cmd.CFG_EDIT)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `enter` edits: offered only where the user may change something.
        if action == "select_cursor":
            for pane in self.ancestors:
                if isinstance(pane, ConfigurationPane):
                    return pane.check_action("edit", parameters)
        return True


class ConfigurationPane(ViewLoading, RevealedSecrets, LiveRows, ConfigActions, Vertical):
    """Key, value (masked), type, scope, version, changed by/at."""

    # The detail under the table stays a few lines (a long value is shortened in it), so
    # the table keeps its room.
    DEFAULT_CSS = """
    ConfigurationPane > #config-detail { max-height: 6; overflow: hidden hidden; }
    """

    BINDINGS = cmd.bindings(
        cmd.CFG_NEW,
        cmd.CFG_DELETE,
        cmd.CFG_REVEAL,
        cmd.CFG_COPY,
        cmd.CFG_HISTORY,
        cmd.CFG_EXPORT,
        cmd.CFG_COMPARE,
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.view: ConfigView | None = None
        self.revealed: dict[UUID, str] = {}
        self._mask_timers: dict[UUID, Timer] = {}
        self._layout: Layout | None = None
        #: What each shown row's cells take, by key, as drawn (``config_cells.RowWidths``).
        self._row_widths: dict[str, RowWidths] = {}
        #: Each shown row's age as drawn ("3 min ago"), for the tick that keeps them current.
        self._ages: dict[str, str] = {}
        #: The shown project's defaults (an environment's overrides name the one they replace)
        #: and template names by id, read after the view.
        self._defaults: dict[UUID, EffectiveConfigRow] = {}
        self._templates: dict[UUID, tuple[str, frozenset[str]]] = {}
        #: The keys each of those templates marks required (the missing line's).
        self._required: dict[UUID, frozenset[str]] = {}
        #: A key the palette jumped to, to put the cursor on once its view is shown.
        self._pending_key: str | None = None
        #: The machine copies that drift, by environment and key (the Config drift tab's).
        self.machine_drift: dict[UUID, dict[str, ConfigState]] = {}
        #: The shown view's missing line (kept for a live change, which re-reads only keys).
        self._missing: Missing = ((), None)
        #: The newest whole read, and whether its answer is still to come.
        self._load = 0
        self._loading = False
        #: The newest keyed read of each key still to come (an older answer is not shown).
        self._key_reads: dict[str, int] = {}
        self._key_read = 0
        #: Bumped when rights may have changed: a reveal asked for before is not shown.
        self._rights = 0

    def set_machine_drift(
        self, environment_ids: Sequence[UUID], states: Sequence[ConfigState]
    ) -> None:
        """Mark the keys whose machine copy drifts (the reported states of these machines)."""
        drift = {e: k for e, k in self.machine_drift.items() if e not in set(environment_ids)}
        for state in states:
            if state.drifted:
                drift.setdefault(state.environment_id, {})[state.key] = state
        if drift == self.machine_drift:
            return
        self.machine_drift = drift
        if self.view is not None and self.view.rows:
            self._show_rows()

    def on_mount(self) -> None:
        self.set_interval(AGE_TICK_SECONDS, self.refresh_ages, name="config-ages")

    def compose(self) -> ComposeResult:
        # Empty until there is a selection (or a reason there is none) to speak of.
        yield Static("", id="config-hint", classes="pane-hint")
        required = Static("", id="config-required", classes="pane-hint")
        required.display = False  # only when a required key is missing
        yield required
        yield FilterableTable(ALL_COLUMNS, table=ConfigTable(id="config-table"), id="config-rows")
        yield Static("", id="config-detail", classes="pane-detail")

    @property
    def rows_table(self) -> FilterableTable:
        return self.query_one("#config-rows", FilterableTable)

    @property
    def required_line(self) -> Static:
        """The line naming the required keys the environment lacks (``config_required``)."""
        return self.query_one("#config-required", Static)

    @property
    def access(self) -> Access | None:
        if self.session is None or self.view is None:
            return None
        return Access.of(self.session, self.view.selection)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the user may do to the selected row (PERMISSIONS.md, through
        ``Access``): no reveal or copy of a secret they may not see, no edit or delete
        outside the scope they may write (another member's environment, a viewer's anything,
        a read-only dashboard)."""
        if action == "compare":  # an environment, and another one to compare it with
            view = self.view
            return bool(
                view and view.selection.environment and len(view.selection.environments) > 1
            )
        if action == "export":  # a scope with keys (not a team, not an empty view)
            return bool(self.view and self.view.rows)
        if action == "history":
            return self.selected() is not None
        if action not in ("new", "edit", "delete", "reveal", "copy"):
            return True
        access, view = self.access, self.view
        if access is None or view is None:
            return False
        env_id = view.selection.environment.id if view.selection.environment else None
        if action == "new":
            return access.can_edit_config(env_id)
        row = self.selected()
        if row is None:
            return False
        if action == "reveal":  # also to mask: what is revealed was allowed by these rights
            return row.is_secret and access.can_reveal(row.environment_id)
        if action == "copy":
            return not row.is_secret or access.can_reveal(row.environment_id)
        if action == "delete" and env_id is not None and row.environment_id is None:
            return False  # a default inherited here is deleted from the project's view
        # In an environment, editing an inherited default makes an override there: both
        # need the right to write this scope; an execution-control key (PATH, …) is for
        # admins only.
        return access.can_edit_config(env_id, row.key, row.type)

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
        cells = CellMaker(access, dict(self.revealed), self._in_env())
        self._row_widths = {r.key: row_widths(r, cells) for r in view.rows}
        layout = layout_for(self._row_widths.values(), self._width())
        if layout.columns != (self._layout.columns if self._layout else ALL_COLUMNS):
            self.rows_table.set_columns(layout.columns)
        self._layout = layout
        self.rows_table.set_rows([self._machine_marked(cells.row(r, layout)) for r in view.rows])
        self._ages = {r.key: clock.ago(r.updated_at) for r in view.rows}
        if not view.rows:
            new_key = cmd.key_name(self.app, cmd.CFG_NEW)
            self._hint(f"No configuration here yet. Press {new_key} to add a key.")
        self._update_detail()

    def _width(self) -> int:
        # The value column gets the room the other columns leave (measured from their cells:
        # the table sizes every column to its widest cell); where that is too little, the
        # columns the detail line also says (type, version, who changed it) give way.
        return self.rows_table.table.size.width or self.size.width or 100

    def _machine_marked(self, row: Row) -> Row:
        """The row with its machine copy's state after the key (≠, -, +, < vN) when the
        environment's machine reported that it drifts (the Config drift tab's states)."""
        env = self.view.selection.environment if self.view else None
        machine = self.machine_drift.get(env.id, {}).get(row.key) if env else None
        if machine is None:
            return row
        # Imported with the first drifting key (not before the first frame).
        from devsync_tui.dashboard.widgets.config_drift_matrix import cell_text

        first = row.cells[0]
        key = first.copy() if isinstance(first, Text) else Text(str(first))
        key.append(" " + cell_text(machine), style="yellow")
        return Row(row.key, (key, *row.cells[1:]), row.search)

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
        row, access, view = self.selected(), self.access, self.view
        detail = self.query_one("#config-detail", Static)
        if row is None or access is None or view is None:
            detail.update("")
            return
        revealed = self.revealed.get(row.configuration_id)
        may_reveal = access.can_reveal(row.environment_id)
        env = view.selection.environment
        default = self._defaults.get(row.overrides_id) if row.overrides_id else None
        template = None
        if env is not None and env.template_id in self._templates:
            name, keys = self._templates[env.template_id]
            template = name if row.key in keys and row.environment_id is not None else None
        parts = [origin(row, env.name if env else None, default, template)]
        if row.is_secret:
            if revealed is not None:
                reveal_key = cmd.key_name(self.app, cmd.CFG_REVEAL)
                parts.append(f"Revealed; masked again shortly or on {reveal_key}.")
            elif may_reveal:
                parts.append(
                    f"Secret: {cmd.key_name(self.app, cmd.CFG_REVEAL)} reveals it "
                    "(the reveal is recorded)."
                )
            else:
                parts.append(f"🔒 {access.reveal_reason(row.environment_id)}")
        machine = self.machine_drift.get(env.id, {}).get(row.key) if env else None
        if machine is not None:
            from devsync_tui.dashboard.widgets.config_drift_matrix import state_words

            parts.append(f"The machine's copy: {state_words(machine)}.")
        value = detail_value(row, revealed, may_reveal, self._detail_width(), self._whole_at())
        # A file's "enter opens it": enter opens it to edit, promised only where offered.
        opens = " (enter opens it)"
        if value.plain.endswith(opens) and not self.check_action("edit", ()):
            value.right_crop(len(opens))
        detail.update(Text.assemble(value, "\n", "  ".join(parts)))

    def _detail_width(self) -> int:
        """The cells a line of the detail has (inside its padding)."""
        detail = self.query_one("#config-detail", Static)
        return max(20, (detail.content_region.width or self._width()) - 1)

    def _whole_at(self) -> str:
        """Where a shortened value is seen whole: the keys offered for this row."""
        ways = []
        if self.check_action("edit", ()):
            ways.append("enter opens it")
        if self.check_action("copy", ()):
            ways.append(f"{cmd.key_name(self.app, cmd.CFG_COPY)} copies it")
        return ", ".join(ways)

    # -- jumping to a key (the palette) --------------------------------------------------
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

    def go_to_key_when_shown(self, key: str) -> None:
        """Put the cursor on ``key`` now if it is on screen, else once the view loads."""
        view = self.view
        loading = view is None or not self.rows_table.table.row_count
        if not loading and view is not None and any(r.key == key for r in view.rows):
            self.go_to_key(key)
        else:
            self._pending_key = key

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
