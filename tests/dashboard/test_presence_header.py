"""Presence in the header on the local transport: who else looks at the selected project."""

from __future__ import annotations

import asyncio

import pytest

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.screens import main as main_screen
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.support import demo

pytestmark = pytest.mark.db


async def test_the_header_names_who_else_is_on_the_project(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the app polls every 10 s; a short interval lets the test see bob leave
    monkeypatch.setattr(main_screen, "PRESENCE_INTERVAL", 0.2)
    bob = PostgresBackend(fresh_db_url, "bob", embedded=False)
    await bob.connect()
    try:
        await bob.set_presence(demo.PROJECT_STOREFRONT)
        app = make_test_app(fresh_db_url, "alice", project="storefront")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            header = app.main.header
            await wait_for(pilot, lambda: header.presence == "bob")
            assert "also here: bob" in str(header.render())
            # the app announced alice: bob's side sees her
            assert (await bob.presence(demo.PROJECT_STOREFRONT)).usernames == ("alice",)
            await bob.set_presence(demo.PROJECT_BILLING)
            await wait_for(pilot, lambda: header.presence == "")
            assert "also here" not in str(header.render())
        # quitting the app took alice's presence down
        await asyncio.sleep(0)
        assert (await bob.presence(demo.PROJECT_STOREFRONT)).usernames == ()
    finally:
        await bob.close()
