"""Health pane on the large workspace: time until every sparkline is on screen, and the reads.

Project "monolith" of ``devsync local demo --size large`` (``backend.demo_large``): 200
environments, 1,000,000 health points in the last day. On a private embedded server (created,
filled and stopped here) or, with ``--url``, on a database that already holds it. As alice
(team admin, under RLS), median over repeats:
- ``health_pane_first_sparklines``: from ``HealthPane.show()`` to the first frame that draws a
  sparkline (the first batch of environments);
- ``health_pane_screen_sparklines``: to the first frame in which every row on screen has its
  sparklines;
- ``health_pane_all_sparklines``: from ``show()`` to the first frame after every environment's
  series was read (``series_loaded``), headless ``App.run_test`` at 120×40;
- ``health_sparklines_200_envs``: ``Backend.health_sparklines`` for all 200 environments, 60
  slots (4 arrays of 60 averages each) over the window the pane asks for at that width
  (``sparkline_window``: a day of whole 12-minute cells, read from the roll-up), with
  ``health_latest`` beside it (``health_buckets_*`` before migration ...20261206061000: the
  same averages as a row per slot);
  reference: the raw points of the same day through ``Backend.health_series`` (what the pane
  read before the database averaged them);
- ``health_sparklines_200_envs_unaligned``: the same for a day ending now (not whole cells: the
  points path, what every window took before the roll-up).

``--points 50m``: the same on the reusable database of ``health_50m_data.py`` (500 machines ×
2,000 packages, 50,000,000 points over ~17.4 days, in ``/work/bench-data/health-50m`` or
``--data-dir``; generated on the first run, ~15 GB, tens of minutes; reused afterwards and left
running for the next run). DevSync's clock is frozen a minute after its newest point, so "the
last day" is the generated one on any later day. Figures are named ``…_50m``; besides the above
(for all 500 machines, and for the first 200 as at 1M):
- ``health_latest_*``: ``Backend.health_latest`` alone;
- ``machine_detail_reads_50m``: what the machine detail screen reads for one machine (its
  dependencies, the baseline's, its configuration states);
- ``health_pane_rss_growth`` / ``health_pane_sort`` / ``health_pane_filter``: the process's RSS
  from before ``show()`` to every sparkline shown, one `s` (sort) step and one filter, each to
  its next frame, over every order of ``SORTS``.
The raw-points reference is read at 1M only (a day of 500 machines is 2,880,000 points).

Usage: python bench/bench_health_pane.py [--repeats 3] [--url URL] [--points 1m|50m]
Prints one JSON object per figure (median, min, max, n, reference, ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from common import figure
from textual.app import App, ComposeResult
from textual.strip import Strip

from devsync_tui.backend.postgres import demo_large
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import clock
from devsync_tui.core.models import Environment, Project
from devsync_tui.dashboard.panes import health as health_screen
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.screens import machine_detail
from devsync_tui.dashboard.widgets.health_series import BARS, sparkline_window
from devsync_tui.dashboard.widgets.health_table import HealthTable

SIZE = (120, 40)
LIMIT_S = 300.0


class Probe:
    """When the table first drew a sparkline, first drew one on every row on screen, and first
    drew after everything was read."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.screen: float | None = None
        self.full: float | None = None
        self.pane: HealthPane | None = None
        #: Screen lines (1 = the first row) whose last drawing held a sparkline.
        self.lines: dict[int, bool] = {}


PROBE = Probe()


class ProbedTable(HealthTable):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        drawn = y >= 1 and any(bar in strip.text for bar in BARS)
        if y >= 1:
            PROBE.lines[y] = drawn
        if drawn:
            now = time.perf_counter()
            if PROBE.first is None:
                PROBE.first = now
            on_screen = min(len(self.rows), self.scrollable_content_region.height - 1)
            if PROBE.screen is None and all(PROBE.lines.get(i) for i in range(1, on_screen + 1)):
                PROBE.screen = now
            if PROBE.full is None and PROBE.pane is not None and PROBE.pane.series_loaded:
                PROBE.full = now
        return strip


