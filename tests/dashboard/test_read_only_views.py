"""A read-only dashboard still shows every view: the reads behind Dependencies (accepted
risks), Config drift (machine states) and Health pass; only writes and reveals are refused."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from devsync_tui.dashboard.panes.config_drift import ConfigDriftPane
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.screens.dialogs import FormDialog
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, tab_key

pytestmark = pytest.mark.db


async def test_every_view_loads_read_only(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    app.settings.read_only = True
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("dependencies"))
        drift = app.main.query_one(DriftPane)
        await wait_for(pilot, lambda: drift.matrix is not None and not drift.loading_more)
        await pilot.press(tab_key("config-drift"))
        states = app.main.query_one(ConfigDriftPane)
        await wait_for(pilot, lambda: states.matrix is not None)
        await pilot.press(tab_key("health"))
        health = app.main.query_one(HealthPane)
        await wait_for(pilot, lambda: health.settled)
        for pane in (drift, states, health):
            assert "Could not load" not in str(pane.render())


async def test_a_read_only_export_says_it_reveals_nothing(demo_db_url: str) -> None:
    """The export form of a read-only dashboard does not promise secrets it will not write."""
    app = make_test_app(demo_db_url, "alice", project="storefront", env="staging")
    app.settings.read_only = True
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        notes = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "reveals nothing" in notes
        assert "Secrets you may reveal are written" not in notes
        await pilot.press("escape")
