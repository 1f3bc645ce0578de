"""HealthPane on the local transport over the seeded demo: what each environment shows, the
filter, and live updates from another connection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import psycopg
import pytest
from textual.widget import Widget

from devsync_tui.core import clock
from devsync_tui.core.models import MetricType
from devsync_tui.dashboard.panes.health import HealthLoaded, HealthPane
from devsync_tui.dashboard.widgets.health_series import format_latest, sparkline_window
from devsync_tui.dashboard.widgets.health_table import HealthTable
from tests.dashboard.pane_host import PaneHost, freeze_clock_to_seed, settle
from tests.support import demo

pytestmark = pytest.mark.db


@pytest.fixture(autouse=True)
def _frozen_clock(demo_db_url: str) -> Iterator[None]:
    freeze_clock_to_seed(demo_db_url)
    yield
    clock.freeze(None)


def loaded(pane: Widget) -> bool:
    return isinstance(pane, HealthPane) and pane.series_loaded


def table_lines(app: PaneHost) -> list[str]:
    table = app.query_one(HealthTable)
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def latest_values(url: str) -> dict[tuple[UUID, str], float]:
    """The newest number per environment and metric, straight from the database."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select distinct on (environment_id, metric_type) environment_id, metric_type, "
            "(value->>'value')::float from public.health_checks "
            "order by environment_id, metric_type, recorded_at desc"
        ).fetchall()
    return {(env, metric): number for env, metric, number in rows}


async def test_each_environment_shows_status_sync_ping_and_metrics(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "alice", HealthPane, demo.PROJECT_STOREFRONT)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, loaded)
        pane = app.query_one(HealthPane)
        assert [row.environment.name for row in pane.rows] == sorted(
            e.name for e in demo.ENVIRONMENTS if e.project_id == demo.PROJECT_STOREFRONT
        )
        latest = latest_values(demo_db_url)
        lines = {line.split()[0]: line for line in table_lines(app)[1:] if line.strip()}
        # Seed: bob-laptop and staging active 2 and 4 min ago, ci-runner syncing 1 min ago.
        # Staging's agent (every 60 s) has missed two reports: it is stale, not active.
        assert "● active" in lines["bob-laptop"]
        assert "2 min ago" in lines["bob-laptop"]
        assert "◌ stale" in lines["staging"]
        assert "4 min ago" in lines["staging"]
        assert "◐ syncing" in lines["ci-runner"]
        assert "1 min ago" in lines["ci-runner"]
        for env in (demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_CI_RUNNER):
            name = next(e.name for e in demo.ENVIRONMENTS if e.id == env)
            for metric in MetricType:
                shown = format_latest(metric, latest[(env, metric.value)])
                assert shown in lines[name], (name, metric, shown)
        # Bob's laptop runs hot on memory in the last hour: the last bars are the highest.
        bob = next(row for row in pane.rows if row.environment.id == demo.ENV_BOB_LAPTOP)
        buckets = bob.buckets(MetricType.MEMORY, *sparkline_window(clock.now(), 24), 24)
        assert buckets[-1] is not None
        assert buckets[-1] == max(b for b in buckets if b is not None)
        status = str(app.query_one("#health-status").render())
        assert "3 environments" in status
        assert "● 1 active" in status
        assert "◐ 1 syncing" in status
        assert "◌ 1 stale" in status


