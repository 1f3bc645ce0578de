"""Warm start: the opening view read by a forked process while the UI loads.

The app shows the snapshot on its first frame (before connecting for real), then attaches the
real backend; once the change feed is live it re-reads everything, so a change made between
the snapshot and the feed is not missed. Real forks, real PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard import warm_start
from devsync_tui.dashboard.app import DevSyncApp, make_app
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from devsync_tui.settings import LocalProfile, Settings, SupabaseProfile
from tests.dashboard.conftest import wait_for
from tests.support import demo

pytestmark = pytest.mark.db


def _settings(db_url: str) -> Settings:
    return Settings(profiles={"t": LocalProfile(database_url=db_url)}, default_profile="t")


def _gated_factory(db_url: str, gate: asyncio.Event) -> Any:
    """A backend factory over ``db_url`` that connects only once ``gate`` is set."""

    async def factory(settings: Any, *, profile: Any, user: Any, progress: Any) -> PostgresBackend:
        await gate.wait()
        backend = PostgresBackend(db_url, user, embedded=False)
        backend.label = "LOCAL"
        await backend.connect()
        return backend

    return factory


def _app(db_url: str, factory: Any, warm: warm_start.WarmStart, **target: str) -> DevSyncApp:
    """The app over ``db_url`` as alice, on storefront unless ``target`` says otherwise."""
    where = {"project": "storefront", **target}
    return make_app(
        _settings(db_url), factory, user="alice", animations=False, warm_start=warm, **where
    )


def _begin(db_url: str, **target: str | None) -> warm_start.WarmStart:
    where: dict[str, str | None] = {"team": None, "project": "storefront", "env": None}
    where.update(target)
    warm = warm_start.begin(_settings(db_url), profile=None, user="alice", **where)
    assert warm is not None
    return warm


def _config_value(app: DevSyncApp, key: str) -> str | None:
    pane = app.main.query_one("ConfigurationPane")
    view = pane.view  # type: ignore[attr-defined]
    if view is None:
        return None
    return next((r.value for r in view.rows if r.key == key), None)


def _team_names(app: DevSyncApp) -> list[str]:
    return [item.team.name for item in app.main.nav_tree.items() if item.project is None]


async def test_the_first_view_comes_from_the_snapshot_then_catches_up(fresh_db_url: str) -> None:
    warm = _begin(fresh_db_url)
    snapshot = await warm.snapshot()
    assert snapshot is not None
    assert snapshot.identity.username == "alice"
    # Committed after the snapshot and before the app listens: only the catch-up sees it.
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("update teams set name = 'Acme Warm' where slug = 'acme'")
    gate = asyncio.Event()
    app = _app(fresh_db_url, _gated_factory(fresh_db_url, gate), warm)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _config_value(app, "LOG_LEVEL") is not None)
        header = app.main.query_one(StatusHeader)
        # Nothing connected yet: what is shown is the snapshot, and the header says so.
        assert header.link == "connecting"
        assert header.user == "alice"
        assert _team_names(app) == ["Acme"]
        gate.set()
        await wait_for(pilot, lambda: header.link == "live")
        await wait_for(pilot, lambda: _team_names(app) == ["Acme Warm"])


async def test_the_snapshot_is_the_opening_environment(fresh_db_url: str) -> None:
    warm = _begin(fresh_db_url, env="bob-laptop")
    snapshot = await warm.snapshot()
    assert snapshot is not None
    reads = {name for name, _args, _kw in snapshot.answers}
    assert "effective_configuration" in reads
    assert "project_configuration" not in reads
    gate = asyncio.Event()
    app = _app(fresh_db_url, _gated_factory(fresh_db_url, gate), warm, env="bob-laptop")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.selection is not None)
        selection = app.main.selection
        assert selection is not None
        assert selection.environment is not None
        assert selection.environment.name == "bob-laptop"
        gate.set()


async def test_a_failed_connection_after_a_warm_start_is_said_plainly(fresh_db_url: str) -> None:
    warm = _begin(fresh_db_url)

    async def refused(settings: Any, **_: Any) -> PostgresBackend:
        raise Unavailable("The database refused the connection.")

    app = _app(fresh_db_url, refused, warm)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.query_one(StatusHeader).link == "offline")
        status = str(app.main.query_one("#status-line").render())
        assert "The database refused the connection." in status
        # The snapshot stays readable; what needs the database says it is unavailable.
        assert _config_value(app, "LOG_LEVEL") is not None
        session = app.main.session
        assert session is not None
        with pytest.raises(Unavailable):
            await session.backend.list_templates(demo.PROJECT_STOREFRONT)


async def test_a_child_that_cannot_read_means_the_ordinary_path(
    fresh_db_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    warm = warm_start.begin(
        _settings(fresh_db_url), profile=None, user="nobody", team=None, project=None, env=None
    )
    assert warm is not None
    assert await warm.snapshot() is None
    out, err = capfd.readouterr()  # the child never writes on the terminal
    assert (out, err) == ("", "")


def test_no_warm_start_where_it_does_not_apply(
    monkeypatch: pytest.MonkeyPatch, demo_db_url: str
) -> None:
    remote = Settings(
        profiles={"s": SupabaseProfile(url="https://x.supabase.co", anon_key="k")},
        default_profile="s",
    )
    nothing: dict[str, str | None] = dict.fromkeys(("profile", "user", "team", "project", "env"))
    # Supabase profiles have one too (tests/dashboard/test_warm_start_supabase.py); the switch
    # turns both off.
    monkeypatch.setenv(warm_start.ENV_SWITCH, "0")
    assert warm_start.begin(remote, **nothing) is None
    assert warm_start.begin(_settings(demo_db_url), **nothing) is None
