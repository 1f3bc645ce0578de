"""What the Configuration tab shows of each key: the table's cells, which columns fit the
width there is (the value takes what the others leave), and the detail line under the table
(the selected key's whole value, where it comes from and the default it overrides)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text

from devsync_tui.core import clock
from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from devsync_tui.core.printable import visible
from devsync_tui.core.wording import count
from devsync_tui.dashboard.session import Access
from devsync_tui.dashboard.widgets.filter_table import Row

MASK = "••••••••"
#: Every column the table can show; narrower layouts leave some out (``LAYOUTS``).
ALL_COLUMNS = ("Key", "Value", "Type", "Scope", "Ver", "Changed")
_VALUE, _CHANGED = ALL_COLUMNS.index("Value"), ALL_COLUMNS.index("Changed")
#: From the widest to the narrowest: the first whose value column gets ``VALUE_WANTED``
#: characters is used (the last one always). "Changed" names the writer and how long ago;
#: its short form ("alice 3m") keeps room for the value.
LAYOUTS: tuple[tuple[tuple[str, ...], bool], ...] = (
    (ALL_COLUMNS, False),
    (ALL_COLUMNS, True),
    (("Key", "Value", "Scope", "Ver", "Changed"), True),
    (("Key", "Value", "Scope", "Changed"), True),
    (("Key", "Value", "Scope"), True),
)
VALUE_WANTED = 30
#: Value column width bounds (long values are cut; the detail line shows all).
VALUE_MIN, VALUE_MAX = 10, 160
#: Keys longer than this are cut in the table (the detail line names them whole).
KEY_MAX = 32
#: Lines of a long value the detail line shows before it is cut.
DETAIL_LINES = 3


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns shown, whether "Changed" is short, and the value column's width."""

    columns: tuple[str, ...]
    short_changed: bool
    value_width: int


@dataclass(frozen=True, slots=True)
class RowWidths:
    """What one row's cells take, for choosing the layout: the value at its widest, and
    every column (in ``ALL_COLUMNS``' order) with "Changed" long, then short. Kept per row
    by the pane, so that a live change measures the rows it changed, not the table."""

    value: int
    long: tuple[int, ...]
    short: tuple[int, ...]


def row_widths(r: EffectiveConfigRow, cells: CellMaker) -> RowWidths:
    long = cells.all_cells(r, False, VALUE_MAX)
    short_changed = _cell_width(cells.all_cells(r, True, VALUE_MAX)["Changed"])
    widths = tuple(_cell_width(long[c]) for c in ALL_COLUMNS)
    short = (*widths[:_CHANGED], short_changed, *widths[_CHANGED + 1 :])
    return RowWidths(widths[_VALUE], widths, short)


def layout_for(rows: Collection[RowWidths], width: int) -> Layout:
    """The widest layout that leaves the value ``VALUE_WANTED`` characters at ``width`` (or
    all of the longest value, when that is less), from the rows' measured widths."""
    layout = Layout(ALL_COLUMNS, False, VALUE_MAX)
    widest = max((r.value for r in rows), default=0)
    wanted = min(VALUE_WANTED, max(widest, VALUE_MIN))
    widest_long = _widest([r.long for r in rows])
    widest_short = _widest([r.short for r in rows])
    for columns, short in LAYOUTS:
        others = _other_columns_width(columns, widest_short if short else widest_long)
        room = width - others
        layout = Layout(columns, short, max(VALUE_MIN, min(VALUE_MAX, room)))
        if room >= wanted or not rows:
            return layout
    return layout


