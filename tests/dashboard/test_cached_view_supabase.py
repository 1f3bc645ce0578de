"""The cached last view on the Supabase transport: the same start-up path as the local one.
The cache belongs to the stored session's user; its first frame makes no request; the live
opening (one request) replaces it. The fake Supabase project over real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from devsync_tui.backend.supabase import auth, session_store
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.session import FALLBACK_FILE, SessionStorage
from devsync_tui.core import view_cache
from devsync_tui.dashboard import last_view
from devsync_tui.dashboard.app import DevSyncApp, make_app
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from devsync_tui.settings import Settings, SupabaseProfile
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import FAST, sign_in
from tests.dashboard.conftest import wait_for, wait_ready
from tests.dashboard.helpers import save_soon
from tests.support import demo

pytestmark = pytest.mark.db


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sessions in the 0600 file under the test's config folder, never a developer's keyring.
    monkeypatch.setattr(session_store, "keyring_usable", lambda: False)


def _settings(fake: FakeSupabase) -> Settings:
    profile = SupabaseProfile(url=fake.url, anon_key=fake.anon_key)
    return Settings(profiles={"s": profile}, default_profile="s")


def _storage(fake: FakeSupabase) -> SessionStorage:
    """The profile's stored session, where `devsync login` keeps it (the fallback file)."""
    return SessionStorage(
        auth.storage_namespace(fake.url),
        use_keyring=False,
        path=session_store.fallback_path().parent / FALLBACK_FILE,
    )


def _factory(fake: FakeSupabase, gate: asyncio.Event | None = None) -> Any:
    async def factory(settings: Any, **_: Any) -> SupabaseBackend:
        if gate is not None:
            await gate.wait()
        backend = SupabaseBackend(fake.url, fake.anon_key, storage=_storage(fake), feed_timing=FAST)
        await backend.connect()
        return backend

    return factory


def _app(fake: FakeSupabase, factory: Any) -> DevSyncApp:
    owner = last_view.owner(_settings(fake), profile=None, user=None)
    assert owner is not None
    return make_app(
        _settings(fake),
        factory,
        animations=False,
        cached=last_view.load(owner),
        cache_owner=owner,
    )


def _keys(app: DevSyncApp) -> set[str]:
    view = app.main.query_one("ConfigurationPane").view  # type: ignore[attr-defined]
    return set() if view is None else {r.key for r in view.rows}


async def test_supabase_opens_on_the_cached_view_without_a_request(fake: FakeSupabase) -> None:
    await sign_in(fake, _storage(fake), demo.ALICE.email)
    assert last_view.owner(_settings(fake), profile=None, user=None) is not None
    app = _app(fake, _factory(fake))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=20)
        app.main.nav_tree.select_item((demo.TEAM_ACME, demo.PROJECT_STOREFRONT, None))
        await wait_ready(pilot, within=20)
        owner = last_view.owner(_settings(fake), profile=None, user=None)
        assert owner is not None
        await wait_for(
            pilot,
            lambda: (
                (found := view_cache.load(owner)) is not None
                and found.project_id == str(demo.PROJECT_STOREFRONT)
            ),
        )
    fake.requests.clear()
    gate = asyncio.Event()
    app = _app(fake, _factory(fake, gate))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert header.cached_at is not None
        assert "cached · just now" in str(header.render())
        assert "LOG_LEVEL" in _keys(app)
        assert fake.requests == []  # drawn from the cache alone
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        assert header.cached_at is None
        paths = [r.path for r in fake.requests]
        assert paths.count("/rest/v1/rpc/open_workspace") == 1


async def test_another_supabase_user_does_not_see_it(fake: FakeSupabase) -> None:
    await sign_in(fake, _storage(fake), demo.ALICE.email)
    alice = last_view.owner(_settings(fake), profile=None, user=None)
    app = _app(fake, _factory(fake))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=20)
        assert alice is not None
        await wait_for(pilot, lambda: view_cache.load(alice) is not None)
    await sign_in(fake, _storage(fake), demo.BOB.email)  # bob signs in on this profile
    bob = last_view.owner(_settings(fake), profile=None, user=None)
    assert bob is not None
    assert bob != alice
    assert last_view.load(bob) is None


