"""``devsync agent`` (its own process) on a Supabase session it shares with other processes:
it survives their refreshes, and says once, in one sentence, when the session is really over."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.errors import SESSION_REUSED
from devsync_tui.backend.supabase.session import SessionStorage
from devsync_tui.exit_codes import EXIT_DENIED
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import sign_in
from tests.support.demo import ALICE

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    # Tokens of 30 s (inside the 60 s margin): every request of every process refreshes. No
    # reuse grace: one refresh with a retired token would end the session for everyone.
    server.gotrue.access_expires_in = 30
    server.gotrue.reuse_interval = 0
    try:
        yield server
    finally:
        await server.stop()


async def _signed_in(fake: FakeSupabase, home: Path) -> SessionStorage:
    """alice's session where the agent's profile keeps it (the fallback file, no keyring)."""
    storage = SessionStorage(
        auth.storage_namespace(fake.url), use_keyring=False, path=home / "cfg" / "session.json"
    )
    await sign_in(fake, storage, ALICE.email)
    return storage


async def _agent(fake: FakeSupabase, home: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DEVSYNC_CONFIG": str(home / "cfg" / "config.toml"),
        "DEVSYNC_STATE_DIR": str(home / "state"),
        "DEVSYNC_CACHE_DIR": str(home / "cache"),
        "SUPABASE_URL": fake.url,
        "SUPABASE_ANON_KEY": fake.anon_key,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONPATH": str(REPO),
    }
    for name in ("DEVSYNC_PROFILE", "DEVSYNC_DATABASE_URL", "DEVSYNC_TOKEN"):
        env.pop(name, None)
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "devsync_tui", "agent", "--project", "storefront"),
        *("--env", "shared-agent", "--interval", "0.2", "--no-scan"),
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def _agent_writes(fake: FakeSupabase) -> int:
    """How many writes the agent made (a few per sync round; the other client only reads)."""
    return sum(1 for r in fake.rest_requests() if r.method != "GET")


async def _wait_for(condition: Callable[[], bool], process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if process.returncode is not None:
            raise AssertionError(f"the agent exited with {process.returncode}")
        assert time.monotonic() < deadline, "the agent did not get there in time"
        await asyncio.sleep(0.05)


async def test_the_agent_keeps_running_while_another_client_refreshes_its_session(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    storage = await _signed_in(fake, tmp_path)
    agent = await _agent(fake, tmp_path)
    try:
        await _wait_for(lambda: _agent_writes(fake) >= 3, agent)
        client = SupabaseBackend(fake.url, fake.anon_key, storage=storage)
        await client.connect()
        try:
            for _ in range(30):
                assert await client.list_teams()
                await asyncio.sleep(0.05)
        finally:
            await client.close()
        writes = _agent_writes(fake)
        await _wait_for(lambda: _agent_writes(fake) >= writes + 3, agent)
        assert agent.returncode is None  # still running
    finally:
        if agent.returncode is None:
            agent.terminate()
        out, err = await asyncio.wait_for(agent.communicate(), 60)
    assert agent.returncode == 0, err.decode()
    said = (out + err).decode()
    assert "login" not in said
    assert "ended" not in said
    assert "reporting for storefront/shared-agent" in said
    outcomes = Counter(outcome for _token, outcome in fake.gotrue.refresh_log)
    assert set(outcomes) == {"rotated"}
    assert outcomes["rotated"] >= 30 + 6


async def test_the_agent_says_once_that_a_reused_session_was_ended(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """A copy of the session used elsewhere with an old refresh token, after the grace: GoTrue
    revokes the whole session; the agent says why in one sentence, once, and stops (exit 3)."""
    fake.gotrue.reuse_interval = 10  # GoTrue's default
    storage = await _signed_in(fake, tmp_path)
    agent = await _agent(fake, tmp_path)
    try:
        await _wait_for(lambda: _agent_writes(fake) >= 3, agent)
        old = json.loads(storage.get_sync(auth.SESSION_KEY) or "{}")["refresh_token"]
        await _wait_for(lambda: fake.gotrue.refresh_tokens[old].used_at is not None, agent)
        fake.gotrue.backdate_use(old, 11)
        async with httpx.AsyncClient() as http:
            stolen = await http.post(
                f"{fake.url}/auth/v1/token?grant_type=refresh_token",
                json={"refresh_token": old},
                headers={"apikey": fake.anon_key},
            )
        assert stolen.json()["error_code"] == "refresh_token_already_used"
        out, err = await asyncio.wait_for(agent.communicate(), 60)
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
    said = (out + err).decode()
    assert agent.returncode == EXIT_DENIED, said
    assert said.count(SESSION_REUSED) == 1, said
    assert "Traceback" not in said
    assert storage.get_sync(auth.SESSION_KEY) is None  # nobody else tries the dead session
