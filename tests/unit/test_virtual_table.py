"""VirtualTable in a small host App: it renders only what is visible, scrolls both ways with
fixed columns, filters, keeps the cursor on the same row and reports Enter."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App, ComposeResult

from devsync_tui.dashboard.widgets.virtual_table import Column, VirtualTable, fit


@dataclass(frozen=True)
class Item:
    number: int

    @property
    def name(self) -> str:
        return f"item-{self.number:06d}"


class CountingColumns:
    """Columns that count how many cells they rendered."""

    def __init__(self, extra: int) -> None:
        self.calls = 0
        self.extra = extra

    def columns(self) -> list[Column[Item]]:
        def name(item: Item) -> tuple[str, None]:
            self.calls += 1
            return item.name, None

        def make(k: int) -> Column[Item]:
            def render(item: Item) -> tuple[str, None]:
                self.calls += 1
                return f"c{k}:{item.number % 1000}", None

            return Column(f"col{k:03d}", 10, render)

        return [Column("name", 14, name), *(make(k) for k in range(self.extra))]


class Host(App[None]):
    def __init__(self, rows: int, extra_columns: int = 5) -> None:
        super().__init__()
        self.counting = CountingColumns(extra_columns)
        self.items = [Item(n) for n in range(rows)]
        self.selected: list[object] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable[Item](search_text=lambda i: i.name, row_key=lambda i: i.number)

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_columns(self.counting.columns(), fixed=1)
        table.set_rows(self.items)
        table.focus()

    def on_virtual_table_row_selected(self, message: VirtualTable.RowSelected) -> None:
        self.selected.append(message.row)


def screen_lines(table: VirtualTable[Item]) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def test_fit_pads_and_cuts() -> None:
    assert fit("abc", 6) == "abc   "
    assert fit("abcdefgh", 6) == "abcd… "
    assert len(fit("x" * 50, 10)) == 10


async def test_renders_only_visible_rows_of_100k() -> None:
    app = Host(100_000)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert len(table.rows) == 100_000
        assert table.virtual_size.height == 100_001
        lines = screen_lines(table)
        assert lines[0].startswith("name")
        assert lines[1].startswith("item-000000")
        # 12 lines high: 11 rows at most, each with the name column plus the few visible
        # columns; whatever number of passes, never anything near 100k renders.
        app.counting.calls = 0
        table.refresh()
        await pilot.pause()
        visible_cells_per_pass = 11 * (1 + 5)
        assert 0 < app.counting.calls <= 3 * visible_cells_per_pass


async def test_vertical_scrolling_follows_the_cursor() -> None:
    app = Host(1_000)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 999
        # 12 lines minus the header and the horizontal scrollbar: 10 rows visible.
        assert table.scroll_y == table.max_scroll_y == 1_000 - 10
        assert screen_lines(table)[-1].startswith("item-000999")
        await pilot.press("pageup")
        await pilot.pause()
        assert table.cursor_row == 999 - 10
        await pilot.press("home", "down", "j")
        assert table.cursor_row == 2
        assert table.cursor_value == Item(2)


async def test_horizontal_scrolling_keeps_fixed_columns() -> None:
    app = Host(50, extra_columns=40)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        assert "col039" not in screen_lines(table)[0]
        for _ in range(40):
            await pilot.press("right")
        await pilot.pause()
        assert table.cursor_column == 40
        assert table.scroll_x > 0
        header, first = screen_lines(table)[:2]
        assert header.startswith("name")
        assert "col039" in header
        assert "col000" not in header
        assert first.startswith("item-000000")
        assert "c39:0" in first


async def test_filter_narrows_restores_and_keeps_the_cursor_row() -> None:
    app = Host(20_000)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.cursor_row = 1234
        table.filter("12")
        assert all("12" in item.name for item in table.rows)
        assert len(table.rows) == sum("12" in f"item-{n:06d}" for n in range(20_000))
        assert table.cursor_value == Item(1234)
        table.filter("123")  # narrowing searches only the previous result
        assert [item.number for item in table.rows][:3] == [123, 1123, 1230]
        table.filter("ITEM-0012")  # case-insensitive
        assert [item.number for item in table.rows] == list(range(1200, 1300))
        assert table.cursor_value == Item(1234)
        await pilot.pause()
        assert any(line.startswith("item-001234") for line in screen_lines(table))
        table.cursor_row = 0
        await pilot.pause()
        assert screen_lines(table)[1].startswith("item-001200")
        table.filter("nothing-matches")
        assert table.rows == []
        assert table.cursor_value is None
        await pilot.pause()
        assert "Nothing to show." in screen_lines(table)[1]
        table.filter("")
        assert len(table.rows) == 20_000


async def test_set_rows_keeps_filter_and_cursor_and_enter_selects() -> None:
    app = Host(100)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.filter("item-00005")
        table.cursor_row = 3
        assert table.cursor_value == Item(53)
        table.set_rows([Item(n) for n in range(200)])
        assert len(table.rows) == 10
        assert table.cursor_value == Item(53)
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == [Item(53)]


async def test_flash_highlights_rows_for_a_moment() -> None:
    app = Host(20)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        plain, neighbour = table.render_line(4), table.render_line(5)
        table.flash([3], seconds=0.2)
        flashed = table.render_line(4)  # row 3 is on screen line 4 (after the header)
        assert flashed.text == plain.text
        assert flashed != plain  # same text, flash background
        assert table.render_line(5) == neighbour  # other rows unchanged
        await pilot.pause(0.5)
        assert table.render_line(4) == plain
