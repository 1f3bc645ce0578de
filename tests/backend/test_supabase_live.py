"""The Supabase transport against a real Supabase project (marker ``live``).

Runs only when ``SUPABASE_URL``, ``SUPABASE_ANON_KEY``, ``DEVSYNC_TEST_EMAIL`` and
``DEVSYNC_TEST_PASSWORD`` are set: the project must have DevSync's migrations applied
(``supabase db push``) and the user must exist with that password. The test creates a team of
its own (unique slug) and deletes it at the end; it touches nothing else.

    SUPABASE_URL=https://xyz.supabase.co SUPABASE_ANON_KEY=eyJ... \\
    DEVSYNC_TEST_EMAIL=me@example.com DEVSYNC_TEST_PASSWORD=... pytest -m live
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devsync_tui.backend.errors import Conflict
from devsync_tui.backend.live import ChangeEvent, LinkChanged
from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.session import SessionStorage
from devsync_tui.core.models import ConfigType, Role

_NEEDED = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "DEVSYNC_TEST_EMAIL", "DEVSYNC_TEST_PASSWORD")
_MISSING = [name for name in _NEEDED if not os.environ.get(name)]

_REASON = f"live Supabase suite: set {', '.join(_MISSING)} to run it against a real project"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[SupabaseBackend]:
    url, key = os.environ["SUPABASE_URL"], os.environ["SUPABASE_ANON_KEY"]
    storage = SessionStorage(
        auth.storage_namespace(url), use_keyring=False, path=tmp_path / "session.json"
    )
    client = await auth.create_client(url, key, storage)
    try:
        await auth.sign_in_with_password(
            client, os.environ["DEVSYNC_TEST_EMAIL"], os.environ["DEVSYNC_TEST_PASSWORD"]
        )
    finally:
        await auth.close_client(client)
    backend = SupabaseBackend(url, key, storage=storage)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.mark.live
@pytest.mark.skipif(bool(_MISSING), reason=_REASON)
async def test_live_project_scenarios(live: SupabaseBackend) -> None:
    await scenarios(live, os.environ["DEVSYNC_TEST_EMAIL"])


@pytest.mark.db
async def test_the_live_scenarios_pass_on_the_fake_project(
    fresh_db_url: str, tmp_path: Path
) -> None:
    """Keeps the live suite honest between runs against a real project."""
    from tests.backend.fake_supabase import FakeSupabase
    from tests.backend.fake_supabase.fixtures import backend_as

    fake = await FakeSupabase(fresh_db_url, bridge_changes=True).start()
    try:
        async with backend_as(fake, tmp_path, "erin@example.com") as backend:
            await scenarios(backend, "erin@example.com")
    finally:
        await fake.stop()


async def scenarios(live: SupabaseBackend, email: str) -> None:
    """Sign-in identity, a team of our own, project, environment, save/conflict/reveal,
    effective configuration and the change feed (INSERT and DELETE); the team is deleted."""
    me = await live.whoami()
    assert me.email == email
    slug = f"devsync-live-{secrets.token_hex(4)}"
    team = await live.create_team(f"Live test {slug}", slug)
    try:
        assert team.owner_id == me.user_id
        assert (await live.my_roles())[team.id] == Role.ADMIN
        project = await live.create_project(team.id, "live-project")
        env = await live.create_environment(project.id, "live-env")
        feed = live.changes()
        first = await asyncio.wait_for(anext(feed), 20)
        assert isinstance(first, LinkChanged)
        if first.state != "live":
            await asyncio.wait_for(_until_live(feed), 20)
        saved = await live.save_configuration(
            project.id,
            None,
            "LIVE_KEY",
            "1",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
        event = await asyncio.wait_for(_change(feed, "INSERT", str(saved.id)), 20)
        assert event.row == saved
        with pytest.raises(Conflict) as info:
            await live.save_configuration(
                project.id,
                None,
                "LIVE_KEY",
                "stale",
                is_secret=False,
                type=ConfigType.ENV_VAR,
                expected_version=7,
            )
        assert info.value.current_version == 1
        secret = await live.save_configuration(
            project.id,
            env.id,
            "LIVE_SECRET",
            "not-a-real-secret",
            is_secret=True,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
        assert secret.value is None
        assert await live.reveal_secret(secret.id) == "not-a-real-secret"
        effective = {r.key: r for r in await live.effective_configuration(env.id)}
        assert effective["LIVE_KEY"].source == "default"
        assert effective["LIVE_SECRET"].source == "override"
        await live.delete_configuration(saved.id, 1)
        deleted = await asyncio.wait_for(_change(feed, "DELETE", str(saved.id)), 20)
        assert deleted.row is None
        with contextlib.suppress(Exception):
            await feed.aclose()  # type: ignore[attr-defined]
    finally:
        await live.delete_team(team.id)


async def _until_live(feed: AsyncIterator[object]) -> None:
    async for event in feed:
        if isinstance(event, LinkChanged) and event.state == "live":
            return


async def _change(feed: AsyncIterator[object], op: str, key: str) -> ChangeEvent:
    async for event in feed:
        if isinstance(event, ChangeEvent) and event.op == op and event.id == key:
            return event
    raise AssertionError("the change feed ended")
