"""Snapshots of the Health pane on the seeded demo at 80×24 and 120×40 (clock frozen at the
moment the seed ran, and that moment at the same place in the hour — tests/support/seed_clock.py
— so "N min ago" and the sparklines never move)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devsync_tui.core import clock
from devsync_tui.dashboard.panes.health import HealthPane
from tests.dashboard.pane_host import PaneHost, freeze_clock_to_seed, settle
from tests.support import demo

pytestmark = pytest.mark.db


@pytest.fixture(autouse=True)
def _frozen_clock(aligned_demo_db_url: str) -> Iterator[None]:
    freeze_clock_to_seed(aligned_demo_db_url)
    yield
    clock.freeze(None)


async def _loaded(pilot: Any) -> None:
    await settle(pilot, lambda pane: isinstance(pane, HealthPane) and pane.series_loaded)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_health_storefront(
    snap_compare: Callable[..., bool], aligned_demo_db_url: str, size: tuple[int, int]
) -> None:
    app = PaneHost(
        aligned_demo_db_url, "alice", HealthPane, demo.PROJECT_STOREFRONT, demo.ENV_STAGING
    )
    assert snap_compare(app, terminal_size=size, run_before=_loaded)


def test_health_offline_environment(
    snap_compare: Callable[..., bool], aligned_demo_db_url: str
) -> None:
    app = PaneHost(aligned_demo_db_url, "alice", HealthPane, demo.PROJECT_BILLING)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_loaded)
