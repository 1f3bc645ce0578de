"""The dependency drift matrix: packages × (baseline + environments) on the virtual table.

Each cell shows a state symbol and the resolved version, coloured by the state, so the matrix
reads without colour too. Colours come from component classes (theme variables), so themes
and user CSS can change them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import ClassVar, TypeVar
from uuid import UUID

from rich.style import Style

from devsync_tui.core.drift import LABELS, SYMBOLS, DriftCell, DriftMatrix, DriftRow, DriftState
from devsync_tui.core.printable import cells
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.virtual_table import CellRender, Column, VirtualTable

#: What each state is called on screen (legend, detail dialog).
STATE_LABELS = LABELS

RowT = TypeVar("RowT")

PACKAGE_MIN, PACKAGE_MAX = 12, 34
BASELINE_MIN, BASELINE_MAX = 10, 16
ABSENT = "·"


def state_class(state: DriftState) -> str:
    """The component class that colours a state."""
    return f"drift--{state.name.lower()}"


def row_key(row: DriftRow) -> Hashable:
    """A row's identity across reloads: package manager and name."""
    return (str(row.package_manager), row.package_name)


def row_search_text(row: DriftRow) -> str:
    """What the filter matches: package manager and name ("npm react")."""
    return f"{row.package_manager} {row.package_name}"


def cell_text(cell: DriftCell | None) -> str:
    """A cell as text: the state symbol and the version (— when there is none)."""
    if cell is None:
        return ABSENT
    return f"{SYMBOLS[cell.state]} {cell.version or '—'}"


def package_width(rows: Sequence[DriftRow]) -> int:
    """Width of the package column: "<symbol> <manager> <name>" of the longest, bounded."""
    longest = max((cells(row.package_manager) + cells(row.package_name) for row in rows), default=0)
    return max(PACKAGE_MIN, min(longest + 5, PACKAGE_MAX))


def baseline_width(rows: Sequence[DriftRow]) -> int:
    """Width of the baseline column: its longest version (or constraint), bounded."""
    longest = max(
        (
            cells(row.baseline.version or row.baseline.constraint or "")
            for row in rows
            if row.baseline
        ),
        default=0,
    )
    return max(BASELINE_MIN, min(longest + 2, BASELINE_MAX))


def env_column_width(name: str) -> int:
    return max(10, min(cells(name) + 2, 18))


class DriftStyled(VirtualTable[RowT]):
    """A virtual table that colours cells by drift state (component classes per state)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        state_class(state) for state in DriftState
    }

    DEFAULT_CSS = """
    DriftStyled {
        & > .drift--matches { color: $success; }
        & > .drift--differs { color: $accent; }
        & > .drift--outdated { color: $warning; }
        & > .drift--accepted { color: $warning; text-style: italic; }
        & > .drift--missing { color: $text-muted; }
        & > .drift--violates { color: $error; }
        & > .drift--vulnerable { color: $error; text-style: bold reverse; }
        /* Without colour (NO_COLOR): the most serious states on a light box, never dim. */
        &:nocolor {
            & > .drift--vulnerable, & > .drift--violates {
                color: $background; background: $foreground; text-style: bold;
            }
            & > .drift--outdated { color: $foreground; text-style: bold; }
        }
    }
    """

    def _state_style(self, state: DriftState) -> Style:
        return self.get_component_rich_style(state_class(state))


class DriftMatrixTable(DriftStyled[DriftRow]):
    """The matrix itself; rows are ``DriftRow`` objects of ``core.drift``."""

    BINDINGS = cmd.bindings(cmd.DRIFT_DETAIL)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            search_text=row_search_text,
            row_key=row_key,
            empty_text="No dependencies to show.",
            id=id,
            classes=classes,
        )
        self.matrix: DriftMatrix | None = None
        self._package_width = PACKAGE_MIN
        self._baseline_width = BASELINE_MIN
        self._spec: tuple[object, ...] = ()

    def _render_cell(self, cell: DriftCell | None) -> CellRender:
        if cell is None:
            return ABSENT, None
        return cell_text(cell), self._state_style(cell.state)

    def _package(self, row: DriftRow) -> CellRender:
        symbol = SYMBOLS[row.worst]
        return f"{symbol} {row.package_manager} {row.package_name}", self._state_style(row.worst)

    def _baseline(self, row: DriftRow) -> CellRender:
        cell = row.baseline
        if cell is None:
            return ABSENT, None
        return cell.version or cell.constraint or "—", None

    def _env_renderer(self, index: int) -> Callable[[DriftRow], CellRender]:
        def render(row: DriftRow) -> CellRender:
            return self._render_cell(row.cells[index])

        return render

    def set_matrix(
        self,
        matrix: DriftMatrix,
        rows: Sequence[DriftRow],
        env_names: Mapping[UUID, str],
    ) -> None:
        """Show ``rows`` (the matrix's rows, drifted-only or sorted as wanted) with one column
        per environment of ``matrix``; the fixed columns are as wide as their longest text."""
        if matrix is not self.matrix:
            self._package_width = package_width(matrix.rows)
            self._baseline_width = baseline_width(matrix.rows)
        self.matrix = matrix
        names = tuple(env_names.get(env_id, str(env_id)[:8]) for env_id in matrix.environment_ids)
        spec = (matrix.environment_ids, names, self._package_width, self._baseline_width)
        if spec != self._spec:
            self._spec = spec
            columns: list[Column[DriftRow]] = [
                Column("package", self._package_width, self._package, key="package"),
                Column("baseline", self._baseline_width, self._baseline, key="baseline"),
            ]
            for index, (env_id, name) in enumerate(zip(matrix.environment_ids, names, strict=True)):
                columns.append(
                    Column(name, env_column_width(name), self._env_renderer(index), str(env_id))
                )
            self.set_columns(columns, fixed=2)
        self.set_rows(rows)


#: Legend words: short enough that the whole legend fits in 80 columns.
_LEGEND_WORDS = {**LABELS, DriftState.VIOLATES: "violates", DriftState.ACCEPTED: "accepted"}


def legend_text(width: int = 200) -> str:
    """Every symbol with its word (the matrix reads without colour): one line with two spaces
    between entries where ``width`` allows, else entries wrapped whole onto more lines."""
    entries = [f"{SYMBOLS[state]} {_LEGEND_WORDS[state]}" for state in DriftState]
    roomy = "  ".join(entries)
    if cells(roomy) <= width:
        return roomy
    lines = [entries[0]]
    for entry in entries[1:]:
        if cells(lines[-1]) + 1 + cells(entry) <= width:
            lines[-1] += " " + entry
        else:
            lines.append(entry)
    return "\n".join(lines)
