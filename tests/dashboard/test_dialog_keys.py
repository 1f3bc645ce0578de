"""Dialogs show the keys that work in them, not the main screen's (real PostgreSQL)."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from devsync_tui.dashboard.screens.help import HelpScreen
from devsync_tui.dashboard.screens.history import HistoryScreen
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane

pytestmark = pytest.mark.db


@pytest.mark.parametrize(
    ("user", "hint"),
    [
        ("carol", "? keys · esc closes"),
        ("alice", "R restores the selected version · r reveals a secret · ? keys · esc closes"),
    ],
)
async def test_history_offers_what_the_user_may_do(demo_db_url: str, user: str, hint: str) -> None:
    app = make_test_app(demo_db_url, user, project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("LOG_LEVEL")
        await wait_ready(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        assert str(app.screen.query_one(".dialog-note").render()) == hint
        # The main screen's footer (q quit, ? help) does not show through the dialog.
        assert not app.main.query_one(Footer).display
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert {"Restore", "Reveal", "Cancel"} <= {row[1] for row in app.screen.rows}
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert app.main.query_one(Footer).display


async def test_help_lists_only_what_the_user_may_do(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "carol", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        names = {row[1] for row in app.screen.rows}
        assert "Help" in names
        assert not names & {"New", "Rename", "Delete"}  # a viewer changes nothing here
