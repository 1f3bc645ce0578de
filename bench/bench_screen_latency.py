"""Live latency to the screen: a change committed by another client → the new value in the
open dashboard's configuration table (feed, coalescing, re-read, table render), beside the
raw LISTEN/NOTIFY round trip on the same server as the floor. (Commit → ``ChangeEvent`` is
bench_live_latency.py.) Target: median ≤ 100 ms on screen.

The dashboard runs headless (``App.run_test``, 120×40) as alice on storefront/bob-laptop;
bob saves ``BOB_DEBUG_PORT`` through the RPC. Changes are sequential (one in flight). The clock
stops at the first frame that draws the new value (the table renders a line holding it:
``live.commit_to_screen``); ``live.commit_to_idle`` is the older, looser figure — until the app
is idle after it (``pilot.pause(0)``: the origins read, bindings refresh and whatever else the
change set off).

Usage: python bench/bench_screen_latency.py [--changes 500] [--database-url URL] [--keep-views]
(default: the embedded database; writes the demo key BOB_DEBUG_PORT of storefront/bob-laptop).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from textual.widgets import DataTable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keep_views
from common import figure

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard import startup_gc
from devsync_tui.dashboard.app import make_app
from devsync_tui.dashboard.panes.configuration import ConfigurationPane
from devsync_tui.settings import Settings

STOREFRONT = UUID("00000000-0000-4000-c000-000000000001")
BOB_LAPTOP = UUID("00000000-0000-4000-d000-000000000001")
KEY = "BOB_DEBUG_PORT"

#: The value a change is waiting for, and when a frame first drew it.
DRAWN: dict[str, Any] = {"want": None, "at": None}


def _probe_frames() -> None:
    """Stamp the first ``render_line`` (of any data table) whose text holds the awaited value."""
    original = DataTable.render_line

    def render_line(self: DataTable[Any], y: int) -> Any:
        strip = original(self, y)
        want = DRAWN["want"]
        if want is not None and DRAWN["at"] is None and want in strip.text:
            DRAWN["at"] = time.perf_counter()
        return strip

    DataTable.render_line = render_line  # type: ignore[method-assign]


def _cell(app: Any) -> str:
    table = app.main.query_one(ConfigurationPane).rows_table.table
    try:
        cell = table.get_row(KEY)[1]
    except Exception:
        return ""
    return str(getattr(cell, "plain", cell))


async def _raw_round_trip(url: str, n: int) -> list[float]:
    listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
    sender = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await listener.execute("listen bench_floor")
    out: list[float] = []
    gen = listener.notifies()
    for i in range(n):
        started = time.perf_counter()
        await sender.execute(f"notify bench_floor, '{i}'")
        await anext(gen)
        out.append((time.perf_counter() - started) * 1000)
    await listener.close()
    await sender.close()
    return out


async def run(url: str, changes: int, keep: keep_views.KeptViews | None = None) -> None:
    async def factory(settings: Any, **_: Any) -> PostgresBackend:
        backend = PostgresBackend(url, "alice", embedded=False)
        await backend.connect()
        return backend

    # As `devsync` does (dashboard/launch.py): collection paused until the first view, then
    # resumed with what exists by then frozen.
    startup_gc.pause()
    _probe_frames()
    app = make_app(
        Settings(), factory, user="alice", project="storefront", env="bob-laptop",
        animations=False, cache_owner=keep.owner(url) if keep is not None else None,
    )  # fmt: skip
    writer = PostgresBackend(url, "bob", embedded=False)
    await writer.connect()
    screen_ms: list[float] = []
    idle_ms: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.perf_counter() + 30
        while not _cell(app) and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        rows = await writer.list_configurations(STOREFRONT, BOB_LAPTOP)
        version = next(r.version for r in rows if r.key == KEY)
        for i in range(changes):
            value = str(20000 + i)
            DRAWN["want"], DRAWN["at"] = value, None
            started = time.perf_counter()
            saved = await writer.save_configuration(
                STOREFRONT, BOB_LAPTOP, KEY, value, is_secret=False,
                type=ConfigType.ENV_VAR, expected_version=version,
            )  # fmt: skip
            version = saved.version
            while _cell(app) != value:
                await asyncio.sleep(0.0005)
                if time.perf_counter() - started > 10:
                    raise SystemExit(f"change {i} never reached the screen")
            while DRAWN["at"] is None:  # the first frame that draws it
                await asyncio.sleep(0.0005)
                if time.perf_counter() - started > 10:
                    raise SystemExit(f"change {i} was never drawn")
            screen_ms.append((DRAWN["at"] - started) * 1000)
            await pilot.pause(0)  # idle after it
            idle_ms.append((time.perf_counter() - started) * 1000)
            # Changes a moment apart, as people make them: a change right after the previous
            # screen update is coalesced with whatever follows (COALESCE_WINDOW), by design.
            await asyncio.sleep(0.1)
    await writer.close()
    floor = await _raw_round_trip(url, changes)
    figure(
        "live.commit_to_screen",
        screen_ms,
        "ms",
        reference=floor,
        reference_name="raw LISTEN/NOTIFY round trip",
        target=100,
    )
    figure(
        "live.commit_to_idle",
        idle_ms,
        "ms",
        reference=floor,
        reference_name="raw LISTEN/NOTIFY round trip",
    )


def main() -> None:
    keep_views.main(run, __doc__, default_changes=500)


if __name__ == "__main__":
    main()
