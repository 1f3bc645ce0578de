"""Presence on screen on the Supabase transport (the fake project: PostgREST on the database
under test, the fake Realtime with Realtime Authorization): another member's arrival, place and
departure reach the header within about a second, through the private presence channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.dashboard.app import make_app
from devsync_tui.settings import Settings
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import FAST, sign_in, storage_for
from tests.dashboard.conftest import wait_for, wait_ready
from tests.support import demo

pytestmark = pytest.mark.db


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url, bridge_changes=True).start()
    try:
        yield server
    finally:
        await server.stop()


async def _signed_in(fake: FakeSupabase, folder: Path, user: str) -> SupabaseBackend:
    storage = storage_for(fake, folder, user)
    await sign_in(fake, storage, f"{user}@example.com")
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage, feed_timing=FAST)
    await backend.connect()
    return backend


async def test_presence_reaches_the_header_on_supabase(fake: FakeSupabase, tmp_path: Path) -> None:
    async def factory(settings: Any, **_: Any) -> SupabaseBackend:
        return await _signed_in(fake, tmp_path, "alice")

    app = make_app(Settings(), factory, user="alice", project="storefront", animations=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=20)
        header = app.main.header
        await wait_for(pilot, lambda: header.link == "live", within=10)
        await pilot.pause(0.5)  # the presence channel joined
        bob = await _signed_in(fake, tmp_path, "bob")
        await bob.set_presence(
            demo.PROJECT_STOREFRONT, environment_id=demo.ENV_BOB_LAPTOP, tab="health"
        )
        await wait_for(pilot, lambda: header.presence != "", within=1.5)
        assert header.presence == "bob (bob-laptop · Health)"
        await bob.close()  # quitting
        await wait_for(pilot, lambda: header.presence == "", within=1.5)
