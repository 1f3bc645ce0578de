"""`devsync --offline` (the cached view, nothing contacted): every tab says why it has no data
— not "unexpected error", not "Select a project" with a project selected."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from devsync_tui.dashboard.panes.tabs import TABS
from tests.dashboard.conftest import wait_for
from tests.dashboard.helpers import tab_key
from tests.dashboard.test_cached_view import _age, _app, _factory, _keys, _see_live

pytestmark = pytest.mark.db


PANES = {t.id: t.pane_id for t in TABS}


def _said(app, tab: str) -> str:  # type: ignore[no-untyped-def]
    pane = app.main.query_one(f"#{PANES[tab]}")
    return " ".join(str(s.render()) for s in pane.query(Static) if s.display)


@pytest.mark.parametrize("tab", ["dependencies", "health", "templates", "activity"])
async def test_each_tab_says_it_is_offline(fresh_db_url: str, tab: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    _age(fresh_db_url, 1)
    app = _app(fresh_db_url, _factory(fresh_db_url, calls=[]), offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        await pilot.press(tab_key(tab))
        await pilot.pause(0.5)
        said = _said(app, tab)
        assert "unexpected error" not in said, said
        assert "Select a project" not in said, said
        assert "Select a team" not in said, said
        assert "offline" in said.lower(), said


async def test_history_says_it_cannot_be_read_offline(fresh_db_url: str) -> None:
    from devsync_tui.dashboard.screens.history import HistoryScreen
    from tests.dashboard.helpers import config_pane

    await _see_live(fresh_db_url, project="storefront")
    _age(fresh_db_url, 1)
    app = _app(fresh_db_url, _factory(fresh_db_url, calls=[]), offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        pane = config_pane(app)
        pane.go_to_key("LOG_LEVEL")
        await pilot.pause()
        pane.action_history()  # as `h` on the row does
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await wait_for(pilot, lambda: bool(app.screen.query("#history-value")))
        box = app.screen.query_one("#history-value", Static)
        await wait_for(pilot, lambda: "Could not load the history" in str(box.render()))
        assert "offline" in str(box.render()).lower()


async def test_a_last_place_gone_is_said_in_words(fresh_db_url: str) -> None:
    """Where the last view was is no longer visible (its team left, its project deleted): the
    start says so in words (it had said "Nothing called “<its id>”") and opens the first
    project."""
    from uuid import uuid4

    from devsync_tui.dashboard.screens.main import StartTarget
    from tests.dashboard.conftest import make_test_app, wait_ready

    gone = str(uuid4())
    app = make_test_app(fresh_db_url, "alice")
    app.target = StartTarget(project=gone, remembered=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        said = [n.message for n in app._notifications]
        assert any("The place you saw last is no longer visible" in m for m in said), said
        assert not any(gone in m for m in said), said
        assert app.main.selection is not None
        assert app.main.selection.project is not None