class ProbedPane(HealthPane):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield ProbedTable(id="health-table") if isinstance(widget, HealthTable) else widget


class Host(App[None]):
    def __init__(self, backend: PostgresBackend) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        yield ProbedPane(self.backend)


async def _monolith(backend: PostgresBackend) -> tuple[Project, list[Environment]]:
    project = next(p for p in await backend.list_projects() if p.name == "monolith")
    return project, await backend.list_environments(project.id)


class PaneRun:
    """One opening of the pane: times to the first and to every sparkline, and what followed."""

    def __init__(self) -> None:
        self.first = self.screen = self.full = 0.0
        self.rss_growth_mib = 0.0
        self.sorts: list[float] = []
        self.filters: list[float] = []


async def _next_frame(pilot: Any, table: HealthTable) -> None:
    """Until the table has drawn what it was just given (a refresh, then a frame)."""
    await pilot.pause()
    while table._repaint_required or table._layout_required:
        await pilot.pause(0.001)


async def pane_once(url: str, *, interactions: bool = False) -> PaneRun:
    backend = PostgresBackend(url, "alice", embedded=False)
    await backend.connect()
    run = PaneRun()
    process = psutil.Process()
    try:
        project, envs = await _monolith(backend)
        app = Host(backend)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(ProbedPane)
            PROBE.first = PROBE.screen = PROBE.full = None
            PROBE.lines = {}
            PROBE.pane = pane
            rss = process.memory_info().rss
            start = time.perf_counter()
            pane.show(project, envs)
            deadline = start + LIMIT_S
            while PROBE.full is None:
                if time.perf_counter() > deadline:
                    raise TimeoutError("the pane did not show every sparkline")
                await pilot.pause(0.005)
            assert PROBE.first is not None
            assert PROBE.screen is not None
            run.first, run.full = PROBE.first - start, PROBE.full - start
            run.screen = PROBE.screen - start
            run.rss_growth_mib = (process.memory_info().rss - rss) / 2**20
            if interactions:
                table = pane.table
                for _ in range(len(health_screen.SORTS)):  # every order, back to "name"
                    t0 = time.perf_counter()
                    pane.action_sort()
                    await _next_frame(pilot, table)
                    run.sorts.append(time.perf_counter() - t0)
                for text in ("machine-1", "machine-12", "machine-123", ""):
                    t0 = time.perf_counter()
                    table.filter(text)
                    await _next_frame(pilot, table)
                    run.filters.append(time.perf_counter() - t0)
            return run
    finally:
        await backend.close()


async def reads_50m(url: str, repeats: int) -> None:
    """The pane's reads at 50M points, for all 500 machines and for the first 200."""
    backend = PostgresBackend(url, "alice", embedded=False)
    await backend.connect()
    try:
        project, envs = await _monolith(backend)
        now = clock.now()
        start, end = sparkline_window(now, 60)
        since = now - timedelta(days=1)
        for count in (len(envs), 200):
            ids = [e.id for e in envs[:count]]
            both, latest_alone, unaligned = [], [], []
            rows = 0
            for _ in range(repeats):
                t0 = time.perf_counter()
                got = await backend.health_sparklines(ids, start, 60, until=end)
                latest = await backend.health_latest(ids, start)
                both.append(time.perf_counter() - t0)
                rows = len(got) + len(latest)
                t0 = time.perf_counter()
                await backend.health_latest(ids, start)
                latest_alone.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await backend.health_sparklines(ids, since, 60)
                await backend.health_latest(ids, since)
                unaligned.append(time.perf_counter() - t0)
            extra = {"rows": rows, "window": [str(start), str(end)], "points": 50_000_000}
            figure(f"health_sparklines_{count}_envs_50m", both, "s", target=0.25, extra=extra)
            figure(f"health_latest_{count}_envs_50m", latest_alone, "s")
            figure(f"health_sparklines_{count}_envs_unaligned_50m", unaligned, "s", target=0.5)
        env = envs[0]
        detail = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            await backend.list_dependencies(
                project.id, environment_ids=[env.id], limit=machine_detail.DEPENDENCY_LIMIT
            )
            await backend.list_dependencies(
                project.id, environment_ids=[None], limit=machine_detail.DEPENDENCY_LIMIT
            )
            await backend.config_states(project.id, [env.id])
            detail.append(time.perf_counter() - t0)
        figure("machine_detail_reads_50m", detail, "s", extra={"machine": env.name})
    finally:
        await backend.close()


