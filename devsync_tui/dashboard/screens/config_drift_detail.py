"""The key detail of the Config drift view: each machine's state of one key, which version
the chosen machine has, who changed the key since, and the command that fixes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core.config_matrix import ConfigDriftRow
from devsync_tui.core.config_states import ConfigState, DriftState, KeyVersion
from devsync_tui.core.printable import visible
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.config_drift_matrix import StateStyled, state_words
from devsync_tui.dashboard.widgets.virtual_table import CellRender, Column, VirtualTable

#: History lines shown at most.
MAX_CHANGES = 6


@dataclass(frozen=True, slots=True)
class MachineLine:
    environment_id: UUID
    machine: str
    cell: ConfigState | None


def has_version(cell: ConfigState | None) -> str:
    """Which version the machine has, in words."""
    state = cell.drift if cell is not None else None
    if cell is None:
        return "—"
    if state is DriftState.IN_SYNC:
        return f"v{cell.synced_version} (synced)"
    if state is DriftState.BEHIND:
        return f"v{cell.behind_version} of v{cell.synced_version}"
    if state is DriftState.DIFFERS:
        return "another value"
    if state is DriftState.MISSING:
        return "none"
    if state is DriftState.ONLY_LOCAL:
        return "its own (not configured)"
    return "cannot tell"


def fix_for(key: str, cell: ConfigState | None, machine: str) -> str:
    """The command that brings the machine in step, as a sentence."""
    state = cell.drift if cell is not None else None
    if state in (DriftState.DIFFERS, DriftState.BEHIND, DriftState.MISSING):
        return f"Fix: in {machine}'s checkout run `devsync env pull` (it shows the diff first)."
    if state is DriftState.ONLY_LOCAL:
        return (
            f"Fix: add it to the configuration (`devsync env set {key}`) or remove it from "
            f"{machine}'s dotenv file."
        )
    if state is DriftState.UNKNOWN:
        return "The reporter may not reveal this secret: run `devsync env status` as its owner."
    if cell is None:
        return f"{machine} has not reported this key: run `devsync env status` there."
    return f"{machine} has the synced value: nothing to fix."


def changes_since(versions: Sequence[KeyVersion], cell: ConfigState | None) -> list[str]:
    """Who changed the key after the version the machine has (newest first)."""
    since = cell.behind_version if cell is not None and cell.behind_version else 0
    lines = [
        f"v{v.version} {'deleted' if v.op == 'delete' else 'set'} by {v.changed_by or 'someone'}"
        + (f" on {v.changed_at:%Y-%m-%d %H:%M}" if v.changed_at else "")
        for v in sorted(versions, key=lambda v: v.version, reverse=True)
        if v.version > since
    ]
    return lines[:MAX_CHANGES]


class MachineLinesTable(StateStyled[MachineLine]):
    """The dialog's table (the matrix's state colours); says which machine the cursor is on."""

    class Highlighted(Message):
        """The cursor is on another machine's line."""

        def __init__(self, line: MachineLine) -> None:
            super().__init__()
            self.line = line

    def watch_cursor_row(self, old: int, new: int) -> None:
        super().watch_cursor_row(old, new)
        line = self.cursor_value
        if line is not None:
            self.post_message(self.Highlighted(line))

    def show_lines(self, lines: Sequence[MachineLine]) -> None:
        def state(line: MachineLine) -> CellRender:
            return state_words(line.cell), self._style(line.cell)

        def seen(line: MachineLine) -> CellRender:
            at = line.cell.observed_at if line.cell else None
            return (f"{at:%Y-%m-%d %H:%M}" if at else "—"), None

        columns: list[Column[MachineLine]] = [
            Column("machine", 18, lambda line: (visible(line.machine), None)),
            Column("state", 24, state),
            Column("has", 16, lambda line: (has_version(line.cell), None)),
            Column("observed", 18, seen),
        ]
        self.set_columns(columns, fixed=1)
        self.set_rows(list(lines))


