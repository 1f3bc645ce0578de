"""The Config drift matrix: keys × machines on the virtual table, one symbol per state.

A cell reads without colour (``=`` in sync, ``≠`` differs, ``-`` missing, ``+`` only on the
machine, ``< vN`` behind version N, ``?`` unknown, ``·`` no report); colours come from
component classes, so themes and user CSS can change them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import ClassVar, TypeVar
from uuid import UUID

from rich.style import Style

from devsync_tui.core.config_matrix import ConfigDriftMatrix, ConfigDriftRow
from devsync_tui.core.config_states import (
    LABELS,
    NO_REPORT,
    SYMBOLS,
    ConfigState,
    DriftState,
)
from devsync_tui.core.printable import cells
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.virtual_table import CellRender, Column, VirtualTable

RowT = TypeVar("RowT")

KEY_MIN, KEY_MAX = 12, 36
#: What a state a newer schema added shows (never hidden).
OTHER = "!"


def state_class(state: DriftState) -> str:
    return f"cfgdrift--{state.value.replace('_', '-')}"


def cell_text(cell: ConfigState | None) -> str:
    if cell is None:
        return NO_REPORT
    state = cell.drift
    if state is None:
        return OTHER
    if state is DriftState.BEHIND:
        return f"< v{cell.behind_version}"
    return SYMBOLS[state]


def state_words(cell: ConfigState | None) -> str:
    """A cell in words, for the detail."""
    if cell is None:
        return f"{NO_REPORT} no report"
    state = cell.drift
    if state is None:
        return f"{OTHER} {cell.state}"
    return f"{SYMBOLS[state]} {LABELS[state].split(' (')[0]}"


def legend_text(width: int = 200) -> str:
    """Every symbol with its word, wrapped whole onto more lines where ``width`` is short."""
    entries = [f"{SYMBOLS[s]} {LABELS[s].split(' (')[0]}" for s in DriftState]
    entries.append(f"{NO_REPORT} no report")
    lines = [entries[0]]
    for entry in entries[1:]:
        if cells(lines[-1]) + 2 + cells(entry) <= width:
            lines[-1] += "  " + entry
        else:
            lines.append(entry)
    return "\n".join(lines)


def row_key(row: ConfigDriftRow) -> Hashable:
    return row.key


class StateStyled(VirtualTable[RowT]):
    """A virtual table that colours cells by configuration state."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        state_class(state) for state in DriftState
    }

    DEFAULT_CSS = """
    StateStyled {
        & > .cfgdrift--in-sync { color: $success; }
        & > .cfgdrift--differs { color: $warning; text-style: bold; }
        & > .cfgdrift--missing { color: $error; }
        & > .cfgdrift--only-local { color: $accent; }
        & > .cfgdrift--behind { color: $warning; }
        & > .cfgdrift--unknown { color: $text-muted; }
    }
    """

    def _style(self, cell: ConfigState | None) -> Style | None:
        state = cell.drift if cell is not None else None
        return None if state is None else self.get_component_rich_style(state_class(state))


class ConfigDriftTable(StateStyled[ConfigDriftRow]):
    """The matrix; rows are ``ConfigDriftRow`` objects of ``core.config_matrix``."""

    BINDINGS = cmd.bindings(cmd.CFGDRIFT_DETAIL)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            search_text=lambda row: row.key,
            row_key=row_key,
            empty_text="No machine has reported its configuration yet.",
            id=id,
            classes=classes,
        )
        self.matrix: ConfigDriftMatrix | None = None
        self._spec: tuple[object, ...] = ()

    def _key(self, row: ConfigDriftRow) -> CellRender:
        return row.key, (self._style_of(DriftState.DIFFERS) if row.drifted else None)

    def _style_of(self, state: DriftState) -> Style:
        return self.get_component_rich_style(state_class(state))

    def _env_renderer(self, index: int) -> Callable[[ConfigDriftRow], CellRender]:
        def render(row: ConfigDriftRow) -> CellRender:
            cell = row.cells[index]
            return cell_text(cell), self._style(cell)

        return render

    def set_matrix(
        self, matrix: ConfigDriftMatrix, rows: tuple[ConfigDriftRow, ...], names: Mapping[UUID, str]
    ) -> None:
        """Show ``rows`` with one column per machine of ``matrix``."""
        self.matrix = matrix
        labels = tuple(names.get(env_id, str(env_id)[:8]) for env_id in matrix.environment_ids)
        longest = max((cells(row.key) for row in matrix.rows), default=0)
        key_width = max(KEY_MIN, min(longest + 2, KEY_MAX))
        spec = (matrix.environment_ids, labels, key_width)
        if spec != self._spec:
            self._spec = spec
            columns: list[Column[ConfigDriftRow]] = [Column("key", key_width, self._key, "key")]
            for index, (env_id, label) in enumerate(
                zip(matrix.environment_ids, labels, strict=True)
            ):
                width = max(7, min(cells(label) + 2, 16))
                columns.append(Column(label, width, self._env_renderer(index), str(env_id)))
            self.set_columns(columns, fixed=1)
        self.set_rows(rows)
