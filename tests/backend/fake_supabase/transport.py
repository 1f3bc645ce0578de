"""The Supabase transport for the contract suite (``tests/backend/conftest.TRANSPORTS``): the
real ``SupabaseBackend`` against the fake project (GoTrue + PostgREST on the database under
test + Realtime fed by its change notifications), signed in as a demo user by e-mail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import NotSignedIn
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.machine import SupabaseMachineCalls
from devsync_tui.core.machine_token import MachineToken
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import FAST, sign_in, storage_for

if TYPE_CHECKING:
    from tests.backend.conftest import Transport


@asynccontextmanager
async def supabase_transport(
    request: pytest.FixtureRequest, db_url: str
) -> AsyncIterator[Transport]:
    from tests.backend.conftest import Transport

    folder: Path = request.getfixturevalue("tmp_path")
    fake = await FakeSupabase(db_url, bridge_changes=True).start()

    async def open_as(username: str) -> Backend:
        email = f"{username}@example.com"
        if email not in fake.gotrue.users:
            raise NotSignedIn(f"No Supabase user {email}.")
        storage = storage_for(fake, folder, username)
        await sign_in(fake, storage, email)
        backend = SupabaseBackend(
            fake.url,
            fake.anon_key,
            storage=storage,
            feed_timing=FAST,
            realtime_options={
                "auto_reconnect": True,
                "hb_interval": 25,
                "max_retries": 3,
                "initial_backoff": 0.1,
                "timeout": 3,
            },
        )
        await backend.connect()
        transport.opened.append(backend)
        return backend

    async def force_gap() -> None:
        await fake.realtime.close_all(1011)

    async def open_machine(token: str) -> MachineBackend:
        from tests.backend.conftest import MACHINE_POLL

        calls = SupabaseMachineCalls(fake.url, fake.anon_key, MachineToken(token, "a test"))
        backend = MachineBackend(calls, poll_seconds=MACHINE_POLL)
        await backend.connect()
        transport.opened.append(backend)
        return backend

    transport = Transport("supabase", open_as, force_gap, db_url, open_machine, fake=fake)
    try:
        yield transport
    finally:
        for backend in transport.opened:
            await backend.close()
        await fake.stop()