class ConfigKeyDetailScreen(ModalScreen[None]):
    """One key across the machines; the history and fix of the machine under the cursor
    (first the one of the matrix cell the dialog was opened on)."""

    BINDINGS = cmd.bindings(cmd.CFGDRIFT_DETAIL_CLOSE)

    DEFAULT_CSS = """
    ConfigKeyDetailScreen {
        align: center middle;
        & > Vertical {
            width: 80;
            max-width: 100%;
            height: auto;
            max-height: 95%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        #cfgdetail-title { text-style: bold; height: 1; }
        #cfgdetail-summary, #cfgdetail-changes { color: $text-muted; height: auto; }
        #cfgdetail-fix { height: auto; }
        MachineLinesTable { height: auto; max-height: 12; }
    }
    """

    def __init__(
        self,
        row: ConfigDriftRow,
        environment_ids: Sequence[UUID],
        names: Mapping[UUID, str],
        focus: UUID | None,
        backend: Backend | None,
    ) -> None:
        super().__init__()
        self.row = row
        self.backend = backend
        self.lines = [
            MachineLine(env_id, names.get(env_id, str(env_id)[:8]), cell)
            for env_id, cell in zip(environment_ids, row.cells, strict=True)
        ]
        drifted = [line for line in self.lines if line.cell is not None and line.cell.drifted]
        chosen = [line for line in self.lines if line.environment_id == focus]
        candidates = chosen or drifted or self.lines
        self.focus_line: MachineLine | None = candidates[0] if candidates else None

    def compose(self) -> ComposeResult:
        line = self.focus_line
        close = cmd.key_name(self.app, cmd.CFGDRIFT_DETAIL_CLOSE)
        with Vertical():
            yield Static(visible(self.row.key), id="cfgdetail-title")
            summary = f"{self.row.drifted_count} of {len(self.lines)} machines drift"
            yield Static(f"{summary} · {close} to close", id="cfgdetail-summary")
            yield MachineLinesTable(id="cfgdetail-table")
            if line is not None:
                yield Static(self._has_text(line), id="cfgdetail-has")
                yield Static("Changes: loading…", id="cfgdetail-changes")
                yield Static(self._fix_text(line), id="cfgdetail-fix")

    def _has_text(self, line: MachineLine) -> str:
        return f"{visible(line.machine)} has {has_version(line.cell)}."

    def _fix_text(self, line: MachineLine) -> str:
        return fix_for(self.row.key, line.cell, visible(line.machine))

    def on_mount(self) -> None:
        table = self.query_one(MachineLinesTable)
        table.show_lines(self.lines)
        table.styles.height = min(len(self.lines) + 1, 12)
        if self.focus_line is not None:
            table.cursor_row = self.lines.index(self.focus_line)
            self._load_changes()
        table.focus()

    def on_machine_lines_table_highlighted(self, event: MachineLinesTable.Highlighted) -> None:
        """The cursor moved to another machine: what it has, its changes and its fix."""
        event.stop()
        line = event.line
        if line is self.focus_line or not self.query("#cfgdetail-has"):
            return
        self.focus_line = line
        self.query_one("#cfgdetail-has", Static).update(self._has_text(line))
        self.query_one("#cfgdetail-fix", Static).update(self._fix_text(line))
        self.query_one("#cfgdetail-changes", Static).update("Changes: loading…")
        self._load_changes()

    @work(exclusive=True, group="cfgdetail", exit_on_error=False)
    async def _load_changes(self) -> None:
        line, backend = self.focus_line, self.backend
        if line is None or backend is None:
            return
        target = self.query_one("#cfgdetail-changes", Static)
        try:
            versions = await backend.key_versions(line.environment_id, [self.row.key])
        except DevSyncError as exc:
            target.update(f"Changes: could not be read ({str(exc).rstrip('.')}).")
            return
        if line is not self.focus_line:
            return  # the cursor moved on meanwhile (its own read follows)
        found = changes_since(versions, line.cell)
        if line.cell is not None and line.cell.behind_version:
            head = f"Changed since v{line.cell.behind_version}: "
        else:
            head = "Latest changes: "
        target.update(head + ("; ".join(found) if found else "none recorded."))

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        self.dismiss(None)