async def test_offline_environment_and_gap_in_its_series(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "alice", HealthPane, demo.PROJECT_BILLING, demo.ENV_ALICE_MBP)
    # Wide enough for slots of under an hour (at 80 columns a slot is 4 h: no gap to see).
    async with app.run_test(size=(160, 24)) as pilot:
        await settle(pilot, loaded)
        line = next(line for line in table_lines(app) if line.startswith("alice-mbp"))
        assert "○ offline" in line
        assert "3 h ago" in line
        row = app.query_one(HealthPane).rows[0]
        table = app.query_one(HealthTable)
        slots = table.spark_slots
        assert 24 * 60 / slots < 60
        # It went silent three hours ago: the last slots of the day have no data, and the
        # database read them at the width drawn.
        start, end = sparkline_window(clock.now(), slots)
        buckets = row.buckets(MetricType.CPU, start, end, slots)
        assert buckets == list(row.series[MetricType.CPU].values)
        assert buckets[-3:] == [None, None, None]
        # The seed's day starts inside the window (whole 12-minute cells: up to 4 h longer than
        # a day, see sparkline_window): the slot holding 23 h ago has data.
        day_start = int((clock.now() - timedelta(hours=23) - start) / (end - start) * slots)
        assert buckets[day_start] is not None
        assert table.cursor_value is row


async def test_filter_narrows_environments_and_escape_clears(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "alice", HealthPane, demo.PROJECT_STOREFRONT)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, loaded)
        app.query_one(HealthTable).focus()
        await pilot.press("slash", *"stag")
        await pilot.pause()
        table = app.query_one(HealthTable)
        assert [row.environment.name for row in table.rows] == ["staging"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(table.rows) == 3
        assert table.has_focus


async def test_live_status_change_and_new_points_show_without_a_key(fresh_db_url: str) -> None:
    app = PaneHost(fresh_db_url, "alice", HealthPane, demo.PROJECT_STOREFRONT, live=True)
    loads: list[HealthLoaded] = []

    def hook(message: object) -> None:
        if isinstance(message, HealthLoaded) and all(m is not message for m in loads):
            loads.append(message)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot, loaded)
        # First every environment at once (status, last sync), then their series.
        assert [m.final for m in loads] == [False, True]
        initial = len(loads)
        await pilot.pause(0.3)  # let the feed start listening
        newest = clock.now()
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute(
                "update public.environments set status = 'error' where id = %s",
                (demo.ENV_STAGING,),
            )
            conn.execute(
                "insert into public.health_checks (environment_id, metric_type, value, "
                "recorded_at) values (%s, 'cpu', '{\"percent\": 99.0}', %s)",
                (demo.ENV_STAGING, newest),
            )
        for _ in range(200):
            lines = {line.split()[0]: line for line in table_lines(app)[1:] if line.strip()}
            if "✗ error" in lines["staging"] and "99%" in lines["staging"]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"live change not shown: {lines['staging']!r}")
        assert "● active" in lines["bob-laptop"]
        # New points of one machine re-read only that machine's series.
        assert [[r.environment.name for r in m.rows] for m in loads[initial:]] == [["staging"]]
        bob = next(r for r in app.query_one(HealthPane).rows if r.environment.name == "bob-laptop")
        assert bob.latest(MetricType.CPU) is not None  # kept from the first load


async def test_sparklines_are_read_at_the_width_drawn_and_again_after_a_resize(
    demo_db_url: str,
) -> None:
    app = PaneHost(demo_db_url, "alice", HealthPane, demo.PROJECT_STOREFRONT)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, loaded)
        pane, table = app.query_one(HealthPane), app.query_one(HealthTable)
        narrow = table.spark_slots
        assert {len(s.values) for row in pane.rows for s in row.series.values()} == {narrow}
        await pilot.resize_terminal(160, 30)
        for _ in range(200):
            await pilot.pause(0.02)
            sizes = {len(s.values) for row in pane.rows for s in row.series.values()}
            if sizes == {table.spark_slots} and table.spark_slots > narrow:
                break
        else:
            raise AssertionError(f"not read again at {table.spark_slots} slots: {sizes}")
        # What is drawn is what the database averaged, slot for slot.
        bob = next(r for r in pane.rows if r.environment.id == demo.ENV_BOB_LAPTOP)
        drawn = bob.buckets(
            MetricType.MEMORY, *sparkline_window(clock.now(), table.spark_slots), table.spark_slots
        )
        assert drawn == list(bob.series[MetricType.MEMORY].values)
        assert drawn[-1] == max(b for b in drawn if b is not None)
