"""Health: stale machines, sorting by column, a machine's detail on enter, and the most
serious states emphasised without colour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from devsync_tui.core import clock
from devsync_tui.core.machine_summary import summarize_dependencies as summarize
from devsync_tui.core.models import (
    Dependency,
    DependencyStatus,
    EnvStatus,
    MetricType,
    PackageManager,
)
from devsync_tui.core.staleness import STALE_AFTER, is_stale, shown_status
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.screens.machine_detail import MachineDetailScreen
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import tab_key
from tests.dashboard.pane_host import freeze_clock_to_seed

pytestmark = pytest.mark.db

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_stale_means_no_report_for_two_agent_intervals() -> None:
    fresh, old = NOW - STALE_AFTER, NOW - STALE_AFTER - timedelta(seconds=1)
    assert not is_stale(EnvStatus.ACTIVE, fresh, NOW)
    assert is_stale(EnvStatus.ACTIVE, old, NOW)
    assert is_stale(EnvStatus.SYNCING, None, NOW)
    assert shown_status(EnvStatus.OFFLINE, old, NOW) == "offline"  # says what it is already
    assert shown_status(EnvStatus.ERROR, old, NOW) == "error"


def _dep(env: object, name: str, version: str, status: DependencyStatus) -> Dependency:
    return Dependency(uuid4(), uuid4(), env, PackageManager.NPM, name, None, version, status)  # type: ignore[arg-type]


def test_dependency_summary_counts_against_the_baseline() -> None:
    env = uuid4()
    base = [_dep(None, n, "1.0.0", DependencyStatus.HEALTHY) for n in ("a", "b", "c")]
    mine = [
        _dep(env, "a", "1.0.0", DependencyStatus.HEALTHY),
        _dep(env, "b", "2.0.0", DependencyStatus.VULNERABLE),
        _dep(env, "z", "0.1.0", DependencyStatus.OUTDATED),
    ]
    summary = summarize(mine, base, capped=False)
    assert (summary.total, summary.differ, summary.missing) == (3, 1, 1)
    assert (summary.vulnerable, summary.outdated) == (1, 1)
    assert summary.lines()[0] == "3 packages (npm 3)"


@pytest.fixture
def seed_clock(demo_db_url: str) -> Iterator[None]:
    freeze_clock_to_seed(demo_db_url)
    yield
    clock.freeze(None)


async def test_sort_and_open_a_machine(demo_db_url: str, seed_clock: None) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("health"))
        pane = app.main.query_one(HealthPane)
        await wait_for(pilot, lambda: pane.settled)
        pane.table.focus()
        names = lambda: [row.environment.name for row in pane.table.rows]  # noqa: E731
        assert names() == ["bob-laptop", "ci-runner", "staging"]
        await pilot.press("s")  # status, worst first: staging is stale
        assert names()[0] == "staging"
        assert "sorted by status" in str(pane.query_one("#health-status").render())
        await pilot.press("s")  # last report, oldest first
        assert names() == ["staging", "bob-laptop", "ci-runner"]
        await pilot.press("s")  # cpu, highest first
        cpu = [row.latest(MetricType.CPU) for row in pane.table.rows]
        assert cpu == sorted(cpu, reverse=True)
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen))
        detail = app.screen
        assert isinstance(detail, MachineDetailScreen)
        await wait_for(pilot, lambda: detail.summary is not None)
        text = str(detail.query_one("#machine-deps").render())
        assert "packages" in text
        assert "differ from the baseline" in text
        assert "Status:" in str(detail.query_one("#machine-health").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
