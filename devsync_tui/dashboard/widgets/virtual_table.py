"""A virtual table on Textual's Line API: it renders only the rows and columns on screen.

Textual's stock ``DataTable`` builds a cell object per value up front, so 100k rows cost seconds
and hundreds of megabytes before the first frame. ``VirtualTable`` keeps a plain sequence of
row objects and asks each column to render a row only when that row is visible, so opening,
scrolling and filtering cost the same for 100 rows or 100k.

The first ``fixed_columns`` columns stay put while the others scroll horizontally; the header
line stays put while the rows scroll vertically.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Input

from devsync_tui.core.printable import cells, fit_cells
from devsync_tui.dashboard import keys as cmd

RowT = TypeVar("RowT")

#: What a column's renderer returns for one row: the text and an optional style for the cell.
CellRender = tuple[str, Style | None]


@dataclass(frozen=True, slots=True)
class Column(Generic[RowT]):
    """One column: its header label, width in cells and how it renders a row."""

    label: str
    width: int
    render: Callable[[RowT], CellRender]
    key: str = ""


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells, one space right."""
    inner = width - 1
    if inner <= 0:
        return " " * max(width, 0)
    text = fit_cells(text, inner)
    return text + " " * (inner - cells(text)) + " "


class VirtualTable(ScrollView, Generic[RowT], can_focus=True):
    """A scrollable table that renders only what is visible. Rows are any objects."""

    BINDINGS = cmd.bindings(
        cmd.ROW_UP,
        cmd.UP,
        cmd.ROW_DOWN,
        cmd.DOWN,
        cmd.COLUMN_LEFT,
        cmd.COLUMN_RIGHT,
        cmd.PAGE_UP,
        cmd.PAGE_DOWN,
        cmd.FIRST_ROW,
        cmd.LAST_ROW,
        cmd.OPEN_ROW,
    )

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--fixed",
        "virtual-table--cursor",
        "virtual-table--cursor-row",
        "virtual-table--flash",
        "virtual-table--empty",
    }

    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .virtual-table--header { background: $panel; color: $text-primary; text-style: bold; }
        & > .virtual-table--fixed { color: $foreground; }
        & > .virtual-table--cursor-row { background: $boost; }
        & > .virtual-table--cursor { background: $block-cursor-blurred-background; }
        & > .virtual-table--flash { background: $warning 40%; }
        & > .virtual-table--empty { color: $text-muted; text-style: italic; }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row in the visible (filtered) rows."""
    cursor_column: reactive[int] = reactive(0, repaint=False)
    """Index of the highlighted column (all columns, fixed ones first)."""

    class RowSelected(Message):
        """Enter was pressed on a row."""

        def __init__(self, table: VirtualTable[object], row: object, column: int) -> None:
            super().__init__()
            self.table = table
            self.row = row
            self.column = column

        @property
        def control(self) -> VirtualTable[object]:
            return self.table

    def __init__(
        self,
        *,
        search_text: Callable[[RowT], str] | None = None,
        row_key: Callable[[RowT], Hashable] | None = None,
        empty_text: str = "Nothing to show.",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._columns: list[Column[RowT]] = []
        self._fixed = 0
        self._fixed_width = 0
        #: Left edges of the scrollable columns, relative to the scrollable area.
        self._scroll_offsets: list[int] = [0]
        self._all_rows: Sequence[RowT] = ()
        self._rows: Sequence[RowT] = ()
        self._search_text = search_text or str
        self._row_key = row_key
        self._keys_lower: list[str] | None = None
        self._filter_text = ""
        self._flashing: frozenset[Hashable] = frozenset()
        self._flash_timer: Timer | None = None
        self.empty_text = empty_text

    # -- data --------------------------------------------------------------------------------
    @property
    def columns(self) -> Sequence[Column[RowT]]:
        """The columns, fixed ones first."""
        return self._columns

    @property
    def rows(self) -> Sequence[RowT]:
        """The visible rows (after the filter), in order."""
        return self._rows

    @property
    def all_rows(self) -> Sequence[RowT]:
        """Every row, before the filter."""
        return self._all_rows

    @property
    def filter_text(self) -> str:
        return self._filter_text

    @property
    def cursor_value(self) -> RowT | None:
        """The highlighted row, or None when the table is empty."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row]
        return None

    def set_columns(self, columns: Iterable[Column[RowT]], fixed: int = 0) -> None:
        """Replace the columns; the first ``fixed`` ones do not scroll horizontally."""
        self._columns = list(columns)
        self._fixed = max(0, min(fixed, len(self._columns)))
        self._fixed_width = sum(c.width for c in self._columns[: self._fixed])
        offsets = [0]
        for column in self._columns[self._fixed :]:
            offsets.append(offsets[-1] + column.width)
        self._scroll_offsets = offsets
        self.cursor_column = min(self.cursor_column, max(0, len(self._columns) - 1))
        self._update_virtual_size()

    def set_rows(self, rows: Sequence[RowT], *, keep_cursor: bool = True) -> None:
        """Replace every row (the filter stays applied); the cursor stays on the same row
        object (by ``row_key``) when it is still there."""
        current = self.cursor_value if keep_cursor else None
        self._all_rows = rows
        self._keys_lower = None
        self._rows = self._apply_filter(self._filter_text, rows, None)
        self._restore_cursor(current)
        self._update_virtual_size()

    def filter(self, text: str) -> None:
        """Show only the rows whose search text contains ``text`` (case-insensitive)."""
        text = text.strip().lower()
        if text == self._filter_text:
            return
        current = self.cursor_value
        # Typing one more character can only narrow the current result: search just that.
        narrowing = bool(self._filter_text) and text.startswith(self._filter_text)
        previous = self._rows if narrowing else None
        self._filter_text = text
        self._rows = self._apply_filter(text, self._all_rows, previous)
        self._restore_cursor(current)
        self._update_virtual_size()

    def _apply_filter(
        self, text: str, rows: Sequence[RowT], previous: Sequence[RowT] | None
    ) -> Sequence[RowT]:
        if not text:
            return rows
        if previous is not None:
            search = self._search_text
            return [row for row in previous if text in search(row).lower()]
        if self._keys_lower is None:
            search = self._search_text
            self._keys_lower = [search(row).lower() for row in rows]
        return [row for row, key in zip(rows, self._keys_lower, strict=True) if text in key]

    def _restore_cursor(self, current: RowT | None) -> None:
        row = 0
        if current is not None and self._row_key is not None:
            wanted = self._row_key(current)
            key = self._row_key
            for index, candidate in enumerate(self._rows):
                if key(candidate) == wanted:
                    row = index
                    break
        self.cursor_row = min(row, max(0, len(self._rows) - 1))

    def flash(self, keys: Iterable[Hashable], seconds: float = 1.5) -> None:
        """Highlight the rows with these ``row_key`` values for a moment (live changes)."""
        self._flashing = frozenset(keys)
        if self._flashing:
            self.refresh()
            # A newer flash restarts the clock instead of being cut short by an older one.
            if self._flash_timer is not None:
                self._flash_timer.stop()
            self._flash_timer = self.set_timer(seconds, self._end_flash, name="flash")

    def _end_flash(self) -> None:
        self._flash_timer = None
        self._flashing = frozenset()
        self.refresh()

    # -- geometry ----------------------------------------------------------------------------
    @property
    def total_width(self) -> int:
        return self._fixed_width + self._scroll_offsets[-1]

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.total_width, len(self._rows) + 1)
        self.refresh()

    @property
    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()

    def watch_cursor_column(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        body = self._body_height
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + body:
            self.scroll_to(y=self.cursor_row - body + 1, animate=False, immediate=True)
        index = self.cursor_column - self._fixed
        if index < 0 or index >= len(self._scroll_offsets) - 1:
            return
        left, right = self._scroll_offsets[index], self._scroll_offsets[index + 1]
        area = max(1, self.scrollable_content_region.width - self._fixed_width)
        x = int(self.scroll_x)
        if left < x:
            self.scroll_to(x=left, animate=False, immediate=True)
        elif right > x + area:
            self.scroll_to(x=right - area, animate=False, immediate=True)

    # -- rendering ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        """One screen line: the header at y == 0, else the row at scroll_y + y - 1."""
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            return self._render_header(width, scroll_x, base)
        index = scroll_y + y - 1
        if index >= len(self._rows):
            if index == 0:
                empty = self.get_component_rich_style("virtual-table--empty")
                return Strip([Segment(fit(" " + self.empty_text, width), base + empty)], width)
            return Strip.blank(width, base)
        row = self._rows[index]
        row_style = base
        if index == self.cursor_row:
            row_style = base + self.get_component_rich_style("virtual-table--cursor-row")
        if self._flashing and self._row_key is not None and self._row_key(row) in self._flashing:
            row_style = row_style + self.get_component_rich_style("virtual-table--flash")
        cursor_style = (
            self.get_component_rich_style("virtual-table--cursor")
            if index == self.cursor_row
            else None
        )
        return self._render_cells(
            width, scroll_x, row_style, cursor_style, lambda column: column.render(row)
        )

    def _render_header(self, width: int, scroll_x: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("virtual-table--header")
        return self._render_cells(width, scroll_x, style, None, lambda c: (c.label, None))

    def _render_cells(
        self,
        width: int,
        scroll_x: int,
        row_style: Style,
        cursor_style: Style | None,
        cell: Callable[[Column[RowT]], CellRender],
    ) -> Strip:
        segments: list[Segment] = []
        fixed_style = row_style + self.get_component_rich_style("virtual-table--fixed")
        for number, column in enumerate(self._columns[: self._fixed]):
            text, style = cell(column)
            cell_style = fixed_style + style if style else fixed_style
            if cursor_style is not None and number == self.cursor_column:
                cell_style += cursor_style
            segments.append(Segment(fit(text, column.width), cell_style))
        area = width - self._fixed_width
        if area > 0 and len(self._scroll_offsets) > 1:
            segments.extend(
                self._scrollable_segments(scroll_x, area, row_style, cursor_style, cell)
            )
        return Strip(segments).adjust_cell_length(width, row_style)

    def _scrollable_segments(
        self,
        scroll_x: int,
        area: int,
        row_style: Style,
        cursor_style: Style | None,
        cell: Callable[[Column[RowT]], CellRender],
    ) -> list[Segment]:
        offsets = self._scroll_offsets
        # Only the columns overlapping [scroll_x, scroll_x + area) are rendered.
        first = max(0, bisect_right(offsets, scroll_x) - 1)
        end = scroll_x + area
        segments: list[Segment] = []
        index = first
        while index < len(offsets) - 1 and offsets[index] < end:
            column = self._columns[self._fixed + index]
            text, style = cell(column)
            cell_style = row_style + style if style else row_style
            if cursor_style is not None and self._fixed + index == self.cursor_column:
                cell_style += cursor_style
            segments.append(Segment(fit(text, column.width), cell_style))
            index += 1
        # The first rendered column starts at offsets[first]; cut what lies left of scroll_x.
        return list(Strip(segments).crop(scroll_x - offsets[first], end - offsets[first]))

    # -- actions ---------------------------------------------------------------------------
    def _move_row(self, delta: int) -> None:
        if self._rows:
            self.cursor_row = max(0, min(len(self._rows) - 1, self.cursor_row + delta))

    def action_cursor_up(self) -> None:
        self._move_row(-1)

    def action_cursor_down(self) -> None:
        self._move_row(1)

    def action_page_up(self) -> None:
        self._move_row(-self._body_height)

    def action_page_down(self) -> None:
        self._move_row(self._body_height)

    def action_first(self) -> None:
        self._move_row(-len(self._rows))

    def action_last(self) -> None:
        self._move_row(len(self._rows))

    def action_cursor_left(self) -> None:
        self.cursor_column = max(0, self.cursor_column - 1)

    def action_cursor_right(self) -> None:
        self.cursor_column = min(max(0, len(self._columns) - 1), self.cursor_column + 1)

    def action_select(self) -> None:
        row = self.cursor_value
        if row is not None:
            self.post_message(self.RowSelected(self, row, self.cursor_column))  # type: ignore[arg-type]

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            row = int(self.scroll_y) + offset.y - 1
            if row < len(self._rows):
                self.cursor_row = row


class FilterInput(Input):
    """The filter box above a table: hidden, and not focusable, until ``open`` is called, so
    keys typed before ``/`` never land in it."""

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.can_focus = False
        self.display = False

    def open(self) -> None:
        """Show the box and put the cursor in it."""
        self.can_focus = True
        self.display = True
        self.focus()

    def close(self) -> None:
        """Empty and hide the box."""
        self.value = ""
        self.can_focus = False
        self.display = False
