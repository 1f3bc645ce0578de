"""Warm start on a Supabase profile: the forked child reads the opening view with one plain
HTTP request (``open_workspace``) with the stored session, never refreshing it (a refresh token
is used by one process only: the app). Real forks, the fake Supabase project, real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devsync_tui.backend.supabase import auth, session_store
from devsync_tui.backend.supabase.session import SessionStorage
from devsync_tui.dashboard import warm_start
from devsync_tui.settings import Settings, SupabaseProfile
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import backend_as, sign_in
from tests.support.demo import ALICE

pytestmark = pytest.mark.db


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "config.toml"))
    # Never a developer's keyring: sessions in the 0600 file (the forked child inherits this).
    monkeypatch.setattr(session_store, "keyring_usable", lambda: False)
    return tmp_path


def _settings(fake: FakeSupabase) -> Settings:
    profile = SupabaseProfile(url=fake.url, anon_key=fake.anon_key)
    return Settings(profiles={"s": profile}, default_profile="s")


async def _signed_in(fake: FakeSupabase, config: Path, expires_in: int = 3600) -> None:
    fake.gotrue.access_expires_in = expires_in
    storage = SessionStorage(
        auth.storage_namespace(fake.url), use_keyring=False, path=config / "session.json"
    )
    await sign_in(fake, storage, ALICE.email)
    fake.gotrue.access_expires_in = 3600
    fake.requests.clear()


def _begin(fake: FakeSupabase, project: str | None = "storefront") -> warm_start.WarmStart:
    warm = warm_start.begin(
        _settings(fake), profile=None, user=None, team=None, project=project, env=None
    )
    assert warm is not None
    return warm


async def test_child_reads_the_opening_in_one_request(
    fake: FakeSupabase, config: Path, tmp_path: Path
) -> None:
    await _signed_in(fake, config)
    snapshot = await _begin(fake).snapshot(10)
    assert snapshot is not None
    assert [r.path for r in fake.requests] == ["/rest/v1/rpc/open_workspace"]
    assert fake.requests[0].json() == {"p_project": "storefront", "p_environment": None}
    assert snapshot.label == "127.0.0.1"
    assert snapshot.identity.username == "alice"
    assert snapshot.identity.email == ALICE.email
    async with backend_as(fake, tmp_path / "other", ALICE.email) as backend:
        opening = await backend.open_workspace("storefront")
    assert snapshot.answers == opening.answers
    assert snapshot.roles == opening.roles


async def test_an_expired_session_is_left_to_the_app(fake: FakeSupabase, config: Path) -> None:
    await _signed_in(fake, config, expires_in=30)  # within the refresh margin: "expired"
    before = (config / "session.json").read_bytes()
    assert await _begin(fake).snapshot(10) is None
    assert fake.requests == []  # no refresh, no read: the refresh token stays the app's
    assert (config / "session.json").read_bytes() == before


async def test_no_stored_session_no_snapshot(fake: FakeSupabase, config: Path) -> None:
    assert await _begin(fake, project=None).snapshot(10) is None
    assert fake.requests == []
