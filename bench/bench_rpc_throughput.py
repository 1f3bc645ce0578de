"""save_configuration throughput with 1, 8 and 32 concurrent clients (local transport).

Each client is its own PostgresBackend (own connection pool) acting as alice and saves through
the real RPC path. Two workloads per client count:
- ``own-key``: each client edits its own key (no conflicts possible) — calls per second;
- ``shared-keys``: all clients edit the same 4 keys, re-reading on conflict — accepted writes
  and conflicts per second, then a check that nothing was lost: every key's final version is
  1 + its accepted writes and its history holds exactly one row per version.

The reference, measured in the same run for each client count: the same number of plain
psycopg connections each running a raw one-row ``UPDATE public.configurations`` of its own key
in autocommit (the same triggers fire: version bump, history row, change notification), with
no permission check and no impersonation. ``ratio`` = save_configuration calls/s ÷ raw
UPDATEs/s (target at 32 clients: ≥ 0.8).

Both workloads are timed the same way: every client connects (and a saving client reads its
keys' versions) first; one window of ``--seconds`` then opens for all of them at once, and only
the calls that end inside it count. The own-key saves and the raw UPDATEs take turns, in
``--rounds`` pairs of windows whose order alternates (raw first, then saves first): the figure
is the median over the rounds of each, so that a slow spell of the machine (a checkpoint's
writes, another job) weighs on both sides alike. (One window of each, raw always first, moved
the ratio at 32 clients between 0.75 and 0.88 in one sitting on a quiet machine.) The shared
keys run once, for two windows. (Before 2026-12-07 the clock ran from before the clients
connected: 32 pooled backends take ~0.5 s to connect, 32 raw connections ~0.2 s, which cost
the saves a larger share of a 3 s window than the raw UPDATEs.)

Since migration 20261207230000 the notify triggers notify only while a listener is registered
(an open dashboard's feed). With ``--listening`` the bench keeps one registered listener reading
every notification for the whole run, so both sides notify on every write (figures named
``rpc.save_configuration.listened.*``); without it neither side notifies.

Usage: python bench/bench_rpc_throughput.py [--database-url URL] [--seconds 2.5] [--rounds 4]
[--listening] [--notify-cost] (default URL: the embedded database of ``devsync local url``).
``--notify-cost`` measures only what a listening dashboard costs writers (below).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, figure

from devsync_tui.backend.errors import Conflict
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType

STOREFRONT = uuid.UUID("00000000-0000-4000-c000-000000000001")


class Window:
    """The timed window every client shares: it opens once all of them are connected and
    ready (connecting 32 pooled, impersonated backends takes ~0.5 s, 32 raw connections
    ~0.2 s: not what is measured) and counts only the calls that end inside it."""

    def __init__(self, clients: int, seconds: float) -> None:
        self.clients, self.seconds = clients, seconds
        self.ready = 0
        self.opened = asyncio.Event()
        self.end = 0.0

    async def wait_open(self) -> None:
        self.ready += 1
        if self.ready == self.clients:
            self.end = time.perf_counter() + self.seconds
            self.opened.set()
        await self.opened.wait()

    def open(self) -> bool:
        return time.perf_counter() < self.end


async def _client(
    url: str, keys: list[str], window: Window, stats: dict[str, int], latencies: list[float]
) -> None:
    backend = PostgresBackend(url, "alice", embedded=False, min_size=1, max_size=1)
    await backend.connect()
    try:
        current = {r.key: r.version for r in await backend.list_configurations(STOREFRONT, None)}
        versions: dict[str, int | None] = {key: current.get(key) for key in keys}
        await window.wait_open()
        i = 0
        while window.open():
            key = keys[i % len(keys)]
            i += 1
            started = time.perf_counter()
            try:
                saved = await backend.save_configuration(
                    STOREFRONT,
                    None,
                    key,
                    f"v{i}",
                    is_secret=False,
                    type=ConfigType.ENV_VAR,
                    expected_version=versions[key],
                )
                versions[key] = saved.version
                outcome = "accepted"
                stats.setdefault(f"ok:{key}", 0)
                stats[f"ok:{key}"] += 1  # for the lost-update check: every write, timed or not
            except Conflict as exc:
                versions[key] = exc.current_version
                outcome = "conflicts"
            if window.open():
                stats[outcome] += 1
                latencies.append(time.perf_counter() - started)
    finally:
        await backend.close()


async def _raw_client(url: str, key_id: uuid.UUID, window: Window, done: list[int]) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await window.wait_open()
        i = n = 0
        while window.open():
            i += 1
            await conn.execute(
                "update public.configurations set value = %s where id = %s", (f"r{i}", key_id)
            )
            n += window.open()
        done.append(n)


async def _raw_updates_per_s(url: str, clients: int, seconds: float) -> float:
    """The reference: raw one-row UPDATEs per second by ``clients`` connections, own keys."""
    run = uuid.uuid4().hex[:6]
    keys = [f"BENCH_{run}_RAW_{c}" for c in range(clients)]
    await _prepare(url, keys)
    with psycopg.connect(url) as conn:
        ids = [
            conn.execute(
                "select id from public.configurations "
                "where project_id = %s and environment_id is null and key = %s",
                (STOREFRONT, key),
            ).fetchone()[0]  # type: ignore[index]
            for key in keys
        ]
    done: list[int] = []
    window = Window(clients, seconds)
    await asyncio.gather(*(_raw_client(url, ids[c], window, done) for c in range(clients)))
    return sum(done) / seconds


async def _prepare(url: str, keys: list[str]) -> None:
    backend = PostgresBackend(url, "alice", embedded=False)
    await backend.connect()
    try:
        existing = {r.key: r for r in await backend.list_configurations(STOREFRONT, None)}
        for key in keys:
            if key in existing:
                await backend.delete_configuration(existing[key].id, existing[key].version)
            await backend.save_configuration(
                STOREFRONT,
                None,
                key,
                "start",
                is_secret=False,
                type=ConfigType.ENV_VAR,
                expected_version=None,
            )
    finally:
        await backend.close()


def _verify(url: str, keys: list[str], stats: dict[str, int]) -> bool:
    with psycopg.connect(url) as conn:
        for key in keys:
            row = conn.execute(
                "select id, version from public.configurations "
                "where project_id = %s and environment_id is null and key = %s",
                (STOREFRONT, key),
            ).fetchone()
            assert row is not None
            expected = 1 + stats.get(f"ok:{key}", 0)
            history = conn.execute(
                "select count(*), count(distinct version) from public.configuration_history "
                "where configuration_id = %s",
                (row[0],),
            ).fetchone()
            assert history is not None
            if row[1] != expected or history[0] != expected or history[1] != expected:
                print(
                    f"LOST UPDATE on {key}: version {row[1]}, expected {expected}, "
                    f"history {history}",
                    file=sys.stderr,
                )
                return False
    return True


async def _saves(
    url: str, clients: int, seconds: float, shared: bool
) -> tuple[dict[str, int], list[float], bool]:
    """One timed window of saves by ``clients``: the counts, the latencies, and whether no
    update was lost."""
    run = uuid.uuid4().hex[:6]
    keys_per = [[f"BENCH_{run}_{c}"] for c in range(clients)]
    if shared:
        keys_per = [[f"BENCH_{run}_SHARED_{k}" for k in range(4)]] * clients
    all_keys = sorted({k for ks in keys_per for k in ks})
    await _prepare(url, all_keys)
    stats: dict[str, int] = {"accepted": 0, "conflicts": 0}
    latencies: list[float] = []
    window = Window(clients, seconds)
    await asyncio.gather(
        *(_client(url, keys_per[c], window, stats, latencies) for c in range(clients))
    )
    return stats, latencies, _verify(url, all_keys, stats)


async def _own_keys(url: str, clients: int, seconds: float, rounds: int, tag: str) -> None:
    """Own-key saves against the raw UPDATE in ``rounds`` pairs of windows, the order
    alternating (raw first, then saves first), so that a slow spell of the machine (a
    checkpoint's writes, another job) weighs on both sides alike."""
    saves: list[float] = []
    raws: list[float] = []
    latencies: list[float] = []
    conflicts, ok = 0, True
    for r in range(rounds):
        for side in ("raw", "save") if r % 2 == 0 else ("save", "raw"):
            if side == "raw":
                raws.append(await _raw_updates_per_s(url, clients, seconds))
                continue
            stats, lat, fine = await _saves(url, clients, seconds, shared=False)
            saves.append(stats["accepted"] / seconds)
            latencies += lat
            conflicts += stats["conflicts"]
            ok = ok and fine
    figure(
        f"rpc.save_configuration{tag}.own-key.clients_{clients}.accepted_per_s",
        saves,
        "calls/s",
        reference=raws,
        reference_name="raw one-row UPDATE, same triggers, calls/s",
        target=0.8 if clients == 32 else None,
        extra={
            "conflicts_per_s": round(conflicts / (seconds * rounds), 1),
            "no_lost_update": ok,
            "rounds": rounds,
        },
    )
    figure(
        f"rpc.save_configuration{tag}.own-key.clients_{clients}.latency",
        [x * 1000 for x in latencies],
        "ms",
    )


async def _shared_keys(url: str, clients: int, seconds: float, tag: str) -> None:
    stats, latencies, ok = await _saves(url, clients, seconds, shared=True)
    figure(
        f"rpc.save_configuration{tag}.shared-keys.clients_{clients}.accepted_per_s",
        [stats["accepted"] / seconds],
        "calls/s",
        extra={"conflicts_per_s": round(stats["conflicts"] / seconds, 1), "no_lost_update": ok},
    )
    figure(
        f"rpc.save_configuration{tag}.shared-keys.clients_{clients}.latency",
        [x * 1000 for x in latencies],
        "ms",
    )


@contextlib.asynccontextmanager
async def _dashboard_listening(url: str) -> AsyncIterator[None]:
    """A registered listener on devsync_changes for the whole block, reading every
    notification, as an open dashboard's feed is: the notify triggers then notify on every
    write (without one they do not; migration 20261207230000)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("listen devsync_changes")
        await conn.execute("select private.register_change_listener()")

        async def drain() -> None:
            async for _ in conn.notifies():
                pass

        reader = asyncio.create_task(drain())
        try:
            yield
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


async def _notify_cost(url: str, clients: int, seconds: float, rounds: int) -> None:
    """What a listening dashboard costs every writer: raw UPDATEs and own-key saves per
    second with no registered listener (the notify triggers do not notify) against the same
    with one (each write notifies, taking the commit-wide notify lock), in ``rounds`` pairs
    of windows whose order alternates. ``ratio`` = with a listener ÷ without."""
    measures: dict[str, Callable[[str, int, float], Awaitable[float]]] = {
        "raw": _raw_updates_per_s,
        "save": _saves_per_s,
    }
    for name, measure in measures.items():
        quiet: list[float] = []
        listened: list[float] = []
        for r in range(rounds):
            for with_listener in (False, True) if r % 2 == 0 else (True, False):
                if not with_listener:
                    quiet.append(await measure(url, clients, seconds))
                    continue
                async with _dashboard_listening(url):
                    listened.append(await measure(url, clients, seconds))
        figure(
            f"rpc.notify_cost.{name}.clients_{clients}.per_s",
            listened,
            "calls/s",
            reference=quiet,
            reference_name="the same with no listener registered",
        )


async def _saves_per_s(url: str, clients: int, seconds: float) -> float:
    stats, _latencies, _ok = await _saves(url, clients, seconds, shared=False)
    return stats["accepted"] / seconds


async def _clients(url: str, clients: int, args: argparse.Namespace) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if args.listening:
            await stack.enter_async_context(_dashboard_listening(url))
        tag = ".listened" if args.listening else ""
        await _own_keys(url, clients, args.seconds, args.rounds, tag)
        await _shared_keys(url, clients, args.seconds * 2, tag)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=float, default=2.5, help="one timed window")
    parser.add_argument(
        "--rounds", type=int, default=4, help="pairs of windows, raw and saves, per client count"
    )
    parser.add_argument(
        "--listening",
        action="store_true",
        help="with a dashboard's feed listening the whole time (every write then notifies)",
    )
    parser.add_argument(
        "--notify-cost",
        action="store_true",
        help="only measure writes with and without a listening dashboard, at 8 and 32 clients",
    )
    args = parser.parse_args()
    url = database_url(args.database_url)
    if args.notify_cost:
        for clients in (8, 32):
            asyncio.run(_notify_cost(url, clients, args.seconds, args.rounds))
        return
    for clients in (1, 8, 32):
        asyncio.run(_clients(url, clients, args))


if __name__ == "__main__":
    main()
