"""``devsync logout`` ends the session for every DevSync process of the profile (QA report,
item 3: an open dashboard could still reveal secrets for the hour its access token had left).

- The stored session is the one truth: a process looks at it before each request (a ``stat``
  of the session file; the keyring every few seconds) and, once it is gone, refuses with the
  session-ended sentence: no request reaches PostgREST with the old token.
- An idle process (a dashboard nobody touches) notices within ``STORED_CHECK_INTERVAL``.
- The sign-out revokes the session at GoTrue (``scope=local``; ``--everywhere``: ``global``),
  refreshing a token about to expire first, so its refresh token cannot be used again; and it
  forgets the session here even when GoTrue cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from devsync_tui.backend.errors import NotSignedIn
from devsync_tui.backend.live import LinkChanged
from devsync_tui.backend.supabase import auth, rest, session, shared_session
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.errors import SESSION_ENDED
from devsync_tui.backend.supabase.session import SessionStorage
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import backend_as, sign_in, storage_for
from tests.support import demo
from tests.support.demo import ALICE, BOB

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    try:
        yield server
    finally:
        await server.stop()


async def _backend(fake: FakeSupabase, storage: SessionStorage) -> SupabaseBackend:
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
    await backend.connect()
    return backend


async def _stripe(backend: SupabaseBackend) -> UUID:
    """The storefront secret alice (an admin) may reveal."""
    rows = await backend.project_configuration(demo.PROJECT_STOREFRONT)
    found = next(r for r in rows if r.key == "STRIPE_SECRET_KEY")
    assert found.configuration_id is not None
    return found.configuration_id


def _bearers(fake: FakeSupabase, since: int) -> list[str]:
    """The Authorization headers of the PostgREST requests after the first ``since``."""
    return [r.headers.get("authorization", "") for r in fake.requests[since:] if "/rest/" in r.path]


async def _refresh_status(fake: FakeSupabase, refresh_token: str) -> tuple[int, str | None]:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{fake.url}/auth/v1/token?grant_type=refresh_token",
            json={"refresh_token": refresh_token},
            headers={"apikey": fake.anon_key},
        )
    return answer.status_code, answer.json().get("error_code")


async def test_a_sign_out_elsewhere_refuses_the_next_reveal_without_a_request(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    # The dashboard: its own storage object on the same session file.
    backend = await _backend(fake, storage_for(fake, tmp_path, "alice"))
    try:
        stripe = await _stripe(backend)
        assert await backend.reveal_secret(stripe)  # signed in: allowed
        held = backend._session
        assert held is not None
        # `devsync logout`: another storage object (another process does the same, below).
        outcome = await session.sign_out(
            storage_for(fake, tmp_path, "alice"), fake.url, fake.anon_key
        )
        assert (outcome.was_signed_in, outcome.revoked, outcome.problem) == (True, True, None)
        before = len(fake.requests)
        for attempt in (
            lambda: backend.reveal_secret(stripe),
            backend.list_teams,
            lambda: backend.project_configuration(demo.PROJECT_STOREFRONT),
        ):
            with pytest.raises(NotSignedIn) as refused:
                await attempt()
            assert str(refused.value) == SESSION_ENDED
        assert fake.requests[before:] == []  # refused here: nothing reached the project
    finally:
        await backend.close()
    # GoTrue ended this session (scope=local): its refresh token is dead for everyone.
    assert fake.gotrue.logouts == [(str(ALICE.id), "local")]
    assert await _refresh_status(fake, held.refresh_token) == (400, "refresh_token_already_used")
    # After close (which never sends the old token either: no presence was announced).
    assert f"Bearer {held.access_token}" not in _bearers(fake, before)


async def test_devsync_logout_in_another_process_stops_this_one(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    storage = SessionStorage(
        auth.storage_namespace(fake.url), use_keyring=False, path=config / "session.json"
    )
    await sign_in(fake, storage, ALICE.email)
    backend = await _backend(fake, storage)
    try:
        stripe = await _stripe(backend)
        env = {
            **os.environ,
            "DEVSYNC_CONFIG": str(config / "config.toml"),
            "DEVSYNC_STATE_DIR": str(tmp_path / "state"),
            "DEVSYNC_DATA_DIR": str(tmp_path / "data"),
            "DEVSYNC_KEYRING": "off",
            "SUPABASE_URL": fake.url,
            "SUPABASE_ANON_KEY": fake.anon_key,
        }
        for name in ("DEVSYNC_PROFILE", "DEVSYNC_DATABASE_URL", "DEVSYNC_TOKEN"):
            env.pop(name, None)
        logout = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "devsync_tui",
            "logout",
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(logout.communicate(), 60)
        assert logout.returncode == 0, err.decode()
        assert out.decode().strip() == "Signed out of 127.0.0.1 (profile env-supabase)."
        before = len(fake.requests)
        with pytest.raises(NotSignedIn) as refused:
            await backend.reveal_secret(stripe)
        assert str(refused.value) == SESSION_ENDED
        assert _bearers(fake, before) == []
    finally:
        await backend.close()
    assert fake.gotrue.logouts == [(str(ALICE.id), "local")]


async def test_an_idle_process_notices_the_sign_out_by_itself(
    fake: FakeSupabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dashboard nobody touches: its header says the session ended within a few seconds,
    and nothing is asked over the network to find out."""
    monkeypatch.setattr(rest, "STORED_CHECK_INTERVAL", 0.1)
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, storage_for(fake, tmp_path, "alice"))
    told: list[str] = []
    monkeypatch.setattr(backend, "_session_ended", lambda reason: told.append(str(reason)))
    try:
        await asyncio.sleep(0.3)
        assert told == []  # looking costs nothing and ends nothing while the session is there
        await session.sign_out(storage_for(fake, tmp_path, "alice"), fake.url, fake.anon_key)
        before = len(fake.requests)
        for _ in range(50):
            if told:
                break
            await asyncio.sleep(0.05)
        assert told == [SESSION_ENDED]
        assert _bearers(fake, before) == []
    finally:
        await backend.close()