def _widest(rows: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Each column's widest cell."""
    return tuple(map(max, zip(*rows, strict=True))) if rows else (0,) * len(ALL_COLUMNS)


@dataclass(frozen=True, slots=True)
class CellMaker:
    """Makes the cells of a row for one user (what they may reveal) and what is revealed."""

    access: Access
    revealed: dict[UUID, str]
    in_env: bool

    def all_cells(
        self, r: EffectiveConfigRow, short: bool, width: int
    ) -> dict[str, RenderableType]:
        if r.is_secret:
            shown = self.revealed.get(r.configuration_id)
            if shown is not None:
                value = Text(one_line(shown, width), style="bold yellow")
            elif self.access.can_reveal(r.environment_id):
                value = Text(MASK, style="dim")
            else:
                value = Text.assemble((MASK, "dim"), " 🔒")
        elif r.value is None:
            value = Text("")
        elif r.type is ConfigType.FILE:
            value = Text(file_summary(r.value), style="italic")
        else:
            value = Text(one_line(r.value, width))
        kind = "file" if r.type is ConfigType.FILE else "env"
        if r.environment_id is None:
            scope = Text("default", style="dim") if self.in_env else Text("project")
        else:
            scope = Text("override", style="bold")
        who = r.updated_by or "?"
        when = clock.ago(r.updated_at)
        changed = f"{who} {_short_ago(when)}" if short else f"{who} · {when}"
        key = r.key if cell_len(r.key) <= KEY_MAX else r.key[: KEY_MAX - 1] + "…"
        return {
            "Key": Text(key, style="bold"),
            "Value": value,
            "Type": kind,
            "Scope": scope,
            "Ver": str(r.version),
            "Changed": changed,
        }

    def row(self, r: EffectiveConfigRow, layout: Layout) -> Row:
        cells = self.all_cells(r, layout.short_changed, layout.value_width)
        who = r.updated_by or "?"
        return Row(r.key, tuple(cells[c] for c in layout.columns), f"{r.key} {who}")


def detail_value(
    r: EffectiveConfigRow,
    revealed: str | None,
    may_reveal: bool,
    width: int = 0,
    whole: str = "",
) -> Text:
    """The selected key's value for the detail line: a revealed secret, else the mask (with a
    lock for who may not reveal it). A long value is shortened so that the table stays in
    sight: what fills ``DETAIL_LINES`` rows of ``width`` cells once wrapped (0: the first
    ``DETAIL_LINES`` lines), then its length and ``whole`` (where the whole value is seen:
    "enter opens it")."""
    head = Text(f"{r.key} = ", style="bold")
    if r.is_secret and revealed is None:
        return head + Text(MASK if may_reveal else f"{MASK} 🔒", style="dim")
    value = visible(revealed if revealed is not None else (r.value or ""))
    if r.type is ConfigType.FILE:
        return head + Text(f"{file_summary(r.value or '')} (enter opens it)", style="italic")
    lines = value.splitlines() or [""]
    shown = lines[:DETAIL_LINES] if not width else _wrapped_fit(lines, width, head.cell_len)
    text = head + Text("\n".join(shown), style="bold yellow" if revealed is not None else "")
    if shown != lines:
        more = [count(len(value), "character")]
        if len(lines) > 1:
            more.append(count(len(lines), "line"))
        where = f"; {whole}" if whole else ""
        text.append(f"\n… {', '.join(more)} in all{where}", style="dim")
    return text


def _wrapped_fit(lines: list[str], width: int, head: int) -> list[str]:
    """The first of ``lines`` that fill ``DETAIL_LINES`` rows of ``width`` cells once wrapped
    (the first row starts after ``head`` cells), the last one cut to the rows left."""
    rows, shown = DETAIL_LINES, []
    for index, line in enumerate(lines):
        room = rows * width - (head if index == 0 else 0)
        if cell_len(line) <= room:
            shown.append(line)
            rows -= max(1, -(-(cell_len(line) + (head if index == 0 else 0)) // width))
        else:
            shown.append(line[: max(1, room - 1)] + "…")
            rows = 0
        if rows <= 0:
            break
    return shown


def origin(
    r: EffectiveConfigRow,
    env_name: str | None,
    default: EffectiveConfigRow | None,
    template: str | None,
) -> str:
    """Where the value comes from, and the project default it overrides (secrets masked)."""
    if env_name is None:
        return "Project default: every environment inherits it unless it overrides it."
    if r.environment_id is None:
        return f"Inherited from the project default ({env_name} has no override)."
    made = f" (set from the template {template})" if template else ""
    if r.overrides_id is None:
        return f"Set for {env_name} only{made}; the project has no default."
    if default is None:
        return f"Override for {env_name}{made}; it replaces the project default."
    if default.is_secret:
        shown = MASK
    elif default.type is ConfigType.FILE:
        shown = file_summary(default.value or "")
    else:
        shown = one_line(default.value or "", 60) or "(empty)"
    return f"Override for {env_name}{made}; the project default is {shown}."


def file_summary(value: str) -> str:
    lines = value.count("\n") + (0 if value.endswith("\n") else 1)
    return f"{count(lines, 'line')}, {len(value.encode())} B"


def one_line(value: str, width: int) -> str:
    value = visible(value)
    first = value.splitlines()[0] if value else ""
    if "\n" not in value and len(first) <= width:
        return first
    return first[: max(1, width - 1)] + "…"


def _short_ago(when: str) -> str:
    """ "3 min ago" → "3m", "2 h ago" → "2h", "just now" → "now"."""
    if when == "just now":
        return "now"
    parts = when.split()
    if len(parts) == 3 and parts[2] == "ago":
        return parts[0] + parts[1][0]
    return when


def _other_columns_width(columns: tuple[str, ...], widest: tuple[int, ...]) -> int:
    """What every shown column but the value takes (its widest cell or label; ``widest``:
    each of ``ALL_COLUMNS``' widest cell), with the padding (1 each side) and the vertical
    scrollbar."""
    total = 2 * len(columns) + 2
    for label in columns:
        if label == "Value":
            continue
        total += max(cell_len(label), widest[ALL_COLUMNS.index(label)])
    return total


def _cell_width(cell: RenderableType) -> int:
    if isinstance(cell, Text):
        return max((line.cell_len for line in cell.split("\n")), default=0)
    return max((cell_len(line) for line in str(cell).split("\n")), default=0)
