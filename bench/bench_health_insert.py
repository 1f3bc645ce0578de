"""What the health roll-up triggers (migration ...20261205180000_health_rollup) add to inserting
health points, on a private embedded server (created, seeded and stopped here).

- ``health_report_4_points``: ``Backend.report_health`` as bob (env owner) with one agent report
  (cpu, memory, disk, ping: what an agent sends every minute), one call per sample; reference:
  the same calls with the roll-up triggers disabled, in blocks alternating with the measured
  ones (the rest of the write path is the same);
- ``health_insert_200k_points``: one statement inserting 200,000 points (4 environments ×
  4 metrics × 12,500 minutes, as the superuser); reference: the same with the triggers
  disabled. The points are deleted afterwards with the triggers on (the roll-up stays right).

Usage: python bench/bench_health_insert.py [--reports 400] [--repeats 3] [--url URL]
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
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from common import figure

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import clock
from devsync_tui.core.models import HealthPoint, MetricType

TRIGGERS = ("health_rollup_insert", "health_rollup_delete", "health_rollup_update")
#: bob's laptop in the demo workspace (bob owns it: his agent reports its health).
BOB_LAPTOP = "00000000-0000-4000-d000-000000000001"
BLOCK = 20


def _triggers(url: str, on: bool) -> None:
    verb = "enable always" if on else "disable"
    with psycopg.connect(url, autocommit=True) as conn:
        for name in TRIGGERS:
            conn.execute(f"alter table public.health_checks {verb} trigger {name}")


def _recount(url: str, since: object) -> None:
    """Count in the roll-up the points reported while its triggers were off."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "select private.health_rollup_recount(array_agg(environment_id),"
            " array_agg(date_bin('12 minutes', recorded_at, timestamptz 'epoch')),"
            " array_agg(metric_type)) from public.health_checks"
            " where environment_id = %s and recorded_at >= %s",
            (BOB_LAPTOP, since),
        )


async def reports(url: str, count: int) -> None:
    backend = PostgresBackend(url, "bob", embedded=False)
    await backend.connect()
    with_rollup: list[float] = []
    without: list[float] = []
    start = clock.now() - timedelta(days=3)
    try:
        laptop = UUID(BOB_LAPTOP)
        i = 0
        for block in range(2 * count // BLOCK):
            on = block % 2 == 0
            await asyncio.to_thread(_triggers, url, on)
            for _ in range(BLOCK):
                at = start + timedelta(minutes=i)
                i += 1
                points = [
                    HealthPoint(
                        m, {"percent": 40.0 + i % 30} if m != MetricType.PING else {"ms": 12.5}, at
                    )
                    for m in MetricType
                ]
                t0 = time.perf_counter()
                await backend.report_health(laptop, points)
                (with_rollup if on else without).append(time.perf_counter() - t0)
    finally:
        await asyncio.to_thread(_triggers, url, True)
        await backend.close()
        await asyncio.to_thread(_recount, url, start)
    figure(
        "health_report_4_points",
        with_rollup,
        "s",
        reference=without,
        reference_name="health_report_4_points_without_rollup",
    )


_BULK = """
insert into public.health_checks (environment_id, metric_type, value, recorded_at)
select e.id, m.metric, jsonb_build_object('percent', (i %% 97)::float8 + 0.5, 'bench', true),
       now() - interval '30 days' - %s * interval '1 day' - make_interval(mins => i)
from (select id from public.environments order by id limit 4) e
cross join (values ('cpu'), ('memory'), ('disk'), ('ping')) m(metric)
cross join generate_series(1, 12500) i
"""


def bulk(url: str, repeats: int) -> None:
    with_rollup: list[float] = []
    without: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for r in range(repeats):
            for on in (True, False):
                _triggers(url, on)
                t0 = time.perf_counter()
                conn.execute(_BULK, (2 * r + int(on),))
                (with_rollup if on else without).append(time.perf_counter() - t0)
        _triggers(url, True)
        # the triggers recount the cells of what is deleted: the roll-up is right again
        conn.execute("delete from public.health_checks where value ? 'bench'")
    figure(
        "health_insert_200k_points",
        with_rollup,
        "s",
        reference=without,
        reference_name="health_insert_200k_points_without_rollup",
    )


async def measure(url: str, count: int, repeats: int) -> None:
    await reports(url, count)
    await asyncio.to_thread(bulk, url, repeats)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--url", help="a database that holds the demo workspace (is changed)")
    args = parser.parse_args()
    if args.url:
        await measure(args.url, args.reports, args.repeats)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-bench-health-insert-"))
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    try:
        url = await asyncio.to_thread(local.ensure_running)
        await measure(url, args.reports, args.repeats)
    finally:
        await asyncio.to_thread(local.reset)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
