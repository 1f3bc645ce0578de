"""Helpers for tests of the Supabase transport against the fake project."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.realtime import FeedTiming
from devsync_tui.backend.supabase.session import SessionStorage
from tests.backend.fake_supabase import FakeSupabase

DEMO_PASSWORD = "devsync-demo"
#: Short enough for tests, long enough that a busy CI machine does not look like a dead socket.
FAST = FeedTiming(subscribe_timeout=5.0, watchdog_interval=0.3, ping_timeout=2.0, rejoin_grace=1.0)


def storage_for(fake: FakeSupabase, folder: Path, name: str) -> SessionStorage:
    return SessionStorage(
        auth.storage_namespace(fake.url),
        use_keyring=False,
        path=folder / f"{name}-session.json",
    )


async def sign_in(fake: FakeSupabase, storage: SessionStorage, email: str) -> None:
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        await auth.sign_in_with_password(client, email, DEMO_PASSWORD)
    finally:
        await auth.close_client(client)


@asynccontextmanager
async def backend_as(
    fake: FakeSupabase, folder: Path, email: str, *, timing: FeedTiming | None = FAST
) -> AsyncIterator[SupabaseBackend]:
    storage = storage_for(fake, folder, email.split("@")[0])
    await sign_in(fake, storage, email)
    backend = SupabaseBackend(
        fake.url,
        fake.anon_key,
        storage=storage,
        feed_timing=timing,
        realtime_options={
            "auto_reconnect": True,
            "hb_interval": 25,
            "max_retries": 3,
            "initial_backoff": 0.1,
            "timeout": 3,
        },
    )
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()
