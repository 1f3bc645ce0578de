"""A network cut in the middle of a save, seen from the TUI: the editor asks the database, once
reachable, whether the save happened, and says which; nothing typed is lost either way."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, stored
from tests.support import demo
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


async def _edit(pilot, key: str, value: str) -> ConfigEditor:  # type: ignore[no-untyped-def]
    config_pane(pilot.app).go_to_key(key)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfigEditor))
    editor = pilot.app.screen
    assert isinstance(editor, ConfigEditor)
    editor.query_one("#editor-line", Input).value = value
    return editor


def _notes(app) -> str:  # type: ignore[no-untyped-def]
    return " ".join(n.message for n in app._notifications)


async def test_cut_after_commit_the_editor_says_saved(fresh_db_url: str) -> None:
    proxy = await TcpProxy(fresh_db_url).start()
    try:
        app = make_test_app(proxy.url, "bob", project="storefront", env="bob-laptop")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            await _edit(pilot, "BOB_DEBUG_PORT", "9231")
            fired = proxy.cut_on(b"save_configuration", forward=True, commit=True)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor), within=30)
            assert fired.is_set()
            assert "saved exactly once" in _notes(app)
        assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("9231", 2)
    finally:
        await proxy.close()


async def test_cut_before_commit_the_editor_says_not_saved_and_keeps_the_edit(
    fresh_db_url: str,
) -> None:
    proxy = await TcpProxy(fresh_db_url).start()
    try:
        app = make_test_app(proxy.url, "bob", project="storefront", env="bob-laptop")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            editor = await _edit(pilot, "BOB_DEBUG_PORT", "9232")
            fired = proxy.cut_on(b"save_configuration", forward=True)
            await pilot.press("ctrl+s")
            error = editor.query_one("#editor-error", Static)
            await wait_for(pilot, lambda: "was not saved" in str(error.render()), within=30)
            assert fired.is_set()
            assert isinstance(app.screen, ConfigEditor)
            assert editor.query_one("#editor-line", Input).value == "9232"
            assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("9229", 1)
            # saving again now simply works
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor), within=30)
        assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("9232", 2)
    finally:
        await proxy.close()
