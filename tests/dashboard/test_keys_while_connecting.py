"""While DevSync connects behind the cached view (or the opening read ahead), the dashboard
offers the user's keys as they will be once live, so that the first frame's footer does not
change when the live view arrives, and a key pressed meanwhile does what it offered once
connected (the write waits for the connection, never goes to the cache). Once connecting
fails, or with ``--offline``, the cached view is read-only. Real PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from textual.widgets import Input

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.app import DevSyncApp
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from devsync_tui.dashboard.screens.dialogs import FormDialog
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from tests.dashboard.conftest import wait_for, wait_ready
from tests.dashboard.helpers import config_pane, save_soon, stored
from tests.dashboard.test_cached_view import _app, _factory, _keys, _see_live
from tests.support import demo

pytestmark = pytest.mark.db


def _offered(app: DevSyncApp) -> dict[str, tuple[str | None, bool]]:
    """The main screen's keys as its footer shows them: key -> (command id, enabled)."""
    return {
        key: (active.binding.id, active.enabled)
        for key, active in app.main.active_bindings.items()
        if active.binding.show
    }


async def _cached_start(pilot: Any, app: DevSyncApp) -> StatusHeader:
    await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
    header = app.main.query_one(StatusHeader)
    assert header.link == "connecting"
    return header


def _save(app: DevSyncApp, key: str) -> asyncio.Future[Any]:
    session = app.main.session
    assert session is not None
    return save_soon(session.backend, demo.PROJECT_STOREFRONT, key)


def _refused_after(gate: asyncio.Event) -> Any:
    """A backend factory that, once ``gate`` is set, fails as a database that is down."""

    async def refused(settings: Any, **_: Any) -> PostgresBackend:
        await gate.wait()
        raise Unavailable("The database refused the connection.")

    return refused


def _stored(db_url: str, key: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("select count(*) from configurations where key = %s", (key,)).fetchone()
    assert row is not None
    return int(row[0])


async def test_the_keys_offered_while_connecting_are_the_live_ones(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    gate = asyncio.Event()
    app = _app(fresh_db_url, _factory(fresh_db_url, gate))
    async with app.run_test(size=(120, 40)) as pilot:
        header = await _cached_start(pilot, app)
        assert app.main.nav_tree.has_focus
        on_tree = _offered(app)
        assert {"n", "e", "d"} <= on_tree.keys()  # alice is an admin of Acme
        role = header.role
        assert role == "admin"  # not "admin · read-only"
        table = app.main.query_one("ConfigurationPane").rows_table.table  # type: ignore[attr-defined]
        await pilot.press("tab")
        await wait_for(pilot, lambda: table.has_focus)
        on_table = _offered(app)
        assert {"n", "enter", "d", "h"} <= on_table.keys()

        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=10)
        await wait_ready(pilot)
        assert table.has_focus
        assert _offered(app) == on_table
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.main.nav_tree.has_focus)
        assert _offered(app) == on_tree
        assert header.role == role


async def test_a_key_pressed_while_connecting_runs_once_connected(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    gate = asyncio.Event()
    app = _app(fresh_db_url, _factory(fresh_db_url, gate))
    async with app.run_test(size=(120, 40)) as pilot:
        header = await _cached_start(pilot, app)
        # `n` on storefront: a new environment. Its dialog lists the project's templates, a
        # read the cache does not hold: it opens once connected, the key not lost.
        await pilot.press("n")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, FormDialog)
        assert header.link == "connecting"
        gate.set()
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog), within=10)
        app.screen.query_one("#f-name", Input).value = "typed-early"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        await wait_for(
            pilot,
            lambda: any(
                i.environment is not None and i.environment.name == "typed-early"
                for i in app.main.nav_tree.items()
            ),
        )
    with psycopg.connect(fresh_db_url) as conn:
        made = conn.execute(
            "select count(*) from environments where name = 'typed-early' and project_id = %s",
            (demo.PROJECT_STOREFRONT,),
        ).fetchone()
    assert made == (1,)


async def test_when_connecting_fails_the_cached_view_turns_read_only(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    gate = asyncio.Event()
    app = _app(fresh_db_url, _refused_after(gate))
    async with app.run_test(size=(120, 40)) as pilot:
        header = await _cached_start(pilot, app)
        assert "n" in _offered(app)
        waiting = _save(app, "WAITED_THEN_REFUSED")
        await pilot.pause(0.2)
        assert not waiting.done()
        gate.set()
        await wait_for(pilot, lambda: header.link == "offline")
        # The write that waited gets the reason; nothing is written.
        with pytest.raises(Unavailable, match="refused the connection"):
            await waiting
        # From now on read-only: said in the header, nothing offered, the floor refuses.
        await wait_for(pilot, lambda: header.role == "admin · read-only")
        session = app.main.session
        assert session is not None
        assert session.read_only
        assert not session.connecting
        assert not {"n", "e", "d"} & _offered(app).keys()
        with pytest.raises(Unavailable, match="not live data"):
            await _save(app, "REFUSED_AT_ONCE")
        await pilot.press("n")  # offered nowhere now: nothing happens
        await pilot.pause(0.2)
        assert not isinstance(app.screen, FormDialog)
    assert _stored(fresh_db_url, "WAITED_THEN_REFUSED") == 0
    assert _stored(fresh_db_url, "REFUSED_AT_ONCE") == 0


async def test_an_edit_started_while_connecting_keeps_its_text_when_connecting_fails(
    fresh_db_url: str,
) -> None:
    """The editor opened on the cached view; connecting fails before the save: the editor
    says the view is not connected (not that the user may not write), and keeps the text."""
    await _see_live(fresh_db_url, project="storefront")
    before = stored(fresh_db_url, demo.PROJECT_STOREFRONT, None, "LOG_LEVEL")
    gate = asyncio.Event()
    app = _app(fresh_db_url, _refused_after(gate))
    async with app.run_test(size=(120, 40)) as pilot:
        header = await _cached_start(pilot, app)
        pane = config_pane(app)
        await pilot.press("tab")
        await wait_for(pilot, lambda: pane.rows_table.table.has_focus)
        pane.go_to_key("LOG_LEVEL")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        assert isinstance(editor, ConfigEditor)
        editor.query_one("#editor-line", Input).value = "typed while connecting"
        gate.set()
        await wait_for(pilot, lambda: header.link == "offline")
        await pilot.press("ctrl+s")
        error = editor.query_one("#editor-error")
        await wait_for(pilot, lambda: "until DevSync is connected" in str(error.render()))
        assert app.screen is editor
        assert editor.query_one("#editor-line", Input).value == "typed while connecting"
    assert stored(fresh_db_url, demo.PROJECT_STOREFRONT, None, "LOG_LEVEL") == before


async def test_offline_offers_nothing_to_write(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    app = _app(fresh_db_url, _factory(fresh_db_url), offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert header.link == "offline"
        assert header.role == "admin · read-only"
        session = app.main.session
        assert session is not None
        assert session.read_only
        assert not {"n", "e", "d"} & _offered(app).keys()
        with pytest.raises(Unavailable, match="not live data"):
            await _save(app, "WRITTEN_OFFLINE")
    assert _stored(fresh_db_url, "WRITTEN_OFFLINE") == 0
