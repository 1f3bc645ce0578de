"""With no team, the status line names the key that creates one and where it works (the tree,
which has the focus: the key is not in the footer); a read-only dashboard does not offer it."""

from __future__ import annotations

import pytest

from devsync_tui.dashboard.screens.dialogs import FormDialog
from devsync_tui.dashboard.widgets.nav_tree import NavTree
from tests.dashboard.conftest import make_test_app, wait_for

pytestmark = pytest.mark.db


async def test_no_team_says_where_n_works_and_it_does(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "mallory")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_for(pilot, lambda: app.main.loaded)
        status = str(app.main.query_one("#status-line").render())
        assert "press N in the tree" in status
        await wait_for(pilot, lambda: isinstance(app.focused, NavTree))
        await pilot.press("N")  # no focus moved first: the text is all the user had
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))


async def test_a_read_only_dashboard_does_not_offer_n(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "mallory")
    app.settings.read_only = True
    async with app.run_test(size=app.test_size) as pilot:
        await wait_for(pilot, lambda: app.main.loaded)
        status = str(app.main.query_one("#status-line").render())
        assert "press N" not in status
        assert "read-only" in status
