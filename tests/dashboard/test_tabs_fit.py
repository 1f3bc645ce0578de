"""At 100 columns the tab bar shows every tab (the short titles when the full ones do not fit
beside the tree), and the Templates hint is read to its end."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import Static, TabbedContent

from devsync_tui.dashboard.panes.tabs import TAB_PADDING, TABS
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import tab_key

pytestmark = pytest.mark.db


def _labels(app) -> list[str]:  # type: ignore[no-untyped-def]
    tabs = app.main.query_one(TabbedContent)
    return [str(tabs.get_tab(tab.id).label) for tab in TABS]


@pytest.mark.parametrize("size", [(100, 30), (104, 30), (120, 40), (80, 24)])
async def test_every_tab_title_fits(fresh_db_url: str, size: tuple[int, int]) -> None:
    app = make_test_app(fresh_db_url, "bob", size=size, project="storefront")
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        width = app.main.query_one(TabbedContent).size.width
        await wait_for(pilot, lambda: sum(cell_len(x) + TAB_PADDING for x in _labels(app)) <= width)
        full = [tab.title for tab in TABS]
        assert _labels(app) == (full if size[0] >= 120 else [tab.short for tab in TABS])


async def test_the_templates_hint_is_not_cut_at_100(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("templates"))
        hint = app.main.query_one("#templates-hint", Static)
        await wait_for(pilot, lambda: "can start from one" in str(hint.render()))
        await wait_ready(pilot)
        lines = [strip.text for strip in hint.render_lines(hint.region.reset_offset)]
        assert "from one." in " ".join(line.strip() for line in lines)
        assert not any("…" in line for line in lines)
