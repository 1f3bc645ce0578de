"""Nothing typed is lost: drafts survive closing the app; secret drafts are encrypted; a
restored draft can be discarded for the stored value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from devsync_tui.dashboard.drafts import DraftStore
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, stored
from tests.support import demo

pytestmark = pytest.mark.db


async def _edit(pilot, key: str) -> ConfigEditor:
    config_pane(pilot.app).go_to_key(key)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfigEditor))
    return pilot.app.screen


async def test_draft_survives_closing_the_app(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        editor.query_one("#editor-line", Input).value = "9999"
        await pilot.pause(0.5)  # the draft is written a moment after typing stops
    # The app is gone without saving; the database still has the old value.
    assert stored(fresh_db_url, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "BOB_DEBUG_PORT") == (
        "9229",
        1,
    )
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert editor.query_one("#editor-line", Input).value == "9999"
        assert "Restored your unsaved draft" in str(
            editor.query_one("#editor-note", Static).render()
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
    assert stored(fresh_db_url, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "BOB_DEBUG_PORT") == (
        "9999",
        2,
    )
    assert list(DraftStore().root.glob("*")) == []


async def test_secret_draft_is_encrypted_on_disk(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    typed = "postgres://bob:draft-password-typed@localhost/x"
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "DATABASE_URL")
        editor.query_one("#editor-line", Input).value = typed
        await pilot.press("escape")  # cancel: the draft is kept, with a notice
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        assert any("draft is kept" in n.message for n in app._notifications)
    files = list(DraftStore().root.glob("*"))
    assert [f.suffix for f in files] == [".enc"]
    assert typed.encode() not in files[0].read_bytes()
    assert oct(os.stat(files[0]).st_mode & 0o777) == "0o600"
    mine = DraftStore(owner=demo.BOB.id)
    draft = mine.load(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "DATABASE_URL")
    assert draft is not None
    assert draft.value == typed
    # the next person signed in on this machine does not get bob's draft
    for other in (demo.ALICE.id, demo.CAROL.id):
        theirs = DraftStore(owner=other)
        assert theirs.load(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "DATABASE_URL") is None


def test_draft_store_round_trip(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save(
        demo.PROJECT_STOREFRONT, None, "A", "1", type="env_var", is_secret=False, base_version=3
    )
    draft = store.load(demo.PROJECT_STOREFRONT, None, "A")
    assert draft is not None
    assert (draft.value, draft.base_version, draft.is_secret) == ("1", 3, False)
    store.delete(demo.PROJECT_STOREFRONT, None, "A")
    assert store.load(demo.PROJECT_STOREFRONT, None, "A") is None


async def test_discard_draft_restores_the_stored_value(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert not editor.query_one("#discard").display  # nothing to discard yet
        editor.query_one("#editor-line", Input).value = "9777"
        await pilot.pause(0.5)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        assert list(DraftStore().root.glob("*.json"))
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert editor.query_one("#editor-line", Input).value == "9777"
        assert editor.query_one("#discard").display
        assert "ctrl+d" in str(editor.query_one("#editor-note", Static).render())
        await pilot.press("ctrl+d")
        await pilot.pause(0.5)
        assert editor.query_one("#editor-line", Input).value == "9229"
        assert not editor.query_one("#discard").display
        assert list(DraftStore().root.glob("*")) == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert editor.query_one("#editor-line", Input).value == "9229"
        # Without a draft, ctrl+d is the value box's own key again (delete to the right).
        line = editor.query_one("#editor-line", Input)
        line.cursor_position = 0
        await pilot.press("ctrl+d")
        assert line.value == "229"


async def test_discarding_a_new_keys_draft_says_it_starts_empty(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#config-table").focus()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        editor.query_one("#editor-key", Input).value = "NEW_DRAFTED"
        editor.query_one("#editor-line", Input).value = "typed"
        await pilot.pause(0.5)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        app.main.query_one("#config-table").focus()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        assert editor.query_one("#editor-line", Input).value == "typed"
        await pilot.press("ctrl+d")
        await pilot.pause(0.3)
        note = str(editor.query_one("#editor-note", Static).render())
        assert note == "Draft discarded: the new key starts empty again."
        assert editor.query_one("#editor-line", Input).value == ""
