"""``PostgresBackend.list_dependencies`` over a whole project of ~100k rows (the drift view's load).

Generates 200 environments × 500 packages (+ a 500-package baseline) in the demo project
"storefront" of a private embedded server (set-based SQL as the superuser, triggers off), then
times, as alice under RLS, median over repeats:
- ``list_dependencies`` (binary tuple fetch, positional dataclass construction);
- reference: the same query fetched raw (tuples only, no models);
- beside it: the straightforward way (dict rows → ``rows.dependency_from_row``).

Usage: python bench/bench_list_dependencies.py [--repeats 5]
Prints one JSON object per figure: {name, value, unit, n, reference?, ratio?}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg.rows import dict_row, tuple_row

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.rows import dependency_from_row

STOREFRONT = UUID("00000000-0000-4000-c000-000000000001")
ALICE = UUID("00000000-0000-4000-a000-000000000001")
#: The statement list_dependencies runs for a whole project (the reference fetches it raw).
QUERY = (
    "select id, environment_id::text, package_manager, package_name, version_constraint, "
    "resolved_version, status, updated_at from public.dependencies where project_id = %s "
    'order by package_manager, package_name collate "C", environment_id nulls first'
)
NAIVE_QUERY = (
    "select project_id, id, environment_id, package_manager, package_name, version_constraint, "
    "resolved_version, status, updated_at from public.dependencies where project_id = %s "
    'order by package_manager, package_name collate "C", environment_id nulls first'
)


def generate(url: str, environments: int, packages: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("set session_replication_role = replica")  # no triggers, no notifies
        conn.execute(
            "insert into public.environments (project_id, user_id, name) "
            "select %s, %s, 'bench-' || g from generate_series(1, %s) g",
            (STOREFRONT, ALICE, environments),
        )
        conn.execute(
            """
            insert into public.dependencies (project_id, environment_id, package_manager,
              package_name, version_constraint, resolved_version, status)
            select %(p)s, e.id, (array['npm','pip','gem','cargo'])[1 + g %% 4], 'package-' || g,
                   '^1.' || (g %% 9) || '.0',
                   '1.' || (g %% 9) || '.' || (abs(hashtext(e.name)) %% 5),
                   (array['healthy','healthy','outdated','vulnerable'])[1 + (g * 7) %% 4]
            from (select id, name from public.environments where project_id = %(p)s
                  union all select null, 'baseline') e,
                 generate_series(1, %(n)s) g
            on conflict do nothing
            """,
            {"p": STOREFRONT, "n": packages},
        )
        conn.execute("analyze public.dependencies")


def emit(name: str, values: list[float], unit: str, **extra: Any) -> None:
    out: dict[str, Any] = {
        "name": name,
        "value": round(statistics.median(values), 4),
        "unit": unit,
        "n": len(values),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }
    out.update(extra)
    print(json.dumps(out), flush=True)


async def measure(url: str, repeats: int) -> None:
    alice = PostgresBackend(url, "alice", embedded=False)
    await alice.connect()
    try:
        fast: list[float] = []
        raw: list[float] = []
        naive: list[float] = []
        count = 0
        for _ in range(repeats):
            start = time.perf_counter()
            rows = await alice.list_dependencies(STOREFRONT)
            fast.append(time.perf_counter() - start)
            count = len(rows)
            del rows

            async def fetch_raw(cur: Any) -> int:
                await cur.execute("select set_config('work_mem', '64MB', true)")
                await cur.execute(QUERY, (STOREFRONT,), binary=True)
                return len(await cur.fetchall())

            start = time.perf_counter()
            await alice.read(fetch_raw, row_factory=tuple_row)
            raw.append(time.perf_counter() - start)

            async def fetch_naive(cur: Any) -> int:
                await cur.execute(
                    QUERY.replace("select id,", "select project_id, id,"), (STOREFRONT,)
                )
                return len([dependency_from_row(r) for r in await cur.fetchall()])

            start = time.perf_counter()
            await alice.read(fetch_naive, row_factory=dict_row)
            naive.append(time.perf_counter() - start)
        ref = statistics.median(raw)
        emit(
            "list_dependencies_100k",
            fast,
            "s",
            rows=count,
            reference=round(ref, 4),
            reference_name="raw tuple fetch, no models",
            ratio=round(statistics.median(fast) / ref, 3),
        )
        emit("list_dependencies_raw_fetch", raw, "s", rows=count)
        emit(
            "list_dependencies_naive_dict_rows",
            naive,
            "s",
            rows=count,
            reference=round(statistics.median(fast), 4),
            reference_name="list_dependencies_100k",
            ratio=round(statistics.median(naive) / statistics.median(fast), 3),
        )
    finally:
        await alice.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--environments", type=int, default=200)
    parser.add_argument("--packages", type=int, default=500)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-bench-deps-"))
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    try:
        url = await asyncio.to_thread(local.ensure_running)
        await asyncio.to_thread(generate, url, args.environments, args.packages)
        await measure(url, args.repeats)
    finally:
        await asyncio.to_thread(local.reset)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