async def test_the_live_feed_says_the_session_ended(
    fake: FakeSupabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the dashboard's header shows (and why it stops writing): the feed's link goes
    offline with the session-ended sentence, with no request made."""
    monkeypatch.setattr(rest, "STORED_CHECK_INTERVAL", 0.1)
    async with backend_as(fake, tmp_path, ALICE.email) as backend:
        stream = backend.changes()
        try:
            first = await asyncio.wait_for(anext(stream), 10)  # type: ignore[call-overload]
            assert isinstance(first, LinkChanged)
            await session.sign_out(storage_for(fake, tmp_path, "alice"), fake.url, fake.anon_key)

            async def ended() -> LinkChanged:
                async for event in stream:
                    if isinstance(event, LinkChanged) and event.state == "offline":
                        return event
                raise AssertionError("the feed ended")

            assert await asyncio.wait_for(ended(), 10) == LinkChanged("offline", SESSION_ENDED)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


async def test_a_refresh_by_another_process_is_not_a_sign_out(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """The stored session changing (another process refreshed) keeps this process going."""
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, storage_for(fake, tmp_path, "alice"))
    other = await _backend(fake, storage_for(fake, tmp_path, "alice"))
    try:
        session_copy = other._session
        assert session_copy is not None
        other._session = session_copy.model_copy(update={"expires_at": 0})
        assert await other.list_teams()  # refreshes: the stored session changes
        assert await backend.list_teams()
        assert backend._ended is None
    finally:
        await other.close()
        await backend.close()


async def test_signed_in_as_someone_else_elsewhere_stops_this_process(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, storage_for(fake, tmp_path, "alice"))
    try:
        await sign_in(fake, storage_for(fake, tmp_path, "alice"), BOB.email)
        before = len(fake.requests)
        with pytest.raises(NotSignedIn) as refused:
            await backend.list_teams()
        assert str(refused.value) == shared_session.OTHER_USER
        assert fake.requests[before:] == []
    finally:
        await backend.close()


async def test_sign_out_refreshes_a_token_about_to_expire_then_revokes(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """GoTrue signs out only with a valid access token: one about to expire is refreshed
    first (in memory), and the whole session, the new refresh token too, is revoked."""
    fake.gotrue.access_expires_in = 30  # inside the refresh margin
    storage = storage_for(fake, tmp_path, "alice")
    await sign_in(fake, storage, ALICE.email)
    stored = json.loads(storage.get_sync(auth.SESSION_KEY) or "{}")
    outcome = await session.sign_out(storage, fake.url, fake.anon_key)
    assert outcome.revoked
    assert [o for _t, o in fake.gotrue.refresh_log] == ["rotated"]
    assert fake.gotrue.logouts == [(str(ALICE.id), "local")]
    family = [t for t, r in fake.gotrue.refresh_tokens.items() if r.session_id]
    for token in family:
        assert (await _refresh_status(fake, token))[0] == 400
    assert stored["refresh_token"] in family
    assert storage.get_sync(auth.SESSION_KEY) is None


async def test_sign_out_everywhere_ends_every_session_of_the_user(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    here, laptop, bob = (storage_for(fake, tmp_path, n) for n in ("here", "laptop", "bob"))
    await sign_in(fake, here, ALICE.email)
    await sign_in(fake, laptop, ALICE.email)  # alice on another machine
    await sign_in(fake, bob, BOB.email)

    def ended() -> dict[str, list[bool]]:
        found: dict[str, list[bool]] = {}
        for auth_session in fake.gotrue.sessions.values():
            found.setdefault(auth_session.user_id, []).append(auth_session.revoked)
        return {user: sorted(states) for user, states in found.items()}

    assert (await session.sign_out(here, fake.url, fake.anon_key)).revoked
    # scope=local: this machine's session only; alice's laptop and bob go on.
    assert ended() == {str(ALICE.id): [False, True], str(BOB.id): [False]}
    await sign_in(fake, here, ALICE.email)
    outcome = await session.sign_out(here, fake.url, fake.anon_key, scope="global")
    assert outcome.revoked
    assert fake.gotrue.logouts[-1] == (str(ALICE.id), "global")
    assert ended() == {str(ALICE.id): [True, True, True], str(BOB.id): [False]}
    stale = json.loads(laptop.get_sync(auth.SESSION_KEY) or "{}")["refresh_token"]
    assert await _refresh_status(fake, stale) == (400, "refresh_token_already_used")


async def test_sign_out_without_gotrue_still_forgets_the_session_and_stops_processes(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, storage_for(fake, tmp_path, "alice"))
    try:
        storage = storage_for(fake, tmp_path, "alice")
        outcome = await session.sign_out(storage, "http://127.0.0.1:9", fake.anon_key)
        assert (outcome.was_signed_in, outcome.revoked) == (True, False)
        assert outcome.problem is not None
        assert "unreachable" in outcome.problem
        assert storage.get_sync(auth.SESSION_KEY) is None
        before = len(fake.requests)
        with pytest.raises(NotSignedIn, match="session has ended"):
            await backend.list_teams()
        assert fake.requests[before:] == []
    finally:
        await backend.close()
    assert fake.gotrue.logouts == []
    nothing = await session.sign_out(storage, fake.url, fake.anon_key)
    assert not nothing.was_signed_in


# -- the keyring: looked at every KEYRING_RECHECK seconds -------------------------------------


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        broken = False

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            if self.broken:
                raise RuntimeError("D-Bus went away")
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if (service, username) not in self.items:
                raise PasswordDeleteError(username)
            del self.items[(service, username)]

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.setattr(session, "KEYRING_RECHECK", 0.2)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def _keyring_storage(fake: FakeSupabase, folder: Path) -> SessionStorage:
    return SessionStorage(
        auth.storage_namespace(fake.url), use_keyring=True, path=folder / "session.json"
    )


async def test_a_session_in_the_keyring_removed_by_another_process_is_seen_within_seconds(
    fake: FakeSupabase, tmp_path: Path, memory_keyring: Any
) -> None:
    await sign_in(fake, _keyring_storage(fake, tmp_path), ALICE.email)
    assert not (tmp_path / "session.json").exists()  # in the keyring
    backend = await _backend(fake, _keyring_storage(fake, tmp_path))
    try:
        assert await backend.list_teams()
        # A keyring that cannot be read right now says nothing: no sign-out is made of it.
        memory_keyring.broken = True
        await asyncio.sleep(0.25)
        assert await backend.list_teams()
        memory_keyring.broken = False
        # Another process signs out: nothing this process could see but the keyring itself.
        memory_keyring.items.clear()
        await asyncio.sleep(0.25)
        before = len(fake.requests)
        with pytest.raises(NotSignedIn) as refused:
            await backend.list_teams()
        assert str(refused.value) == SESSION_ENDED
        assert fake.requests[before:] == []
    finally:
        await backend.close()
