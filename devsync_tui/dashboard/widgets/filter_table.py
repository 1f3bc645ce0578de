"""A DataTable with a `/` filter, j/k keys, a stable cursor across reloads and row flashes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input

from devsync_tui.dashboard import keys as cmd

#: How long a row changed by someone else stays highlighted (seconds).
FLASH_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class Row:
    """One table row: a stable key, its cells, and the text the filter searches."""

    key: str
    cells: tuple[RenderableType, ...]
    search: str


class KeyTable(DataTable[RenderableType]):
    """DataTable with vi keys, and the first and last row on home/g and end/G (the same
    binding ids as the virtual tables'); a subclass may label `enter` (``keys.CFG_EDIT``)."""

    BINDINGS = cmd.bindings(cmd.DOWN, cmd.UP, cmd.FIRST_ROW, cmd.LAST_ROW)

    def action_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def forget_rendered(self) -> None:
        """Drop the rendered rows and cells after rows were patched in place. DataTable keys
        those caches by an update counter that ``update_cell``, ``add_row``, ``remove_row``
        and ``sort`` bump without clearing them (``clear`` does): a table patched on every
        live change and flash filled them with stale entries, up to 10,000 cells, which each
        full garbage collection then walked (3,000 changes: +6 MiB and 100-235 ms pauses,
        bench_live_memory). The rows on screen are rendered again, once."""
        self._clear_caches()


class FilterableTable(Vertical):
    """A table whose rows can be filtered with `/`; rows are replaced wholesale with
    ``set_rows`` or some at a time with ``update_rows``, and the cursor stays on the same
    key."""

    DEFAULT_CSS = """
    FilterableTable {
        height: 1fr;
        /* One line, focused or not: Input's own `:focus` rule (a tall border) outranks a
           plain `> Input` rule and would make the box two rows with the text hidden. */
        & > Input, & > Input:focus { display: none; height: 1; border: none; padding: 0 1; }
        & > Input.-active { display: block; }
        & > DataTable { height: 1fr; }
    }
    """

    BINDINGS = cmd.bindings(cmd.FILTER, cmd.CLEAR)

    def __init__(
        self,
        columns: Sequence[str],
        *,
        table: KeyTable | None = None,
        id: str | None = None,
        classes: str | None = None,
        follow_first: bool = False,
    ) -> None:
        """``follow_first``: a newest-first list; a cursor on the first row stays on the
        first row when rows are added above it (it follows the newest)."""
        super().__init__(id=id, classes=classes)
        self._columns = tuple(columns)
        self._follow_first = follow_first
        self._rows: list[Row] = []
        #: Each row's cell widths by key, with the row they were measured on: a live change
        #: (``update_rows``) or a flash measures the rows it touched, not the table.
        self._measured: dict[str, tuple[Row, tuple[int, ...]]] = {}
        self._flashing: set[str] = set()
        self.table = table or KeyTable()
        self.table.cursor_type = "row"
        self.table.zebra_stripes = False

    def compose(self) -> ComposeResult:
        clear = cmd.key_name(self.app, cmd.CLEAR)
        yield Input(placeholder=f"filter…  ({clear} clears)", id="filter")
        yield self.table

    def on_mount(self) -> None:
        self.table.add_columns(*self._columns)

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value.strip().lower()

    @property
    def cursor_key(self) -> str | None:
        """The key of the highlighted row, or None when the table is empty."""
        if self.table.row_count == 0:
            return None
        row_key, _ = self.table.coordinate_to_cell_key(self.table.cursor_coordinate)
        return row_key.value

    def set_columns(self, columns: Sequence[str]) -> None:
        """Show these columns from the next ``set_rows`` on (rows then carry their cells)."""
        self._columns = tuple(columns)

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the rows; keep the cursor on the same key if it still exists."""
        self._rows = list(rows)
        self._measured = {}
        self._render_rows()

    def update_rows(
        self, changed: Sequence[Row], order: Sequence[str], *, flash: Iterable[str] = ()
    ) -> None:
        """Put ``changed`` in place of the rows with their keys (or add them), drop the rows
        whose key is not in ``order`` (every key, in the order shown), and leave every other
        row of the table as it is: a live change redraws what it touched. The cursor stays
        on its key, the filter and the flashes stay. When a column's width changes, the
        table is drawn again as ``set_rows`` does (the same widths either way). The rows of
        ``flash`` are drawn highlighted at once (as ``flash`` would, without drawing them a
        second time)."""
        by_key = {row.key: row for row in self._rows}
        gone = by_key.keys() - set(order)
        by_key.update((row.key, row) for row in changed)
        self._rows = [by_key[key] for key in order]
        for key in gone:
            self._measured.pop(key, None)
            by_key.pop(key)
        self._mark_flash({key for key in flash if key in by_key})
        self._patch({row.key for row in changed} | gone)

    def _shown(self) -> list[Row]:
        query = self.filter_text
        return [row for row in self._rows if not query or query in row.search.lower()]

    def _widths(self, shown: Sequence[Row]) -> list[int]:
        # Column widths are computed here, from the cells themselves: a DataTable that
        # measures rows added before its first layout makes every column as narrow as its
        # label, and it keeps each column as wide as the widest cell it ever held.
        widths = [cell_len(label) for label in self._columns]
        measured = self._measured
        for row in shown:
            entry = measured.get(row.key)
            if entry is None or entry[0] is not row:
                entry = (row, tuple(_cell_width(cell) for cell in row.cells))
                measured[row.key] = entry
            for i, width in zip(range(len(widths)), entry[1], strict=False):
                if width > widths[i]:
                    widths[i] = width
        return widths

    def _cells(self, row: Row) -> tuple[RenderableType, ...]:
        if row.key in self._flashing:
            return tuple(_flash(cell) for cell in row.cells)
        return row.cells

    def _patch(self, keys: set[str]) -> None:
        """Redraw the rows of ``keys`` alone (``update_rows``, flashes)."""
        table = self.table
        shown = self._shown()
        columns = table.ordered_columns
        labels = tuple(str(column.label) for column in columns)
        if labels != self._columns or self._widths(shown) != [c.width for c in columns]:
            self._render_rows()
            return
        keep = self._kept_key()
        by_key = {row.key: row for row in shown}
        added = False
        for key in keys:
            row, present = by_key.get(key), key in table.rows
            if row is None:
                if present:
                    table.remove_row(key)
            elif present:
                for column, cell in zip(columns, self._cells(row), strict=True):
                    table.update_cell(key, column.key, cell)
            else:
                table.add_row(*self._cells(row), key=key)
                added = True
        if added:
            self._put_in_order([row.key for row in shown])
        table.forget_rendered()
        self._restore_cursor(keep)

    def _put_in_order(self, keys: Sequence[str]) -> None:
        """Sort the table's rows into ``keys``' order. DataTable sorts by cell values only:
        each row is known by its first cell object (one per row), which ``get_row`` hands
        back as it was added."""
        table = self.table
        place = {id(table.get_row(key)[0]): i for i, key in enumerate(keys)}
        if len(place) != len(keys):  # two rows sharing a cell object: draw them all again
            self._render_rows()
            return
        table.sort(table.ordered_columns[0].key, key=lambda cell: place[id(cell)])

    def _kept_key(self) -> str | None:
        """The key the cursor stays on (None: back to the first row)."""
        if self._follow_first and self.table.cursor_row <= 0:
            return None
        return self.cursor_key

    def _render_rows(self) -> None:
        table = self.table
        keep = self._kept_key()
        # A row deleted from under the cursor leaves it in its place: on the next row (one
        # only filtered out leaves it on the first row).
        gone = keep is not None and all(row.key != keep for row in self._rows)
        was = table.cursor_row if gone else 0
        shown = self._shown()
        widths = self._widths(shown)
        table.clear(columns=True)
        for label, width in zip(self._columns, widths, strict=True):
            table.add_column(label, width=width)
        for row in shown:
            table.add_row(*self._cells(row), key=row.key)
        self._restore_cursor(keep, was)

    def _restore_cursor(self, keep: str | None, was: int | None = None) -> None:
        """The cursor on ``keep``; if that row is not shown, on row ``was`` (default: where
        the cursor is), or the last row if there are fewer."""
        table = self.table
        # A table in a hidden tab has no height: scrolling its cursor "into view" there would
        # leave the rows above the cursor scrolled out of sight once the tab is shown again.
        scroll = table.size.height > 0
        if keep is None:
            table.move_cursor(row=0, animate=False, scroll=scroll)
            table.scroll_to(y=0, animate=False, immediate=True)
            return
        try:
            table.move_cursor(row=table.get_row_index(keep), animate=False, scroll=scroll)
        except Exception:  # the row went away (deleted or filtered out)
            place = table.cursor_row if was is None else was
            table.move_cursor(row=min(place, max(0, table.row_count - 1)), scroll=scroll)

    def flash(self, keys: Iterable[str]) -> None:
        """Highlight these rows briefly (they were changed by someone else)."""
        new = set(keys) & {row.key for row in self._rows}
        if new:
            self._mark_flash(new)
            self._patch(new)

    def _mark_flash(self, keys: set[str]) -> None:
        """Draw these rows highlighted from now on, and as they were ``FLASH_SECONDS`` on."""
        if keys:
            self._flashing |= keys
            self.set_timer(FLASH_SECONDS, lambda: self._unflash(keys))

    def _unflash(self, keys: set[str]) -> None:
        self._flashing -= keys
        if self.is_mounted:
            self._patch(keys)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A table that is not shown (a pane that says why there is nothing to list, such as
        # the Activity tab of a non-admin) has nothing to filter: no `/`, in the footer or
        # as a key.
        return not (action in ("filter", "clear_filter") and not self.display)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-active")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        box.remove_class("-active")
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def focus_table(self) -> None:
        self.table.focus()


def _cell_width(cell: RenderableType) -> int:
    """The width a cell needs on one line (its longest line)."""
    if isinstance(cell, Text):
        return max((line.cell_len for line in cell.split("\n")), default=0)
    if isinstance(cell, str):
        return max((cell_len(line) for line in cell.split("\n")), default=0)
    return 8


def _flash(cell: RenderableType) -> RenderableType:
    if isinstance(cell, Text):
        flashed = cell.copy()
        flashed.stylize("bold reverse")
        return flashed
    if isinstance(cell, str):
        return Text(cell, style="bold reverse")
    return cell
