"""One stored Supabase session shared by every DevSync process of a user (issue 12).

The fake GoTrue rotates refresh tokens as the real one does: a token works once, reuse within
the grace answers with the current token, reuse after it revokes the whole session. Separate
processes (subprocesses on the same session file) show that the session lock holds across
processes, not only between tasks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from devsync_tui.backend.errors import NotSignedIn
from devsync_tui.backend.supabase import auth, shared_session
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.errors import SESSION_REUSED
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import DEMO_PASSWORD, sign_in, storage_for
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


def _outcomes(fake: FakeSupabase) -> Counter[str]:
    return Counter(outcome for _token, outcome in fake.gotrue.refresh_log)


def _stored(path: Path, fake: FakeSupabase) -> dict[str, object]:
    namespaces = json.loads(path.read_text())["namespaces"]
    return dict(json.loads(namespaces[fake.url.lower()][auth.SESSION_KEY]))


async def _password_grant(fake: FakeSupabase) -> dict[str, Any]:
    """alice signs in over HTTP, outside DevSync (the session GoTrue answers with)."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{fake.url}/auth/v1/token?grant_type=password",
            json={"email": ALICE.email, "password": DEMO_PASSWORD},
            headers={"apikey": fake.anon_key},
        )
    assert answer.status_code == 200
    return dict(answer.json())


async def _backend(fake: FakeSupabase, folder: Path) -> SupabaseBackend:
    """Another process's view of alice's stored session (its own storage object)."""
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage_for(fake, folder, "alice"))
    await backend.connect()
    return backend


async def _expire_in_memory(backend: SupabaseBackend) -> None:
    """This process's copy of the session is about to expire (its token is an hour old)."""
    session = backend._session
    assert session is not None
    backend._session = session.model_copy(update={"expires_at": int(time.time()) + 5})


