"""Live latency of the local transport: a change committed by one client → a ``ChangeEvent`` in
another client's ``changes()`` (LISTEN, payload decoded, row re-read under RLS, model built).

The writer runs ``save_configuration`` as bob inside an impersonated transaction exactly as the
backend does, and the clock starts right before its COMMIT is sent; it stops when alice's
``changes()`` yields the matching event. Changes are sequential (one in flight) so each figure
is one change's latency. Beside it, the reference: the raw LISTEN/NOTIFY round trip (NOTIFY
sent → notification received on another connection) on the same server, same loop.

Targets: median ≤ 5 ms, p99 ≤ 20 ms.

Usage: python bench/bench_live_latency.py [--changes 500] [--database-url URL]
Without --database-url (or DEVSYNC_DATABASE_URL) it starts a private embedded server in a
temporary directory, with the demo workspace, and removes it afterwards. With a URL it writes
benchmark keys into the demo project "storefront" of that database.
Prints one JSON object per figure: {name, value, unit, reference?, ratio?, target?, n}.
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

from devsync_tui.backend.base import ChangeEvent, LinkChanged
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.postgres.pool import IMPERSONATE, claims_for

STOREFRONT = UUID("00000000-0000-4000-c000-000000000001")
WARMUP = 20


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def emit(name: str, value: float, unit: str, n: int, **extra: Any) -> None:
    out: dict[str, Any] = {"name": name, "value": round(value, 3), "unit": unit, "n": n}
    out.update({k: (round(v, 3) if isinstance(v, float) else v) for k, v in extra.items()})
    print(json.dumps(out), flush=True)


async def raw_roundtrip(url: str, count: int) -> list[float]:
    """NOTIFY on one connection → received on another, in ms."""
    listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
    sender = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:
        await listener.execute("LISTEN bench_roundtrip")
        samples: list[float] = []
        for i in range(count + WARMUP):
            gen = listener.notifies(stop_after=1)
            receive = asyncio.ensure_future(anext(gen))
            await asyncio.sleep(0)  # let the receiver start waiting
            start = time.perf_counter()
            await sender.execute("select pg_notify('bench_roundtrip', %s)", (str(i),))
            await receive
            elapsed = (time.perf_counter() - start) * 1000
            await gen.aclose()
            if i >= WARMUP:
                samples.append(elapsed)
        return samples
    finally:
        await listener.close()
        await sender.close()


async def live_latency(url: str, count: int) -> list[float]:
    """bob commits a save → alice's changes() yields it, in ms."""
    alice = PostgresBackend(url, "alice", embedded=False)
    bob = PostgresBackend(url, "bob", embedded=False)
    await alice.connect()
    await bob.connect()
    writer = await psycopg.AsyncConnection.connect(url)
    feed = alice.changes()
    try:
        async for event in feed:
            if event == LinkChanged("live"):
                break
        claims = claims_for(await bob.whoami())
        prefix = f"BENCH_{os.getpid()}_"
        samples: list[float] = []
        for i in range(count + WARMUP):
            key = f"{prefix}{i}"
            async with writer.cursor() as cur:
                await cur.execute(IMPERSONATE, (claims,))
                await cur.execute(
                    "select id from public.save_configuration(%s, null, %s, 'v', false, "
                    "'env_var', null)",
                    (STOREFRONT, key),
                )
            start = time.perf_counter()
            await writer.commit()
            async for event in feed:
                if (
                    isinstance(event, ChangeEvent)
                    and event.table == "configurations"
                    and event.row is not None
                    and event.row.key == key
                ):
                    break
            elapsed = (time.perf_counter() - start) * 1000
            if i >= WARMUP:
                samples.append(elapsed)
        async with writer.cursor() as cur:  # leave the demo project as it was
            await cur.execute(
                "delete from public.configurations where project_id = %s and key like %s",
                (STOREFRONT, prefix + "%"),
            )
        await writer.commit()
        return samples
    finally:
        await feed.aclose()  # type: ignore[attr-defined]
        await writer.close()
        await alice.close()
        await bob.close()


def start_embedded() -> tuple[str, Path]:
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-bench-"))
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    return local.ensure_running(), data_dir


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--database-url", default=os.environ.get("DEVSYNC_DATABASE_URL"))
    args = parser.parse_args()
    data_dir: Path | None = None
    url = args.database_url
    if not url:
        url, data_dir = await asyncio.to_thread(start_embedded)
    try:
        raw = await raw_roundtrip(url, args.changes)
        live = await live_latency(url, args.changes)
    finally:
        if data_dir is not None:
            from devsync_tui.backend.postgres import server as local

            await asyncio.to_thread(local.reset)
            shutil.rmtree(data_dir, ignore_errors=True)
    raw_median, raw_p99 = statistics.median(raw), percentile(raw, 99)
    live_median, live_p99 = statistics.median(live), percentile(live, 99)
    emit("listen_notify_roundtrip_median", raw_median, "ms", len(raw))
    emit("listen_notify_roundtrip_p99", raw_p99, "ms", len(raw))
    emit(
        "live_change_latency_median",
        live_median,
        "ms",
        len(live),
        reference=raw_median,
        reference_name="listen_notify_roundtrip_median",
        ratio=live_median / raw_median,
        target=5.0,
    )
    emit(
        "live_change_latency_p99",
        live_p99,
        "ms",
        len(live),
        reference=raw_p99,
        reference_name="listen_notify_roundtrip_p99",
        ratio=live_p99 / raw_p99,
        target=20.0,
    )


if __name__ == "__main__":
    asyncio.run(main())