async def test_a_first_start_shows_the_opening_read_ahead(fake: FakeSupabase) -> None:
    """No cached view yet: the opening comes from one plain HTTP request made while the UI
    loads (no supabase-py), before connecting; it is live data, so not marked cached."""
    await sign_in(fake, _storage(fake), demo.ALICE.email)
    fake.requests.clear()
    settings = _settings(fake)
    owner = last_view.owner(settings, profile=None, user=None)
    assert owner is not None
    reading = last_view.Reading(owner)
    ahead = last_view.prefetch(
        settings, profile=None, project="storefront", environment=None, reading=reading
    )
    assert ahead is not None
    gate = asyncio.Event()
    app = make_app(
        settings,
        _factory(fake, gate),
        project="storefront",
        animations=False,
        cached=reading,
        cache_owner=owner,
        prefetch=ahead,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        assert header.cached_at is None
        assert header.link == "connecting"
        assert "LOG_LEVEL" in _keys(app)
        assert [r.path for r in fake.requests] == ["/rest/v1/rpc/open_workspace"]
        session = app.main.session
        assert session is not None
        # Offered as once live; a write started now waits for the connection: nothing is
        # sent before it.
        assert session.connecting
        assert not session.read_only
        save = save_soon(session.backend, demo.PROJECT_STOREFRONT, "SAVED_WHILE_CONNECTING")
        await pilot.pause(0.2)
        assert not save.done()
        assert [r.path for r in fake.requests] == ["/rest/v1/rpc/open_workspace"]
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        await wait_ready(pilot, within=20)
        assert not app.main.session.read_only  # type: ignore[union-attr]
        assert (await save).version == 1
        assert "/rest/v1/rpc/save_configuration" in [r.path for r in fake.requests]
        await wait_for(pilot, lambda: view_cache.load(owner) is not None)


async def test_a_read_ahead_replaces_the_cached_view_before_connecting(
    fake: FakeSupabase, fresh_db_url: str
) -> None:
    import psycopg

    await sign_in(fake, _storage(fake), demo.ALICE.email)
    settings = _settings(fake)
    owner = last_view.owner(settings, profile=None, user=None)
    assert owner is not None
    app = _app(fake, _factory(fake))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=20)
        await wait_for(pilot, lambda: view_cache.load(owner) is not None)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("update teams set name = 'Acme Ahead' where slug = 'acme'")
    fake.requests.clear()
    reading = last_view.Reading(owner)
    ahead = last_view.prefetch(
        settings, profile=None, project=None, environment=None, reading=reading
    )
    assert ahead is not None
    gate = asyncio.Event()
    app = make_app(
        settings,
        _factory(fake, gate),
        animations=False,
        cached=reading,
        cache_owner=owner,
        prefetch=ahead,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
        header = app.main.query_one(StatusHeader)
        teams = lambda: [i.team.name for i in app.main.nav_tree.items() if i.project is None]  # noqa: E731
        # The cached frame first (or already the read ahead), then the read ahead, unconnected.
        await wait_for(pilot, lambda: teams() == ["Acme Ahead"], within=10)
        assert header.cached_at is None
        assert header.link == "connecting"
        assert "DJANGO_SETTINGS_MODULE" in _keys(app)  # billing-api, the first project
        requested = [r.path for r in fake.requests]
        assert requested == ["/rest/v1/rpc/open_workspace"]
        # Where the cached view was open: the read ahead asked for that place by id.
        assert fake.requests[0].json()["p_project"] == str(demo.PROJECT_BILLING)
        gate.set()
        await wait_for(pilot, lambda: header.link == "live", within=20)
        await wait_ready(pilot, within=20)
        assert teams() == ["Acme Ahead"]
