"""The Dependencies and Health tabs inside the real app (make_test_app): the panes are fed by
the app's selection and its live feed, keys work from the tab, and both tabs fit 80×24."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import pytest
from textual.widgets import TabbedContent

from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable
from devsync_tui.dashboard.widgets.health_table import HealthTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.support import demo

pytestmark = pytest.mark.db


async def _open_tab(pilot: Any, tab: str) -> None:
    app = pilot.app
    await wait_ready(pilot)
    tabs = app.main.query_one(TabbedContent)
    while tabs.active != tab:
        await pilot.press("right_square_bracket")
    if tab == "dependencies":
        pane = app.main.query_one(DriftPane)
        await wait_for(pilot, lambda: pane.matrix is not None and not pane.loading_more)
        pane.table.focus()
    else:
        health = app.main.query_one(HealthPane)
        await wait_for(pilot, lambda: health.settled)
        health.table.focus()
    await pilot.pause()


async def test_dependencies_tab_follows_the_selected_environment(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "bob", project="storefront", env="staging")
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_tab(pilot, "dependencies")
        table = app.main.query_one(DriftMatrixTable)
        assert [c.label for c in table.columns[2:]] == ["bob-laptop", "ci-runner", "staging"]
        assert table.columns[table.cursor_column].label == "staging"
        await pilot.press("f", "s")
        assert table.rows[0].package_name == "lodash"
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "PackageDetailScreen"
        await pilot.press("escape")
        assert app.screen is app.main


async def test_health_tab_updates_live_from_another_connection(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_tab(pilot, "health")
        table = app.main.query_one(HealthTable)
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute(
                "update public.environments set status = 'offline' where id = %s",
                (demo.ENV_BOB_LAPTOP,),
            )

        def bob_offline() -> bool:
            return any("bob-laptop" in line and "○ offline" in line for line in _lines(table))

        await wait_for(pilot, bob_offline, within=10)


def _lines(table: HealthTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


@pytest.mark.parametrize("tab", ["dependencies", "health"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_tab_snapshot(
    snap_compare: Callable[..., bool],
    aligned_demo_db_url: str,
    aligned_clock: datetime,
    tab: str,
    size: tuple[int, int],
) -> None:
    # The aligned demo: the Health tab's sparklines do not depend on the time of day.
    app = make_test_app(aligned_demo_db_url, "alice", size=size, project="storefront")

    async def run_before(pilot: Any) -> None:
        await _open_tab(pilot, tab)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
