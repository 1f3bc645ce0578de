"""Transports under test for the backend contract suite.

``transport`` is parametrized by transport name. Each entry of ``TRANSPORTS`` is an async
context manager factory taking ``(request, db_url)`` — ``db_url`` is a fresh, migrated and
seeded database the test may write to — and yielding a ``Transport``: ``open(username)`` gives
a connected Backend acting as that demo user, ``open_machine(token)`` one acting as the
machine of a machine token (anon + ``x-devsync-token``), ``force_gap()`` breaks the change
feed's link once (the feed must then reconnect by itself and yield ``Resync``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.postgres.machine import PostgresMachineCalls
from devsync_tui.core.machine_token import MachineToken

#: How often a machine's change feed polls in tests (seconds).
MACHINE_POLL = 0.2


@dataclass
class Transport:
    """One transport over one fresh database."""

    name: str
    #: A connected backend acting as the demo user ``username`` (closed after the test).
    open: Callable[[str], Awaitable[Backend]]
    #: Break the live link of every open change feed once (a dropped connection).
    force_gap: Callable[[], Awaitable[None]]
    #: Superuser URL of the database under test (for out-of-band checks only).
    db_url: str
    #: A connected Backend acting as the machine of a token (TokenRefused when refused).
    open_machine: Callable[[str], Awaitable[MachineBackend]]
    opened: list[Backend] = field(default_factory=list)
    #: The fake Supabase project (its ``requests`` log), None on the local transport.
    fake: Any | None = None


@asynccontextmanager
async def _local(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[Transport]:
    async def open_as(username: str) -> Backend:
        backend = PostgresBackend(db_url, username, embedded=False, feed_max_backoff=0.5)
        await backend.connect()
        transport.opened.append(backend)
        return backend

    async def force_gap() -> None:
        # Drop the LISTEN connections the way a server-side failure would.
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            await conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and pid <> pg_backend_pid() "
                "and pid in (select pid from private.change_listeners)"
            )

    async def open_machine(token: str) -> MachineBackend:
        calls = PostgresMachineCalls(db_url, MachineToken(token, "a test"), embedded=False)
        backend = MachineBackend(calls, poll_seconds=MACHINE_POLL)
        await backend.connect()
        transport.opened.append(backend)
        return backend

    transport = Transport("local", open_as, force_gap, db_url, open_machine)
    try:
        yield transport
    finally:
        for backend in transport.opened:
            await backend.close()


TransportFactory = Callable[[pytest.FixtureRequest, str], AbstractAsyncContextManager[Transport]]

#: Transport name → factory; every transport runs the same contract suite.
TRANSPORTS: dict[str, TransportFactory] = {
    "local": _local,
    "supabase": lambda request, db_url: _supabase(request, db_url),
}


def _supabase(
    request: pytest.FixtureRequest, db_url: str
) -> AbstractAsyncContextManager[Transport]:
    # Imported lazily: the fake Supabase project imports the transport (and supabase-py).
    from tests.backend.fake_supabase.transport import supabase_transport

    return supabase_transport(request, db_url)


@pytest.fixture(params=sorted(TRANSPORTS))
async def transport(request: pytest.FixtureRequest, fresh_db_url: str) -> AsyncIterator[Transport]:
    """The transport named by the parameter, over a fresh database."""
    async with TRANSPORTS[request.param](request, fresh_db_url) as opened:
        yield opened


async def next_event(
    stream: AsyncIterator[Any], predicate: Callable[[Any], bool], within: float = 10.0
) -> Any:
    """The first event of ``stream`` that matches, skipping others; fails after ``within`` s."""

    async def scan() -> Any:
        async for event in stream:
            if predicate(event):
                return event
        raise AssertionError("the change feed ended")

    return await asyncio.wait_for(scan(), within)
