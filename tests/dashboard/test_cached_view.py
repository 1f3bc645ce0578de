"""The cached last view: kept when a live view is shown, drawn in the first frame marked as
cached with its age, replaced by live data; kept on screen (offline) when the database cannot
be reached; `devsync --offline` opens it without contacting anything. Real PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import clock, crypto, view_cache
from devsync_tui.dashboard import last_view, launch
from devsync_tui.dashboard.app import DevSyncApp, make_app
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from devsync_tui.settings import LocalProfile, Settings
from tests.dashboard.conftest import wait_for, wait_ready
from tests.dashboard.helpers import save_soon
from tests.support import demo

pytestmark = pytest.mark.db


def _settings(db_url: str) -> Settings:
    return Settings(profiles={"t": LocalProfile(database_url=db_url)}, default_profile="t")


def _owner(db_url: str, user: str = "alice") -> str:
    found = last_view.owner(_settings(db_url), profile=None, user=user)
    assert found is not None
    return found


def _factory(db_url: str, gate: asyncio.Event | None = None, calls: list[int] | None = None) -> Any:
    """Opens ``PostgresBackend`` on ``db_url``, once ``gate`` (if any) is set."""

    async def factory(settings: Any, *, profile: Any, user: Any, progress: Any) -> PostgresBackend:
        if calls is not None:
            calls.append(1)
        if gate is not None:
            await gate.wait()
        backend = PostgresBackend(db_url, user, embedded=False)
        backend.label = "LOCAL"
        await backend.connect()
        return backend

    return factory


def _app(db_url: str, factory: Any, user: str = "alice", **more: Any) -> DevSyncApp:
    owner = _owner(db_url, user)
    return make_app(
        _settings(db_url),
        factory,
        user=user,
        animations=False,
        cache_owner=owner,
        **({"cached": last_view.load(owner)} | more),
    )


def _value(app: DevSyncApp, key: str) -> str | None:
    view = app.main.query_one("ConfigurationPane").view  # type: ignore[attr-defined]
    if view is None:
        return None
    return next((r.value for r in view.rows if r.key == key), None)


def _keys(app: DevSyncApp) -> set[str]:
    view = app.main.query_one("ConfigurationPane").view  # type: ignore[attr-defined]
    return set() if view is None else {r.key for r in view.rows}


async def _see_live(db_url: str, user: str = "alice", **where: str) -> None:
    """Start once live on ``where`` and quit: the view is cached."""
    app = _app(db_url, _factory(db_url), user, **where)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: view_cache.path_for(_owner(db_url, user)).exists(), 5)


def _age(db_url: str, hours: int, user: str = "alice") -> None:
    """Make the cached view ``hours`` old."""
    owner = _owner(db_url, user)
    view = view_cache.load(owner)
    assert view is not None
    older = dataclasses.replace(view, saved_at=clock.now() - timedelta(hours=hours))
    assert view_cache.save(owner, older)


async def test_the_cached_view_is_the_first_frame_then_live_replaces_it(
    fresh_db_url: str,
) -> None:
    await _see_live(fresh_db_url, project="storefront", env="bob-laptop")
    _age(fresh_db_url, 3)
    # Changed after the view was cached: only live data has it.
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("update teams set name = 'Acme Live' where slug = 'acme'")
    gate = asyncio.Event()
    calls: list[int] = []
    app = _app(fresh_db_url, _factory(fresh_db_url, gate, calls))  # no flags: where it was
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        # Drawn from the cache: the place, its rows, the tree, marked as cached with its age.
        selection = app.main.selection
        assert selection is not None
        assert selection.environment is not None
        assert selection.environment.id == demo.ENV_BOB_LAPTOP
        assert _keys(app) >= set(demo.BOB_LAPTOP_KEYS)
        assert [i.team.name for i in app.main.nav_tree.items() if i.project is None] == ["Acme"]
        label, _colour = header.link_label()
        assert label.startswith("◌ cached · 3 h old")
        assert "cached · 3 h old" in str(header.render())
        # Connecting: what alice may do is offered as it will be once live, and a write
        # started now waits for the connection (it never goes to the cache).
        session = app.main.session
        assert session is not None
        assert session.cached
        assert session.connecting
        assert not session.read_only
        save = save_soon(session.backend, demo.PROJECT_STOREFRONT, "NEW_KEY")
        await pilot.pause(0.2)
        assert not save.done()
        gate.set()
        await wait_for(pilot, lambda: header.link == "live")
        await wait_ready(pilot)
        assert (await save).version == 1
        with psycopg.connect(fresh_db_url) as conn:
            stored = conn.execute(
                "select value from configurations where key = 'NEW_KEY' and project_id = %s",
                (demo.PROJECT_STOREFRONT,),
            ).fetchone()
        assert stored == ("v",)
        assert header.cached_at is None
        assert "cached" not in str(header.render())
        await wait_for(
            pilot,
            lambda: (
                [i.team.name for i in app.main.nav_tree.items() if i.project is None]
                == ["Acme Live"]
            ),
        )
        session = app.main.session
        assert session is not None
        assert not session.cached
        assert not session.read_only
        selection = app.main.selection
        assert selection is not None
        assert selection.environment is not None
        assert selection.environment.id == demo.ENV_BOB_LAPTOP
    assert calls == [1]


async def test_the_cache_holds_no_secret_value(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    await _see_live(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        secrets = [r[0] for r in conn.execute("select value from configuration_secrets")]
        secret_keys = [r[0] for r in conn.execute("select key from configurations where is_secret")]
    assert secrets
    assert secret_keys
    for user in ("alice", "bob"):
        owner = _owner(fresh_db_url, user)
        on_disk = view_cache.path_for(owner).read_bytes()
        for key in ("LOG_LEVEL", "STRIPE_SECRET_KEY", *secret_keys):
            assert key.encode() not in on_disk
        text = crypto.decrypt(on_disk, context=f"view:v1:{owner}").decode()
        for secret in secrets:
            assert secret not in text
            assert json.dumps(secret)[1:-1] not in text
        rows = [r for v in json.loads(text)["document"]["views"] for r in v["rows"]]
        assert rows
        assert all(r["value"] is None for r in rows if r["is_secret"])
        assert any(r["key"] in secret_keys for r in rows)  # the secrets' names are there


async def test_another_user_does_not_see_the_cached_view(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront", env="bob-laptop")
    assert last_view.load(_owner(fresh_db_url, "bob")) is None
    assert last_view.load(_owner(fresh_db_url, "alice")) is not None
    other_profile = Settings(
        profiles={"u": LocalProfile(database_url=fresh_db_url)}, default_profile="u"
    )
    assert last_view.load(last_view.owner(other_profile, profile=None, user="alice")) is None


async def test_switching_is_remembered_and_the_next_start_opens_there(
    fresh_db_url: str,
) -> None:
    app = _app(fresh_db_url, _factory(fresh_db_url), project="storefront")
    owner = _owner(fresh_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: view_cache.load(owner) is not None)
        app.main.nav_tree.select_item((demo.TEAM_ACME, demo.PROJECT_BILLING, None))
        await wait_ready(pilot)
        await wait_for(
            pilot,
            lambda: (
                (found := view_cache.load(owner)) is not None
                and found.project_id == str(demo.PROJECT_BILLING)
            ),
        )
    cached = view_cache.load(owner)
    assert cached is not None
    assert cached.environment_id is None
    app = _app(fresh_db_url, _factory(fresh_db_url, asyncio.Event()))  # never connects
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        selection = app.main.selection
        assert selection is not None
        assert selection.project is not None
        assert selection.project.id == demo.PROJECT_BILLING
        assert app.main.query_one(StatusHeader).cached_at is not None


async def test_an_unreachable_database_keeps_the_cached_view_marked_offline(
    fresh_db_url: str,
) -> None:
    await _see_live(fresh_db_url, project="storefront")
    _age(fresh_db_url, 2)

    async def refused(settings: Any, **_: Any) -> PostgresBackend:
        raise Unavailable("The database refused the connection.")

    app = _app(fresh_db_url, refused)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None)
        header = app.main.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.link == "offline")
        assert "offline — cached view from 2 h ago" in str(header.render())
        status = str(app.main.query_one("#status-line").render())
        assert "The database refused the connection." in status
        # Still usable, read-only: the cached rows stay, moving in the tree works.
        assert _value(app, "LOG_LEVEL") is not None
        session = app.main.session
        assert session is not None
        assert session.read_only
        with pytest.raises(Unavailable, match="refused"):
            await session.backend.list_templates(demo.PROJECT_STOREFRONT)
        await pilot.press("j", "k")
        assert _value(app, "LOG_LEVEL") is not None
    assert app.failure_code == 4


async def test_offline_opens_the_cache_and_contacts_nothing(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    _age(fresh_db_url, 5)
    calls: list[int] = []
    app = _app(fresh_db_url, _factory(fresh_db_url, calls=calls), offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert header.link == "offline"
        assert "offline — cached view from 5 h ago (--offline)" in str(header.render())
        await pilot.press("ctrl+r")  # re-reads what the cache holds; still nothing contacted
        await pilot.pause(0.3)
        assert _value(app, "LOG_LEVEL") is not None
        await pilot.press("q")
    assert calls == []
    assert app.return_code in (0, None)


def _args(**more: Any) -> argparse.Namespace:
    values: dict[str, Any] = dict.fromkeys(("profile", "user", "team", "project", "env"))
    values.update(read_only=False, offline=True, **more)
    return argparse.Namespace(**values)


def test_offline_without_a_cache_says_so_and_exits_4(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", fresh_db_url)
    monkeypatch.delenv("DEVSYNC_PROFILE", raising=False)
    assert launch.run_tui(_args(user="alice")) == 4
    err = capsys.readouterr().err
    assert "--offline" in err
    assert "none for this profile and user" in err
    assert "Traceback" not in err


def test_offline_with_a_damaged_cache_is_the_same_as_none(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", fresh_db_url)
    monkeypatch.delenv("DEVSYNC_PROFILE", raising=False)
    from devsync_tui.settings import load_settings

    owner = last_view.owner(load_settings(), profile=None, user="alice")
    assert owner is not None
    path = view_cache.path_for(owner)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"DSX\x01" + b"\0" * 40)
    assert launch.run_tui(_args(user="alice")) == 4
    assert "Traceback" not in capsys.readouterr().err


def _unreachable() -> Settings:
    """A local profile whose database cannot be reached."""
    return Settings(
        profiles={"t": LocalProfile(database_url="postgresql://nobody@127.0.0.1:1/none")},
        default_profile="t",
    )


def _ahead(
    db_url: str, user: str = "alice", replayed: bool = False, **where: str | None
) -> tuple[Any, Any]:
    reading = last_view.Reading(_owner(db_url, user))
    ahead = last_view.prefetch(
        _settings(db_url),
        profile=None,
        project=where.get("project"),
        environment=where.get("environment"),
        reading=reading,
        user=user,
        replayed=lambda: replayed,
    )
    assert ahead is not None
    return reading, ahead


async def test_a_first_local_start_shows_the_opening_read_ahead(fresh_db_url: str) -> None:
    """No cached view: the opening read ahead (psycopg, as alice) is the first frame while
    the app's own backend has not connected (its factory is held); not marked cached."""
    reading, ahead = _ahead(fresh_db_url, project="storefront")
    gate = asyncio.Event()
    calls: list[int] = []
    app = _app(
        fresh_db_url,
        _factory(fresh_db_url, gate, calls),
        project="storefront",
        cached=reading,
        prefetch=ahead,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert header.cached_at is None
        assert header.link == "connecting"  # the app's backend is held at the gate
        assert "LOG_LEVEL" in _keys(app)
        assert ahead.kind == "local"
        session = app.main.session
        assert session is not None
        assert session.identity.username == "alice"  # the user the app signs in as
        # Offered as once live (a write waits for the connection).
        assert session.connecting
        assert not session.read_only
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        await wait_ready(pilot, within=20)
        assert calls == [1]


async def test_a_local_read_ahead_replaces_the_cached_view_before_connecting(
    fresh_db_url: str,
) -> None:
    await _see_live(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("update teams set name = 'Acme Ahead' where slug = 'acme'")
    reading, ahead = _ahead(fresh_db_url)
    gate = asyncio.Event()
    app = _app(fresh_db_url, _factory(fresh_db_url, gate), cached=reading, prefetch=ahead)
    teams = lambda: [i.team.name for i in app.main.nav_tree.items() if i.project is None]  # noqa: E731
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        await wait_for(pilot, lambda: teams() == ["Acme Ahead"], within=10)
        assert header.cached_at is None
        assert header.link == "connecting"
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        await wait_ready(pilot, within=20)
        assert teams() == ["Acme Ahead"]


async def test_the_local_read_ahead_waits_for_the_cached_frame_unless_it_was_replayed(
    fresh_db_url: str,
) -> None:
    """The local read (psycopg's import under the UI's GIL) waits until the main screen has
    drawn the cached view; not when the recorded frame is already on the terminal."""
    await _see_live(fresh_db_url)
    _reading, waiting = _ahead(fresh_db_url)
    assert waiting.result(0.3) is None  # held for the main screen's cached frame
    waiting.frame_shown()
    assert waiting.result(10) is not None
    _reading, replayed = _ahead(fresh_db_url, replayed=True)
    assert replayed.result(10) is not None  # no frame_shown: nothing was waited for


class _Replayed:
    """What the app asks of ``frame_replay.Replay``: the recorded frame is on the terminal
    (the real one on a terminal: tests/dashboard/test_frame_replay_pty.py)."""

    shown = True


async def test_behind_a_replayed_frame_the_read_ahead_is_the_first_view(
    fresh_db_url: str,
) -> None:
    """The recorded frame is up: the main screen draws the live opening read ahead first,
    unmarked and still connecting, never the cached view (one drawing, not two)."""
    await _see_live(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("update teams set name = 'Acme Ahead' where slug = 'acme'")
    reading, ahead = _ahead(fresh_db_url, replayed=True)
    assert ahead.result(10) is not None  # read before the app starts: no race with its wait
    gate = asyncio.Event()
    app = _app(
        fresh_db_url, _factory(fresh_db_url, gate), cached=reading, prefetch=ahead,
        replay=_Replayed(),
    )  # fmt: skip
    teams = lambda: [i.team.name for i in app.main.nav_tree.items() if i.project is None]  # noqa: E731
    first: list[tuple[Any, list[str]]] = []  # the header's cached mark and the tree, as first drawn
    shown = app._first_view_shown

    def first_view_shown() -> None:
        first.append((app.main.query_one(StatusHeader).cached_at, teams()))
        shown()

    app._first_view_shown = first_view_shown  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert first == [(None, ["Acme Ahead"])]
        assert header.link == "connecting"
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        await wait_ready(pilot, within=20)
        assert teams() == ["Acme Ahead"]


async def test_behind_a_replayed_frame_a_failed_read_ahead_leaves_the_cached_view(
    fresh_db_url: str,
) -> None:
    await _see_live(fresh_db_url)
    bad = _unreachable()
    reading = last_view.Reading(_owner(fresh_db_url))
    ahead = last_view.prefetch(
        bad, profile=None, project=None, environment=None, reading=reading, user="alice",
        replayed=lambda: True,
    )  # fmt: skip
    assert ahead is not None
    gate = asyncio.Event()
    app = _app(
        fresh_db_url, _factory(fresh_db_url, gate), cached=reading, prefetch=ahead,
        replay=_Replayed(),
    )  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert header.cached_at is not None  # the cached view, marked
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        await wait_ready(pilot, within=20)


async def test_a_failed_local_read_ahead_falls_back_to_connecting(fresh_db_url: str) -> None:
    """A read ahead that cannot connect gives no opening: the app connects the ordinary way."""
    bad = _unreachable()
    reading = last_view.Reading(_owner(fresh_db_url))
    ahead = last_view.prefetch(
        bad, profile=None, project=None, environment=None, reading=reading, user="alice"
    )
    assert ahead is not None
    assert ahead.result(10) is None
    gate = asyncio.Event()
    app = _app(fresh_db_url, _factory(fresh_db_url, gate), cached=reading, prefetch=ahead)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert app.main_or_none is None or not _keys(app)  # nothing to draw before connecting
        gate.set()
        await wait_ready(pilot, within=20)
        assert app.main.query_one(StatusHeader).link == "live"
        assert _keys(app)


def test_the_local_read_ahead_never_starts_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devsync_tui.backend import factory
    from devsync_tui.backend.postgres import server

    monkeypatch.delenv("DEVSYNC_DATABASE_URL", raising=False)
    monkeypatch.setattr(server, "running_url", lambda: None)
    monkeypatch.setattr(server, "ensure_running", lambda *_: pytest.fail("started"))
    with pytest.raises(Unavailable):
        factory.read_local_opening(LocalProfile(), "alice", None, None)


async def test_the_cached_view_keeps_the_tree_as_last_read(fresh_db_url: str) -> None:
    """A team renamed and an environment added while the dashboard is open are in the view it
    keeps (the tree of the opening is as old as the connection): --offline shows them."""
    app = _app(fresh_db_url, _factory(fresh_db_url), project="storefront")
    owner = _owner(fresh_db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        with psycopg.connect(fresh_db_url, autocommit=True) as admin:
            admin.execute(
                "update public.teams set name = 'Acme Renamed' where id = %s", (demo.TEAM_ACME,)
            )
        await wait_for(
            pilot,
            lambda: (
                app.main.workspace is not None
                and any(t.name == "Acme Renamed" for t in app.main.workspace.teams)
            ),
        )
        app.main.nav_tree.select_item((demo.TEAM_ACME, demo.PROJECT_BILLING, None))
        await wait_ready(pilot)
        await wait_for(
            pilot,
            lambda: (
                (found := view_cache.load(owner)) is not None
                and found.project_id == str(demo.PROJECT_BILLING)
            ),
        )
    cached = view_cache.load(owner)
    assert cached is not None
    assert [t["name"] for t in cached.document["teams"]] == ["Acme Renamed"]
