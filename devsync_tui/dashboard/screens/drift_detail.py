"""The package detail dialog of the drift matrix: every version, constraint and state of one
package in the baseline and each environment, baseline first; a place that holds several
versions (a nested npm copy, two Cargo majors) has a line per version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core import clock
from devsync_tui.core.drift import SYMBOLS, DriftCell, DriftRow, DriftState
from devsync_tui.core.drift_facts import accepted_for, advisory_text
from devsync_tui.core.models import PackageFacts
from devsync_tui.core.printable import visible
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.drift_matrix import STATE_LABELS, DriftStyled
from devsync_tui.dashboard.widgets.virtual_table import CellRender, Column, VirtualTable


@dataclass(frozen=True, slots=True)
class DetailLine:
    """One line of the dialog: where (empty on a place's further versions), and one version's
    cell (None: no such package there)."""

    place: str
    cell: DriftCell | None


def detail_lines(place: str, cell: DriftCell | None) -> list[DetailLine]:
    """A place's lines: one per installed version, the place named on the first."""
    if cell is None:
        return [DetailLine(place, None)]
    return [DetailLine(place if i == 0 else "", entry) for i, entry in enumerate(cell.entries)]


def facts_text(
    row: DriftRow,
    cells: Sequence[DriftCell | None],
    facts: PackageFacts,
    today: date,
    places: Sequence[str] = (),
) -> str:
    """The advisories of every version shown (one the project accepts as ignored, with its
    date and reason), and the package's latest and wanted releases.

    A version its machine marked vulnerable without an advisory stored for the team (the
    machine checked online, the details were not kept) is said to be so, by whom
    (``places``: where each of ``cells`` is), never "none known"."""
    manager, name = row.package_manager, row.package_name
    versions: list[str] = []
    constraints: list[str | None] = []
    #: version → the places that marked it vulnerable
    marked: dict[str, list[str]] = {}
    for index, cell in enumerate(cells):
        place = places[index] if index < len(places) else ""
        for entry in cell.entries if cell is not None else ():
            if entry.version and entry.version not in versions:
                versions.append(entry.version)
            if entry.constraint not in constraints:
                constraints.append(entry.constraint)
            if entry.version and entry.state is DriftState.VULNERABLE:
                where = marked.setdefault(entry.version, [])
                if place and place not in where:
                    where.append(place)
    lines = []
    for version in versions:
        found = facts.advisories_of(manager, name, version)
        for advisory in found:
            summary = f" — {advisory.summary}" if advisory.summary else ""
            risk = accepted_for(advisory, facts.accepted, today)
            if risk is not None:
                summary = f" — ignored: accepted until {risk.until.isoformat()}: {risk.reason}"
            mark = "·" if risk is not None else "!"
            lines.append(f"{mark} {version}  {advisory_text(advisory)}{summary}")
        if not found and version in marked:
            lines.append(_reported_vulnerable(version, marked[version]))
    if not lines:
        lines.append("advisories: none known for these versions")
    for constraint in constraints or [None]:
        fresh = facts.freshness_of(manager, name, constraint)
        if fresh is None:
            continue
        wanted = f" · wanted {fresh.wanted} ({constraint})" if constraint and fresh.wanted else ""
        line = f"latest {fresh.latest or 'unknown'}{wanted}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _reported_vulnerable(version: str, places: Sequence[str]) -> str:
    """A version marked vulnerable where no advisory of it is stored (two short lines)."""
    who = ", ".join(places) if places else "its machine"
    return (
        f"! {version}  vulnerable per {visible(who)}; advisory details not stored yet\n"
        "  (devsync scan on a machine with network access fetches them)"
    )


class PackageDetailTable(DriftStyled[DetailLine]):
    """The dialog's table; it reuses the matrix's state colours."""

    def show_lines(self, lines: Sequence[DetailLine]) -> None:
        def state(line: DetailLine) -> CellRender:
            if line.cell is None:
                return "· not installed", None
            label = f"{SYMBOLS[line.cell.state]} {STATE_LABELS[line.cell.state]}"
            return label, self._state_style(line.cell.state)

        def version(line: DetailLine) -> CellRender:
            if line.cell is None:
                return "—", None
            return line.cell.version or "—", self._state_style(line.cell.state)

        def constraint(line: DetailLine) -> CellRender:
            return (line.cell.constraint if line.cell else None) or "—", None

        columns: list[Column[DetailLine]] = [
            Column("environment", 22, lambda line: (line.place, None)),
            Column("version", 14, version),
            Column("constraint", 14, constraint),
            Column("state", 22, state),
        ]
        self.set_columns(columns, fixed=1)
        self.set_rows(list(lines))


class PackageDetailScreen(ModalScreen[None]):
    """A package's version, constraint and state in the baseline and every environment."""

    BINDINGS = cmd.bindings(cmd.DRIFT_DETAIL_CLOSE)

    DEFAULT_CSS = """
    PackageDetailScreen {
        align: center middle;
        & > Vertical {
            width: 78;
            max-width: 100%;
            height: auto;
            max-height: 90%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        #detail-title { text-style: bold; height: 1; }
        #detail-summary { color: $text-muted; height: 1; }
        #detail-facts { height: auto; max-height: 12; }
        PackageDetailTable { height: auto; max-height: 30; }
    }
    """

    def __init__(
        self,
        row: DriftRow,
        environment_ids: Sequence[UUID],
        env_names: Mapping[UUID, str],
        facts: Callable[[], Awaitable[PackageFacts]] | None = None,
    ) -> None:
        super().__init__()
        self.row = row
        self._facts = facts
        places = [("baseline", row.baseline)] + [
            (env_names.get(env_id, str(env_id)[:8]), cell)
            for env_id, cell in zip(environment_ids, row.cells, strict=True)
        ]
        self.lines = [line for place, cell in places for line in detail_lines(place, cell)]

    def compose(self) -> ComposeResult:
        row = self.row
        worst = f"{SYMBOLS[row.worst]} {STATE_LABELS[row.worst]}"
        with Vertical():
            yield Static(f"{row.package_manager} · {row.package_name}", id="detail-title")
            close = cmd.key_name(self.app, cmd.DRIFT_DETAIL_CLOSE)
            yield Static(f"worst: {worst} · {close} to close", id="detail-summary")
            yield PackageDetailTable(id="detail-table")
            yield Static("", id="detail-facts")

    def on_mount(self) -> None:
        table = self.query_one(PackageDetailTable)
        table.show_lines(self.lines)
        table.styles.height = min(len(self.lines) + 1, 30)
        table.focus()
        if self._facts is not None:
            self.query_one("#detail-facts", Static).update(Text("advisories: reading…"))
            self.run_worker(self._read_facts(), exclusive=True, group="detail-facts")

    async def _read_facts(self) -> None:
        assert self._facts is not None
        try:
            facts = await self._facts()
        except DevSyncError as exc:
            text = f"Could not read the advisories ({str(exc).rstrip('.')})."
        else:
            today = clock.now().date()
            places: list[str] = []
            place = ""
            for line in self.lines:  # a place's further versions are on lines of their own
                place = line.place or place
                places.append(place)
            cells = [line.cell for line in self.lines]
            text = facts_text(self.row, cells, facts, today, places)
        # Text, not markup: summaries come from other people's lockfiles and advisories.
        self.query_one("#detail-facts", Static).update(Text(text))

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        self.dismiss(None)
