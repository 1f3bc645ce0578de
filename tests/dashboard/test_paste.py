"""Pasting into the value editor: a multi-line paste into an env var is kept whole (the value
moves to the multi-line box); a one-line paste stays in the line."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, Static, TextArea

from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, stored
from tests.support import demo

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


async def _edit(pilot, key: str) -> ConfigEditor:
    config_pane(pilot.app).go_to_key(key)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfigEditor))
    editor = pilot.app.screen
    assert isinstance(editor, ConfigEditor)
    return editor


async def test_multi_line_paste_into_an_env_var_is_kept(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        line = editor.query_one("#editor-line", Input)
        line.value = ""
        line.post_message(events.Paste("A\nB"))
        await wait_for(pilot, lambda: editor.value() == "A\nB")
        area = editor.query_one("#editor-area", TextArea)
        assert area.display
        assert area.has_focus
        assert not line.display
        assert "2 lines" in str(editor.query_one("#editor-note", Static).render())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
    assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("A\nB", 2)


async def test_one_line_paste_still_goes_into_the_line(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        line = editor.query_one("#editor-line", Input)
        line.value = ""
        line.post_message(events.Paste("9333\n"))
        await wait_for(pilot, lambda: line.value == "9333")
        assert line.display
        assert not editor.query_one("#editor-area", TextArea).display