async def test_worker_processes_refresh_in_turn_and_none_is_signed_out(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    # Tokens of 30 s (inside the 60 s margin): every read of every process refreshes. No reuse
    # grace at all: a single refresh with a retired token would end the session for everyone.
    fake.gotrue.access_expires_in = 30
    fake.gotrue.reuse_interval = 0
    storage = storage_for(fake, tmp_path, "alice")
    await sign_in(fake, storage, ALICE.email)
    processes, reads = 4, 12
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.backend.fake_supabase.session_worker",
            fake.url,
            fake.anon_key,
            str(tmp_path / "alice-session.json"),
            str(reads),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    results = [await asyncio.wait_for(w.communicate(), 120) for w in workers]
    for worker, (out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err.decode()
        assert json.loads(out) == {"reads": reads, "error": None}
    outcomes = _outcomes(fake)
    # Each read refreshed once, each with the newest token: no reuse, no revocation.
    assert set(outcomes) == {"rotated"}
    assert outcomes["rotated"] >= processes * reads
    # The session survives them all: a fifth process reads with it.
    backend = await _backend(fake, tmp_path)
    try:
        assert await backend.list_teams()
    finally:
        await backend.close()
    lock = tmp_path / "alice-session.lock"
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o700


async def test_two_clients_alternate_many_refreshes_without_signing_each_other_out(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    fake.gotrue.access_expires_in = 30
    fake.gotrue.reuse_interval = 0
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    first, second = await _backend(fake, tmp_path), await _backend(fake, tmp_path)
    try:
        for _ in range(25):
            assert await first.list_teams()
            assert await second.list_teams()
    finally:
        await first.close()
        await second.close()
    outcomes = _outcomes(fake)
    assert set(outcomes) == {"rotated"}
    assert outcomes["rotated"] >= 50


async def test_a_stale_copy_adopts_what_another_process_stored_without_asking_gotrue(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    stale = await _backend(fake, tmp_path)
    other = await _backend(fake, tmp_path)
    try:
        old = stale._session
        assert old is not None
        await _expire_in_memory(other)
        await other.list_teams()  # the other process refreshes: old's token is now retired
        assert other._session is not None
        fake.gotrue.backdate_use(old.refresh_token, 3600)  # long past the reuse grace
        before = len(fake.gotrue.refresh_log)
        await _expire_in_memory(stale)
        assert await stale.list_teams()
        assert len(fake.gotrue.refresh_log) == before  # adopted, not refreshed
        assert stale._session is not None
        assert stale._session.refresh_token == other._session.refresh_token
        bearer = fake.rest_requests()[-1].headers["authorization"]
        assert bearer == f"Bearer {other._session.access_token}"
        assert await other.list_teams()  # and the other process was not signed out
    finally:
        await stale.close()
        await other.close()
    assert set(_outcomes(fake)) == {"rotated"}


async def test_a_refused_refresh_rereads_the_storage_once_and_adopts_a_newer_session(
    fake: FakeSupabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone stored a newer session while this process was refreshing (a new sign-in)."""
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, tmp_path)
    try:
        held = backend._session
        assert held is not None
        claims = jwt.decode(held.access_token, options={"verify_signature": False})
        fake.gotrue.sessions[str(claims["session_id"])].revoked = True  # ended elsewhere
        real = shared_session._refresh_with

        async def refused_then_signed_in_again(client: Any, token: str) -> Any:
            try:
                return await real(client, token)
            except NotSignedIn:
                # A writer that does not take the lock (an older DevSync) stores a new sign-in.
                newer = await _password_grant(fake)
                storage_for(fake, tmp_path, "alice").set_sync(auth.SESSION_KEY, json.dumps(newer))
                raise

        monkeypatch.setattr(shared_session, "_refresh_with", refused_then_signed_in_again)
        await _expire_in_memory(backend)
        assert await backend.list_teams()
        assert backend._session is not None
        stored = _stored(tmp_path / "alice-session.json", fake)
        assert backend._session.refresh_token == stored["refresh_token"]
    finally:
        await backend.close()


async def test_reuse_after_the_grace_ends_the_session_and_says_so_once(
    fake: FakeSupabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = storage_for(fake, tmp_path, "alice")
    await sign_in(fake, storage, ALICE.email)
    backend = await _backend(fake, tmp_path)
    try:
        held = backend._session
        assert held is not None
        # A copy of the session used elsewhere (outside DevSync's lock) refreshed with it.
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{fake.url}/auth/v1/token?grant_type=refresh_token",
                json={"refresh_token": held.refresh_token},
                headers={"apikey": fake.anon_key},
            )
        assert answer.status_code == 200
        fake.gotrue.backdate_use(held.refresh_token, 11)  # GoTrue's grace is 10 s
        await _expire_in_memory(backend)
        caplog.set_level(logging.INFO, logger="devsync")
        with pytest.raises(NotSignedIn) as ended:
            await backend.list_teams()
        assert str(ended.value) == SESSION_REUSED
        asked = len(fake.gotrue.refresh_log)
        for _ in range(3):  # said again to a caller, never asked again
            with pytest.raises(NotSignedIn, match="old copy of it was used again"):
                await backend.list_teams()
        assert len(fake.gotrue.refresh_log) == asked
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            f"the Supabase session ended: {SESSION_REUSED}"
        ]
    finally:
        await backend.close()
    # The whole family is revoked (the other copy's newer token too) and nothing is left
    # stored for the next process to try.
    assert _outcomes(fake)["refresh_token_already_used"] == 1
    assert await storage.get_item(auth.SESSION_KEY) is None
    with pytest.raises(NotSignedIn, match="devsync login"):
        await _backend(fake, tmp_path)


async def test_reuse_within_the_grace_answers_with_the_current_token(fake: FakeSupabase) -> None:
    first = (await _password_grant(fake))["refresh_token"]
    async with httpx.AsyncClient() as http:

        async def refresh(token: str) -> httpx.Response:
            return await http.post(
                f"{fake.url}/auth/v1/token?grant_type=refresh_token",
                json={"refresh_token": token},
                headers={"apikey": fake.anon_key},
            )

        child = (await refresh(first)).json()["refresh_token"]
        again = await refresh(first)  # within 10 s: the current child, not a new token
        assert again.status_code == 200
        assert again.json()["refresh_token"] == child
        fake.gotrue.backdate_use(first, 11)
        late = await refresh(first)
        assert (late.status_code, late.json()["error_code"]) == (400, "refresh_token_already_used")
        dead = await refresh(child)  # the whole family is revoked
        assert (dead.status_code, dead.json()["error_code"]) == (400, "refresh_token_already_used")


async def test_the_lock_refuses_a_folder_of_another_user(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a folder that belongs to another user")
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o755)
    os.chown(foreign, 65534, 65534)
    storage = storage_for(fake, foreign, "alice")
    with pytest.raises(Exception, match="belongs to another user"):
        async with storage.locked():
            pass


async def test_a_session_stored_for_someone_else_is_never_adopted(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """Another terminal signed this profile in as bob: alice's dashboard must not go on as bob."""
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, tmp_path)
    try:
        await sign_in(fake, storage_for(fake, tmp_path, "alice"), BOB.email)
        await _expire_in_memory(backend)
        with pytest.raises(NotSignedIn) as refused:
            await backend.list_teams()
        assert str(refused.value) == shared_session.OTHER_USER
    finally:
        await backend.close()
    stored = _stored(tmp_path / "alice-session.json", fake)
    assert dict(stored["user"])["email"] == BOB.email  # type: ignore[call-overload]


async def test_a_refresh_cut_short_by_quitting_still_stores_the_new_session(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """Quitting (or a timeout) cancels a request while its refresh is in flight: GoTrue has
    already rotated the token when the answer is lost. The new session must still be stored;
    keeping the retired one would end the session for every process at its next refresh."""
    fake.gotrue.access_expires_in = 30  # inside the margin: every request refreshes
    fake.gotrue.reuse_interval = 0
    await sign_in(fake, storage_for(fake, tmp_path, "alice"), ALICE.email)
    backend = await _backend(fake, tmp_path)
    handle = fake.gotrue.handle
    rotated = asyncio.Event()

    async def slow_answer(request: Any, path: str) -> Any:
        answer = await handle(request, path)
        if request.param("grant_type") == "refresh_token":
            rotated.set()
            await asyncio.sleep(0.5)  # the answer is on its way when the request is cut
        return answer

    fake.gotrue.handle = slow_answer  # type: ignore[method-assign]
    try:
        reading = asyncio.create_task(backend.list_teams())
        await asyncio.wait_for(rotated.wait(), 10)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
    finally:
        await backend.close()
        fake.gotrue.handle = handle  # type: ignore[method-assign]
    # What GoTrue handed out last is what is stored: another process carries on with it.
    stored = str(_stored(tmp_path / "alice-session.json", fake)["refresh_token"])
    assert fake.gotrue.refresh_tokens[stored].used_at is None  # not retired
    other = await _backend(fake, tmp_path)
    try:
        assert await other.list_teams()
    finally:
        await other.close()
    assert set(_outcomes(fake)) == {"rotated"}