async def reads(url: str, repeats: int) -> None:
    backend = PostgresBackend(url, "alice", embedded=False)
    await backend.connect()
    try:
        _project, envs = await _monolith(backend)
        ids = [e.id for e in envs]
        since = clock.now() - timedelta(days=1)
        start, end = sparkline_window(clock.now(), 60)
        sparklines, unaligned, raw = [], [], []
        rows = points = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            got = await backend.health_sparklines(ids, start, 60, until=end)
            latest = await backend.health_latest(ids, start)
            sparklines.append(time.perf_counter() - t0)
            rows = len(got) + len(latest)
            t0 = time.perf_counter()
            await backend.health_sparklines(ids, since, 60)
            await backend.health_latest(ids, since)
            unaligned.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            points = len(await backend.health_series(ids, since))
            raw.append(time.perf_counter() - t0)
        figure(
            "health_sparklines_200_envs",
            sparklines,
            "s",
            reference=raw,
            reference_name="health_series_200_envs_raw",
            target=0.25,
            extra={"rows": rows, "raw_points": points, "window": [str(start), str(end)]},
        )
        figure("health_sparklines_200_envs_unaligned", unaligned, "s", target=0.5)
    finally:
        await backend.close()


async def measure(url: str, repeats: int, *, big: bool = False) -> None:
    runs = [await pane_once(url, interactions=big) for _ in range(repeats)]
    extra = {"batch": health_screen.BATCH, "first_batch": health_screen.FIRST_BATCH}
    suffix = "_50m" if big else ""
    figure(f"health_pane_first_sparklines{suffix}", [r.first for r in runs], "s", extra=extra)
    figure(f"health_pane_screen_sparklines{suffix}", [r.screen for r in runs], "s", extra=extra)
    figure(f"health_pane_all_sparklines{suffix}", [r.full for r in runs], "s", extra=extra)
    if not big:
        await reads(url, repeats)
        return
    figure("health_pane_rss_growth_50m", [r.rss_growth_mib for r in runs], "MiB")
    figure("health_pane_sort_50m", [t for r in runs for t in r.sorts], "s")
    figure("health_pane_filter_50m", [t for r in runs for t in r.filters], "s")
    await reads_50m(url, repeats)


async def main_50m(data_dir: Path, repeats: int) -> None:
    """On the reusable 50M database (generated first if missing), the clock just after it."""
    import psycopg
    from health_50m_data import prepare

    url = await asyncio.to_thread(prepare, data_dir)
    with psycopg.connect(url) as conn:
        row = conn.execute("select anchor from bench.health_50m").fetchone()
    assert row is not None
    clock.freeze(row[0] + timedelta(minutes=1))
    await measure(url, repeats, big=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--url", help="a database that already holds the large workspace")
    parser.add_argument("--points", choices=("1m", "50m"), default="1m")
    parser.add_argument("--data-dir", type=Path, help="of the 50M database (health_50m_data.py)")
    args = parser.parse_args()
    if args.points == "50m":
        from health_50m_data import DEFAULT_DIR

        await main_50m(args.data_dir or DEFAULT_DIR, args.repeats)
        return
    if args.url:
        await measure(args.url, args.repeats)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-bench-health-"))
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    try:
        url = await asyncio.to_thread(local.ensure_running)
        await asyncio.to_thread(demo_large.generate, url, "large")
        await measure(url, args.repeats)
    finally:
        await asyncio.to_thread(local.reset)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
