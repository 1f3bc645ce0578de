"""A dashboard open for a week: memory and collection pauses while teammates' changes arrive.

The dashboard runs headless (``App.run_test``, 120×40) as alice on storefront/bob-laptop, with
the start-up collection settings of ``devsync`` (dashboard/startup_gc.py); bob saves
``BOB_DEBUG_PORT`` through the RPC, one change at a time, each waited for on screen, a moment
apart. Figures (issue 16 targets):

- ``live.rss_growth``: RSS after the last change minus RSS after the first 100 (≤ 10 MiB
  over 10,000 changes);
- ``live.gc_pause_full``: wall time of each automatic full (generation 2) collection
  (≤ 50 ms), with its CPU time beside it (the machines are shared: wall time includes being
  descheduled);
- ``live.widgets_alive``: widgets alive after the last change, beside after the first 100.

Usage: python bench/bench_live_memory.py [--changes 10000] [--database-url URL] [--keep-views]
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keep_views
from bench_screen_latency import BOB_LAPTOP, KEY, STOREFRONT, _cell
from common import figure
from textual.widget import Widget

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard import startup_gc
from devsync_tui.dashboard.app import make_app
from devsync_tui.settings import Settings


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


class _Pauses:
    """Wall and CPU time of every automatic full collection."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._started = (0.0, 0.0)
        self.on = True

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
        elif info["generation"] == 2:
            self.wall.append((time.perf_counter() - self._started[0]) * 1000)
            self.cpu.append((time.thread_time() - self._started[1]) * 1000)


def _widgets(pauses: _Pauses) -> int:
    pauses.on = False  # our own collection is not one of the app's pauses
    gc.collect()
    pauses.on = True
    return sum(isinstance(o, Widget) for o in gc.get_objects())


async def run(url: str, changes: int, keep: keep_views.KeptViews | None = None) -> None:
    async def factory(settings: Any, **_: Any) -> PostgresBackend:
        backend = PostgresBackend(url, "alice", embedded=False)
        await backend.connect()
        return backend

    pauses = _Pauses()
    gc.callbacks.append(pauses)
    startup_gc.pause()
    app = make_app(
        Settings(), factory, user="alice", project="storefront", env="bob-laptop",
        animations=False, cache_owner=keep.owner(url) if keep is not None else None,
    )  # fmt: skip
    writer = PostgresBackend(url, "bob", embedded=False)
    await writer.connect()
    marks: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.perf_counter() + 30
        while not _cell(app) and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        rows = await writer.list_configurations(STOREFRONT, BOB_LAPTOP)
        version = next(r.version for r in rows if r.key == KEY)
        for i in range(changes):
            value = str(50000 + i)
            saved = await writer.save_configuration(
                STOREFRONT, BOB_LAPTOP, KEY, value, is_secret=False,
                type=ConfigType.ENV_VAR, expected_version=version,
            )  # fmt: skip
            version = saved.version
            started = time.perf_counter()
            while _cell(app) != value:
                await asyncio.sleep(0.002)
                if time.perf_counter() - started > 10:
                    raise SystemExit(f"change {i} never reached the screen")
            await asyncio.sleep(0.05)
            if i == min(99, changes - 1):
                marks["widgets_100"] = _widgets(pauses)
                marks["rss_100"] = _rss_mib()
                pauses.wall.clear()
                pauses.cpu.clear()
        marks["widgets_end"] = _widgets(pauses)
        marks["rss_end"] = _rss_mib()
    await writer.close()
    gc.callbacks.remove(pauses)
    figure(
        "live.rss_growth",
        [marks["rss_end"] - marks["rss_100"]],
        "MiB",
        target=10,
        extra={"changes": changes, "rss_after_100": round(marks["rss_100"], 1)},
    )
    figure(
        "live.gc_pause_full",
        pauses.wall or [0.0],
        "ms",
        target=50,
        extra={"cpu_ms_max": round(max(pauses.cpu or [0.0]), 1), "collections": len(pauses.wall)},
    )
    figure(
        "live.widgets_alive",
        [marks["widgets_end"]],
        "widgets",
        extra={"after_100": marks["widgets_100"]},
    )


def main() -> None:
    keep_views.main(run, __doc__, default_changes=10_000)


if __name__ == "__main__":
    main()
