"""Presence on screen (local transport): who else is on the selected project, where (environment,
tab) and which key they edit — in the header and as a marker in the tree — shown within about
a second of their arrival, move or departure (pushed, not polled); quitting clears one's own
presence at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.widgets import TabbedContent

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT


def _tree_label(app, env_name: str) -> str:  # type: ignore[no-untyped-def]
    tree = app.main.nav_tree
    for node in tree._nodes_iter():
        item = node.data
        if item is not None and item.environment is not None and item.environment.name == env_name:
            return str(node.label)
    raise AssertionError(f"no {env_name} in the tree")


async def _settles(part: Any, expected: list[Any], bob: Any, pilot: Any) -> bool:
    """Whether what the database says of alice's client (``part`` of each entry) becomes
    ``expected`` within 5 s (announcing is a round trip; a loaded CI machine is slow)."""
    for _ in range(50):
        if [part(e) for e in (await bob.presence(S)).entries] == expected:
            return True
        await pilot.pause(0.1)
    return False


async def test_arrival_place_and_departure_show_within_a_second(fresh_db_url: str) -> None:
    bob = PostgresBackend(fresh_db_url, "bob", embedded=False)
    await bob.connect()
    try:
        app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            header = app.main.header
            assert header.presence == ""
            # bob arrives, editing a key on his laptop's environment
            await bob.set_presence(
                S, environment_id=demo.ENV_BOB_LAPTOP, tab="configuration", editing_key="LOG_LEVEL"
            )
            await wait_for(pilot, lambda: header.presence != "", within=1.0)
            assert header.presence == "bob (bob-laptop · ✎LOG_LEVEL)"
            assert "also here: bob (bob-laptop" in str(header.render())
            assert _tree_label(app, "bob-laptop").endswith("◆ ✎bob")
            assert "◆" not in _tree_label(app, "staging")
            # alice was announced with her place: bob sees it
            (alice,) = (await bob.presence(S)).entries
            assert (alice.username, alice.environment_id, alice.tab) == (
                "alice",
                demo.ENV_STAGING,
                "configuration",
            )
            # bob moves to the Dependencies tab, then to another project: seen at once
            await bob.set_presence(S, tab="dependencies")
            await wait_for(pilot, lambda: header.presence == "bob (Dependencies)", within=1.0)
            assert "◆" not in _tree_label(app, "bob-laptop")
            await bob.set_presence(demo.PROJECT_BILLING)
            await wait_for(pilot, lambda: header.presence == "", within=1.0)
            assert "also here" not in str(header.render())
            # alice's tab and the key she edits reach bob
            await bob.set_presence(S)
            app.main.query_one(TabbedContent).active = "health"
            assert await _settles(lambda e: e.tab, ["health"], bob, pilot)
            app.main.query_one(TabbedContent).active = "configuration"
            await wait_ready(pilot)
            config_pane(app).go_to_key("LOG_LEVEL")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
            assert await _settles(lambda e: e.editing_key, ["LOG_LEVEL"], bob, pilot)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
            await pilot.pause(0.3)
            assert [e.editing_key for e in (await bob.presence(S)).entries] == [None]
        # quitting the app took alice's presence down at once
        await asyncio.sleep(0)
        assert (await bob.presence(S)).entries == ()
    finally:
        await bob.close()
