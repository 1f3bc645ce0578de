"""Snapshots of issue 15's dashboard points at 80×24 and 120×40: where the focus is and the
tree's filter, the detail line, what a read-only dashboard offers, comparing environments, a
machine's detail, and the most serious states without colour (NO_COLOR).

Update after a deliberate visual change with ``--snapshot-update`` on this file only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from devsync_tui.core import clock
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.screens.compare import CompareScreen
from devsync_tui.dashboard.screens.dialogs import FormDialog
from devsync_tui.dashboard.screens.machine_detail import MachineDetailScreen
from tests.dashboard.conftest import make_test_app, seed_now, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, tab_key
from tests.dashboard.pane_host import PaneHost, freeze_clock_to_seed, settle
from tests.support import demo
from tests.support.seed_clock import align_seed

pytestmark = pytest.mark.db

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def _tree_filter(pilot: Pilot[Any]) -> None:
    await wait_ready(pilot)
    await pilot.press("slash", *"bob")
    await wait_ready(pilot)


async def _override_detail(pilot: Pilot[Any]) -> None:
    await wait_ready(pilot)
    pane = config_pane(pilot.app)
    pane.go_to_key("LOG_LEVEL")
    await wait_for(pilot, lambda: "default is" in str(pane.query_one("#config-detail").render()))
    await wait_ready(pilot)


async def _read_only(pilot: Pilot[Any]) -> None:
    await wait_ready(pilot)
    config_pane(pilot.app).go_to_key("STRIPE_SECRET_KEY")
    await wait_ready(pilot)


async def _machine(pilot: Pilot[Any]) -> None:
    await wait_ready(pilot)
    await pilot.press(tab_key("health"))
    pane = pilot.app.main.query_one(HealthPane)
    await wait_for(pilot, lambda: pane.settled)
    pane.table.focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MachineDetailScreen))
    await wait_for(pilot, lambda: pilot.app.screen.summary is not None)
    await pilot.pause(0.1)


SCREENS: dict[str, tuple[str, dict[str, str], Any, bool]] = {
    "tree_filter": ("alice", {"project": "storefront"}, _tree_filter, False),
    "override_detail": ("bob", {"project": "storefront", "env": "bob-laptop"},
                        _override_detail, False),
    "read_only": ("alice", {"project": "storefront"}, _read_only, True),
    "machine_detail": ("alice", {"project": "storefront"}, _machine, False),
}  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_ux_screen(
    snap_compare: Any,
    aligned_demo_db_url: str,
    aligned_clock: Any,
    name: str,
    size: tuple[int, int],
) -> None:
    user, target, steps, read_only = SCREENS[name]
    app = make_test_app(aligned_demo_db_url, user, size=size, **target)
    app.settings.read_only = read_only
    assert snap_compare(app, terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", SIZES)
def test_compare_screen(snap_compare: Any, fresh_db_url: str, size: tuple[int, int]) -> None:
    app = make_test_app(fresh_db_url, "alice", size=size, project="storefront", env="ci-runner")

    async def steps(pilot: Pilot[Any]) -> None:
        await wait_ready(pilot)
        pilot.app.main.query_one("#config-table").focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
        pilot.app.screen.query_one(Select).value = str(demo.ENV_BOB_LAPTOP)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        await wait_for(pilot, lambda: pilot.app.screen.diff is not None)
        await pilot.pause(0.1)

    clock.freeze(seed_now(fresh_db_url) + timedelta(minutes=3))
    try:
        assert snap_compare(app, terminal_size=size, run_before=steps)
    finally:
        clock.freeze(None)


@pytest.fixture
def _no_color(monkeypatch: pytest.MonkeyPatch, fresh_db_url: str) -> Iterator[None]:
    """NO_COLOR, and bob's laptop in error (the most serious state), clock at the seed."""
    monkeypatch.setenv("NO_COLOR", "1")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "update public.environments set status = 'error' where id = %s",
            (demo.ENV_BOB_LAPTOP,),
        )
    align_seed(fresh_db_url)  # the sparklines' bars do not depend on the time of day
    freeze_clock_to_seed(fresh_db_url)
    yield
    clock.freeze(None)


async def _health_loaded(pilot: Any) -> None:
    await settle(pilot, lambda pane: isinstance(pane, HealthPane) and pane.series_loaded)


@pytest.mark.usefixtures("_no_color")
@pytest.mark.parametrize("size", SIZES)
def test_health_without_colour(snap_compare: Any, fresh_db_url: str, size: tuple[int, int]) -> None:
    app = PaneHost(fresh_db_url, "alice", HealthPane, demo.PROJECT_STOREFRONT)
    assert app.no_color
    assert snap_compare(app, terminal_size=size, run_before=_health_loaded)
