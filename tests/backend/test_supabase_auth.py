"""Supabase Auth at the HTTP boundary: sign in (password, e-mailed code), sign up, sign out,
restoring and refreshing a stored session, and the headers every request carries."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest

from devsync_tui.backend.errors import InvalidInput, NotSignedIn, PermissionDenied
from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.backend import SupabaseBackend
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import DEMO_PASSWORD, backend_as, storage_for
from tests.backend.fake_supabase.gotrue import make_token
from tests.support.demo import ALICE, CAROL

pytestmark = pytest.mark.db


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    try:
        yield server
    finally:
        await server.stop()


def _bearer_sub(header: str) -> str:
    token = header.removeprefix("Bearer ")
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def test_password_sign_in_persists_a_0600_session_and_reads_as_the_user(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    storage = storage_for(fake, tmp_path, "alice")
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        signed = await auth.sign_in_with_password(client, ALICE.email, DEMO_PASSWORD)
    finally:
        await auth.close_client(client)
    assert signed.user_id == ALICE.id
    [token_request] = [r for r in fake.requests if r.path == "/auth/v1/token"]
    assert token_request.method == "POST"
    assert token_request.query == [("grant_type", "password")]
    assert token_request.headers["apikey"] == fake.anon_key
    body = token_request.json()
    assert (body["email"], body["password"]) == (ALICE.email, DEMO_PASSWORD)
    session_file = tmp_path / "alice-session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    stored = json.loads(session_file.read_text())["namespaces"][fake.url.lower()]
    assert json.loads(stored[auth.SESSION_KEY])["user"]["id"] == str(ALICE.id)

    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
    await backend.connect()
    try:
        me = await backend.whoami()
        assert (me.user_id, me.username, me.email) == (ALICE.id, "alice", ALICE.email)
    finally:
        await backend.close()
    [profile_read] = [r for r in fake.rest_requests() if r.path == "/rest/v1/profiles"]
    assert profile_read.headers["apikey"] == fake.anon_key
    assert _bearer_sub(profile_read.headers["authorization"]) == str(ALICE.id)
    assert ("id", f"eq.{ALICE.id}") in profile_read.query


async def test_wrong_password_is_permission_denied(fake: FakeSupabase, tmp_path: Path) -> None:
    storage = storage_for(fake, tmp_path, "x")
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        with pytest.raises(PermissionDenied, match="Wrong e-mail or password"):
            await auth.sign_in_with_password(client, ALICE.email, "nope")
        with pytest.raises(InvalidInput):
            await auth.sign_in_with_password(client, "not-an-email", "x")
    finally:
        await auth.close_client(client)
    assert await storage.get_item(auth.SESSION_KEY) is None


async def test_one_time_code_sign_in(fake: FakeSupabase, tmp_path: Path) -> None:
    storage = storage_for(fake, tmp_path, "carol")
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        await auth.send_code(client, CAROL.email)
        [otp] = [r for r in fake.requests if r.path == "/auth/v1/otp"]
        assert otp.json()["email"] == CAROL.email
        assert otp.json()["create_user"] is False
        code = fake.gotrue.codes[CAROL.email]
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(PermissionDenied, match="code"):
            await auth.verify_code(client, CAROL.email, wrong)
        await auth.send_code(client, CAROL.email)
        signed = await auth.verify_code(client, CAROL.email, fake.gotrue.codes[CAROL.email])
        assert signed.user_id == CAROL.id
        verify = [r for r in fake.requests if r.path == "/auth/v1/verify"][-1].json()
        assert (verify["type"], verify["email"]) == ("email", CAROL.email)
    finally:
        await auth.close_client(client)
    async with backend_as(fake, tmp_path, CAROL.email) as backend:
        assert (await backend.whoami()).username == "carol"


async def test_sign_up_creates_the_profile_from_metadata(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    storage = storage_for(fake, tmp_path, "newbie")
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        result = await auth.sign_up(client, "newbie@example.com", "s3cret-pass", "newbie")
    finally:
        await auth.close_client(client)
    assert isinstance(result, auth.SignedIn)
    [signup] = [r for r in fake.requests if r.path == "/auth/v1/signup"]
    assert signup.json()["data"] == {"username": "newbie"}
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
    await backend.connect()
    try:
        assert (await backend.whoami()).username == "newbie"
        assert await backend.list_teams() == []  # RLS: a new user sees no team
    finally:
        await backend.close()


async def test_sign_up_pending_confirmation(fake: FakeSupabase, tmp_path: Path) -> None:
    fake.gotrue.confirm_signups = False
    storage = storage_for(fake, tmp_path, "pending")
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        result = await auth.sign_up(client, "pending@example.com", "s3cret-pass")
        assert result == auth.PendingConfirmation("pending@example.com")
        with pytest.raises(InvalidInput):
            await auth.sign_up(client, "short@example.com", "123")
    finally:
        await auth.close_client(client)
    assert await storage.get_item(auth.SESSION_KEY) is None


async def test_sign_out_forgets_the_session(fake: FakeSupabase, tmp_path: Path) -> None:
    async with backend_as(fake, tmp_path, ALICE.email):
        pass
    storage = storage_for(fake, tmp_path, "alice")
    assert await storage.get_item(auth.SESSION_KEY) is not None
    client = await auth.create_client(fake.url, fake.anon_key, storage)
    try:
        await auth.restore_session(client, storage)
        await auth.sign_out(client)
    finally:
        await auth.close_client(client)
    assert await storage.get_item(auth.SESSION_KEY) is None
    assert [r for r in fake.requests if r.path == "/auth/v1/logout"]
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
    with pytest.raises(NotSignedIn):
        await backend.connect()


async def test_no_stored_session_is_not_signed_in(fake: FakeSupabase, tmp_path: Path) -> None:
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage_for(fake, tmp_path, "n"))
    with pytest.raises(NotSignedIn, match="devsync login"):
        await backend.connect()
    assert backend.client is None


async def test_expired_stored_session_is_refreshed_with_its_refresh_token(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """supabase-py #1646: restore an expired session by refreshing it ourselves."""
    async with backend_as(fake, tmp_path, ALICE.email):
        pass
    storage = storage_for(fake, tmp_path, "alice")
    raw = json.loads(await storage.get_item(auth.SESSION_KEY) or "{}")
    raw["access_token"] = make_token(str(ALICE.id), email=ALICE.email, expires_in=-7200)
    raw["expires_at"] = int(time.time()) - 7200
    old_refresh = raw["refresh_token"]
    await storage.set_item(auth.SESSION_KEY, json.dumps(raw))

    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
    await backend.connect()
    try:
        assert len(await backend.list_teams()) == 1
    finally:
        await backend.close()
    refreshes = [
        r
        for r in fake.requests
        if r.path == "/auth/v1/token" and r.param("grant_type") == "refresh_token"
    ]
    assert refreshes
    assert refreshes[0].json() == {"refresh_token": old_refresh}
    stored = json.loads(await storage.get_item(auth.SESSION_KEY) or "{}")
    assert stored["refresh_token"] != old_refresh
    assert stored["expires_at"] > time.time() + 600
    last_read = fake.rest_requests()[-1]
    assert last_read.headers["authorization"] == f"Bearer {stored['access_token']}"


async def test_token_is_refreshed_before_it_expires(fake: FakeSupabase, tmp_path: Path) -> None:
    fake.gotrue.access_expires_in = 30  # inside the 60 s margin: refresh before every request
    async with backend_as(fake, tmp_path, ALICE.email) as backend:
        before = len([r for r in fake.requests if r.param("grant_type") == "refresh_token"])
        await backend.list_teams()
        after = [r for r in fake.requests if r.param("grant_type") == "refresh_token"]
        assert len(after) > before
        claims = jwt.decode(
            fake.rest_requests()[-1].headers["authorization"].removeprefix("Bearer "),
            options={"verify_signature": False},
        )
        assert claims["exp"] > time.time() + 20
