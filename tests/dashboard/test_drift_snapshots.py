"""Snapshots of the Dependencies pane and its package detail on the seeded demo, at 80×24 and
120×40 (the drift data has no timestamps on screen, so no clock is involved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devsync_tui.dashboard.panes.drift import DriftPane
from tests.dashboard.pane_host import PaneHost, settle
from tests.support import demo

pytestmark = pytest.mark.db
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def _loaded(pilot: Any) -> None:
    await settle(pilot, _ready)


def _ready(pane: object) -> bool:
    return isinstance(pane, DriftPane) and pane.matrix is not None and not pane.loading_more


@SIZES
def test_drift_storefront(
    snap_compare: Callable[..., bool], demo_db_url: str, size: tuple[int, int]
) -> None:
    app = PaneHost(demo_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT)
    assert snap_compare(app, terminal_size=size, run_before=_loaded)


@SIZES
def test_drift_drifted_by_severity_filtered(
    snap_compare: Callable[..., bool], demo_db_url: str, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("f", "s", "slash", "n", "p", "m")

    app = PaneHost(demo_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT, demo.ENV_STAGING)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_drift_package_detail(
    snap_compare: Callable[..., bool], demo_db_url: str, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("slash", *"lodash", "enter", "enter")
        await pilot.pause()
        for _ in range(100):  # the advisories are read when the detail opens
            if "reading" not in str(pilot.app.screen.query_one("#detail-facts").render()):
                break
            await pilot.pause(0.05)

    app = PaneHost(demo_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
