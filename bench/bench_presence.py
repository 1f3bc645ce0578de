"""Presence to the screen: another client arrives on the project (announces where it is) or
quits (closes its backend) → the open dashboard's header says so (or stops saying so).
Target (issue 15): median under 1 s for both. Before this change the dashboard polled every
10 s (4–9 s was seen); now the database pushes the change (NOTIFY on the local transport,
``realtime.send`` on a private channel on Supabase) and the dashboard reads who is here.

The dashboard runs headless (``App.run_test``, 120×40) as alice on storefront. Each round
opens a new backend as bob, announces storefront (arrival), waits for the header, then closes
it (departure: quitting), and waits for the header to clear. Rounds are sequential, 0.2 s apart.

Usage: python bench/bench_presence.py [--rounds 30] [--database-url URL] [--supabase]
Default: the embedded database, local transport. ``--supabase`` runs both clients on the
Supabase transport against the test suite's fake project (GoTrue, PostgREST on the same
database, the fake Realtime with Realtime Authorization), on a fresh copy of the database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import database_url, figure

from devsync_tui.backend.base import Backend
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.app import make_app
from devsync_tui.settings import Settings

STOREFRONT = UUID("00000000-0000-4000-c000-000000000001")

Opener = Callable[[str], Awaitable[Backend]]


async def _until(pilot: Any, condition: Callable[[], bool], started: float) -> float:
    while not condition():
        await asyncio.sleep(0.002)
        if time.perf_counter() - started > 20:
            raise SystemExit("presence never reached the screen")
    await pilot.pause(0)  # the frame with it
    return (time.perf_counter() - started) * 1000


async def run(open_as: Opener, rounds: int, label: str) -> None:
    async def factory(settings: Any, **_: Any) -> Backend:
        return await open_as("alice")

    app = make_app(Settings(), factory, user="alice", project="storefront", animations=False)
    arrival: list[float] = []
    departure: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.perf_counter() + 30
        while app.main.selection is None and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(1.0)
        header = app.main.header
        for _ in range(rounds):
            bob = await open_as("bob")
            started = time.perf_counter()
            await bob.set_presence(STOREFRONT, tab="configuration")
            arrival.append(await _until(pilot, lambda: header.presence.startswith("bob"), started))
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            await bob.close()
            departure.append(await _until(pilot, lambda: header.presence == "", started))
            await asyncio.sleep(0.2)
    figure(f"presence.{label}.arrival_to_screen", arrival, "ms", target=1000)
    figure(f"presence.{label}.departure_to_screen", departure, "ms", target=1000)


async def local(url: str, rounds: int) -> None:
    async def open_as(user: str) -> Backend:
        backend = PostgresBackend(url, user, embedded=False)
        await backend.connect()
        return backend

    await run(open_as, rounds, "local")


async def supabase(url: str, rounds: int) -> None:
    import psycopg
    from psycopg import sql

    from devsync_tui.backend.postgres.migrate import apply_migrations, load_seed
    from devsync_tui.backend.supabase.backend import SupabaseBackend
    from tests.backend.fake_supabase import FakeSupabase
    from tests.backend.fake_supabase.fixtures import sign_in, storage_for

    # A fresh database beside the demo one: the fake project writes users into it.
    name = "devsync_bench_presence"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    db_url = psycopg.conninfo.make_conninfo(url, dbname=name)
    apply_migrations(db_url, supabase_compat=True)
    load_seed(db_url)
    folder = Path(tempfile.mkdtemp(prefix="devsync-bench-presence-"))
    fake = await FakeSupabase(db_url, bridge_changes=True).start()
    opened: list[Backend] = []

    async def open_as(user: str) -> Backend:
        storage = storage_for(fake, folder, f"{user}-{len(opened)}")
        await sign_in(fake, storage, f"{user}@example.com")
        backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
        await backend.connect()
        opened.append(backend)
        return backend

    try:
        await run(open_as, rounds, "supabase")
    finally:
        await fake.stop()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (name,),
            )
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--supabase", action="store_true")
    args = parser.parse_args()
    url = database_url(args.database_url)
    asyncio.run((supabase if args.supabase else local)(url, args.rounds))


if __name__ == "__main__":
    main()
