"""`?` at 80×24: the help fits the screen and scrolls with the keyboard (its list of keys is
longer than the screen is tall)."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from devsync_tui.dashboard.screens.help import HelpScreen
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready

pytestmark = pytest.mark.db


async def test_help_fits_80x24_and_scrolls_with_keys(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", size=(80, 24), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#config-table").focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause(0.1)
        box = app.screen.query_one("#help")
        assert box.region.y >= 0
        assert box.region.bottom <= 24
        scroll = app.screen.query_one(VerticalScroll)
        assert scroll.max_scroll_y > 0  # the list is longer than the room: it scrolls
        await pilot.press("end")
        await pilot.pause(0.1)
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("home", "down")
        await pilot.pause(0.1)
        assert scroll.scroll_y == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
