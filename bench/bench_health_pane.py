"""Health pane on the large workspace: time until every sparkline is on screen, and the reads.

Project "monolith" of ``devsync local demo --size large`` (``backend.demo_large``): 200
environments, 1,000,000 health points in the last day. On a private embedded server (created,
filled and stopped here) or, with ``--url``, on a database that already holds it. As alice
(team admin, under RLS), median over repeats:
- ``health_pane_first_sparklines``: from ``HealthPane.show()`` to the first frame that draws a
  sparkline (the first batch of environments);
- ``health_pane_all_sparklines``: from ``show()`` to the first frame after every environment's
  series was read (``series_loaded``), headless ``App.run_test`` at 120×40;
- ``health_buckets_200_envs``: ``Backend.health_buckets`` for all 200 environments, 60 slots
  (4 × 60 averages each) over the window the pane asks for at that width (``sparkline_window``:
  a day of whole 12-minute cells, read from the roll-up), with ``health_latest`` beside it;
  reference: the raw points of the same day through ``Backend.health_series`` (what the pane
  read before buckets);
- ``health_buckets_200_envs_unaligned``: the same for a day ending now (not whole cells: the
  points path, what every window took before the roll-up).

Usage: python bench/bench_health_pane.py [--repeats 3] [--url URL]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import figure
from textual.app import App, ComposeResult
from textual.strip import Strip

from devsync_tui.backend.postgres import demo_large
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import clock
from devsync_tui.core.models import Environment, Project
from devsync_tui.dashboard.panes import health as health_screen
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.widgets.health_series import BARS, sparkline_window
from devsync_tui.dashboard.widgets.health_table import HealthTable

SIZE = (120, 40)
LIMIT_S = 300.0


class Probe:
    """When the table first drew a sparkline, and first drew after everything was read."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.full: float | None = None
        self.pane: HealthPane | None = None


PROBE = Probe()


class ProbedTable(HealthTable):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y >= 1 and any(bar in strip.text for bar in BARS):
            now = time.perf_counter()
            if PROBE.first is None:
                PROBE.first = now
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


async def pane_once(url: str) -> tuple[float, float]:
    backend = PostgresBackend(url, "alice", embedded=False)
    await backend.connect()
    try:
        project, envs = await _monolith(backend)
        app = Host(backend)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(ProbedPane)
            PROBE.first = PROBE.full = None
            PROBE.pane = pane
            start = time.perf_counter()
            pane.show(project, envs)
            deadline = start + LIMIT_S
            while PROBE.full is None:
                if time.perf_counter() > deadline:
                    raise TimeoutError("the pane did not show every sparkline")
                await pilot.pause(0.005)
            assert PROBE.first is not None
            return PROBE.first - start, PROBE.full - start
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
        buckets, unaligned, raw = [], [], []
        rows = points = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            got = await backend.health_buckets(ids, start, 60, until=end)
            latest = await backend.health_latest(ids, start)
            buckets.append(time.perf_counter() - t0)
            rows = len(got) + len(latest)
            t0 = time.perf_counter()
            await backend.health_buckets(ids, since, 60)
            await backend.health_latest(ids, since)
            unaligned.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            points = len(await backend.health_series(ids, since))
            raw.append(time.perf_counter() - t0)
        figure(
            "health_buckets_200_envs",
            buckets,
            "s",
            reference=raw,
            reference_name="health_series_200_envs_raw",
            target=0.25,
            extra={"rows": rows, "raw_points": points, "window": [str(start), str(end)]},
        )
        figure("health_buckets_200_envs_unaligned", unaligned, "s", target=0.5)
    finally:
        await backend.close()


async def measure(url: str, repeats: int) -> None:
    firsts, fulls = [], []
    for _ in range(repeats):
        first, full = await pane_once(url)
        firsts.append(first)
        fulls.append(full)
    extra = {"batch": health_screen.BATCH, "first_batch": health_screen.FIRST_BATCH}
    figure("health_pane_first_sparklines", firsts, "s", extra=extra)
    figure("health_pane_all_sparklines", fulls, "s", extra=extra)
    await reads(url, repeats)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--url", help="a database that already holds the large workspace")
    args = parser.parse_args()
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
        await asyncio.to_thread(local.stop)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
