"""A burst of teammates' changes into an open dashboard: what each change costs it, and how
long after the last commit its screen is right again.

The dashboard runs headless (``App.run_test``, 120×40) as alice on the storefront project's
defaults, which hold ``--keys`` keys (2,000 by default, added for the run). Another process
then runs 32 connections, each updating its own key of those (raw one-row UPDATEs in
autocommit: every one is a change event through the triggers) as fast as it can for
``--seconds``. Figures:

- ``live.burst.cpu_per_change``: the dashboard process's CPU (all threads, from the burst's
  first commit until its view shows the last value of every changed key) ÷ the changes;
- ``live.burst.catch_up``: wall time from the last commit until the view shows the last
  value of every changed key (the rows the table draws come from that view);
- with ``changes_per_s``: how fast the burst went (it shares the 2 cores with the dashboard).

Usage: python bench/bench_live_burst.py [--keys 2000] [--seconds 5] [--repeats 2]
[--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_screen_latency import STOREFRONT
from common import database_url, figure

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.app import make_app
from devsync_tui.settings import Settings

CLIENTS = 32


def _add_keys(url: str, prefix: str, n: int) -> list[tuple[uuid.UUID, str]]:
    """``n`` project defaults of storefront named ``prefix``N; their ids and keys."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "insert into public.configurations (project_id, key, value) "
            "select %s, %s || lpad(i::text, 5, '0'), 'start' from generate_series(1, %s) i "
            "returning id, key",
            (STOREFRONT, prefix, n),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _drop_keys(url: str, prefix: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "delete from public.configurations where project_id = %s and key like %s",
            (STOREFRONT, prefix + "%"),
        )


def _final_values(url: str, ids: list[uuid.UUID]) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select key, value from public.configurations where id = any(%s)", (ids,)
        ).fetchall()
    return {row[0]: row[1] for row in rows}


async def _storm(url: str, ids: list[str], seconds: float) -> None:
    """Run by the other process: one connection per id, updating it until ``seconds``."""
    conns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in ids]
    end = time.perf_counter() + seconds
    done = [0] * len(ids)

    async def client(c: int) -> None:
        i = 0
        while time.perf_counter() < end:
            i += 1
            await conns[c].execute(
                "update public.configurations set value = %s where id = %s", (f"b{i}", ids[c])
            )
        done[c] = i

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(len(ids))))
    elapsed = time.perf_counter() - started
    for conn in conns:
        await conn.close()
    print(json.dumps({"changes": sum(done), "seconds": elapsed}))


def _shown(app: Any) -> dict[str, str | None]:
    view = app.main.query_one("ConfigurationPane").view
    return {} if view is None else {r.key: r.value for r in view.rows}


async def _once(url: str, keys: int, seconds: float) -> dict[str, float]:
    prefix = f"BURST_{uuid.uuid4().hex[:6]}_"
    added = _add_keys(url, prefix, keys)
    stormed = added[:: max(1, keys // CLIENTS)][:CLIENTS]

    async def factory(settings: Any, **_: Any) -> PostgresBackend:
        backend = PostgresBackend(url, "alice", embedded=False)
        await backend.connect()
        return backend

    app = make_app(Settings(), factory, user="alice", project="storefront", animations=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.perf_counter() + 30
            while len(_shown(app)) < keys and time.perf_counter() < deadline:
                await pilot.pause(0.05)
            if len(_shown(app)) < keys:
                raise SystemExit("the project's keys never reached the view")
            await pilot.pause(1.0)  # the start's own work done
            cpu0 = time.process_time()
            storm = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--storm", url, str(seconds),
                *(str(i) for i, _ in stormed),
                stdout=subprocess.PIPE,
            )  # fmt: skip
            out, _ = await storm.communicate()
            ended = time.perf_counter()
            result = json.loads(out)
            final = _final_values(url, [i for i, _ in stormed])
            while any(_shown(app).get(k) != v for k, v in final.items()):
                await asyncio.sleep(0.01)
                if time.perf_counter() - ended > 60:
                    raise SystemExit("the view never caught up with the burst")
            caught_up = time.perf_counter() - ended
            cpu = time.process_time() - cpu0
    finally:
        _drop_keys(url, prefix)
    return {
        "changes": result["changes"],
        "per_s": result["changes"] / result["seconds"],
        "cpu_ms_per_change": cpu * 1000 / result["changes"],
        "catch_up": caught_up,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--storm":
        asyncio.run(_storm(sys.argv[2], sys.argv[4:], float(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = database_url(args.database_url)
    runs = [asyncio.run(_once(url, args.keys, args.seconds)) for _ in range(args.repeats)]
    rates = {"changes_per_s": [round(r["per_s"]) for r in runs], "keys": args.keys}
    figure(
        "live.burst.cpu_per_change",
        [r["cpu_ms_per_change"] for r in runs],
        "ms",
        extra={"changes": [r["changes"] for r in runs], **rates},
    )
    figure("live.burst.catch_up", [r["catch_up"] for r in runs], "s", extra=rates)


if __name__ == "__main__":
    main()
