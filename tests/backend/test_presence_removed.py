"""A member removed from the team while watching the project's presence (Supabase transport,
the fake project with Realtime Authorization through the database's policy).

The private presence channel is refused from then on ("Unauthorized: You do not have
permissions to read from this Channel topic"). It must be dropped, not re-joined by realtime-py
every few seconds forever; the link stays live (nothing was lost but the presence channel);
who is here is no longer shown; and once back in the team, watching presence works again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from textual.widgets import Input, TextArea

from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.backend.live import PRESENCE_TABLE, ChangeEvent, FeedEvent, LinkChanged, Resync
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.realtime import REALTIME_LOST
from devsync_tui.core.models import Role
from devsync_tui.dashboard.app import make_app
from devsync_tui.settings import Settings
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import FAST, backend_as, sign_in, storage_for
from tests.support.demo import ALICE, DAVE, PROJECT_STOREFRONT, TEAM_ACME

pytestmark = pytest.mark.db

S = PROJECT_STOREFRONT
TOPIC = f"realtime:devsync:presence:{S}"


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url, bridge_changes=True).start()
    try:
        yield server
    finally:
        await server.stop()


class Recorder:
    """Every event of ``backend.changes()``, consumed in a task."""

    def __init__(self, backend: SupabaseBackend) -> None:
        self.events: list[FeedEvent] = []
        self._task = asyncio.create_task(self._pump(backend))

    async def _pump(self, backend: SupabaseBackend) -> None:
        async for event in backend.changes():
            self.events.append(event)

    async def wait_for(
        self, predicate: Callable[[FeedEvent], bool], after: int = 0, wait: float = 10.0
    ) -> FeedEvent:
        for _ in range(int(wait / 0.02)):
            found = next((e for e in self.events[after:] if predicate(e)), None)
            if found is not None:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"no such event in {self.events[after:]}")

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


def _presence_joins(fake: FakeSupabase, user: Any) -> int:
    """How often ``user`` tried to join the storefront presence channel."""
    return len(
        [
            m
            for m in fake.realtime.joins()
            if m["topic"] == TOPIC and _token_sub(m["payload"].get("access_token")) == str(user)
        ]
    )


def _token_sub(token: Any) -> str | None:
    if not isinstance(token, str):
        return None
    try:
        return str(jwt.decode(token, options={"verify_signature": False}).get("sub"))
    except jwt.InvalidTokenError:
        return None


async def test_a_member_removed_while_watching_is_left_without_retries(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    async with (
        backend_as(fake, tmp_path, ALICE.email) as alice,
        backend_as(fake, tmp_path, DAVE.email) as dave,
    ):
        recorder = Recorder(dave)
        try:
            await recorder.wait_for(lambda e: e == LinkChanged("live"))
            await alice.set_presence(S)
            await dave.set_presence(S)
            assert (await dave.presence(S)).usernames == ("alice",)
            feed = dave._feed
            assert feed is not None
            assert dave.client is not None
            mark = len(recorder.events)

            await alice.remove_member(TEAM_ACME, DAVE.id)
            # The channels follow what dave may see; the presence channel is refused, dropped.
            for _ in range(250):
                if feed._presence_project is None:
                    break
                await asyncio.sleep(0.02)
            assert feed._presence is None
            assert feed._presence_project is None
            # The views hear that presence changed (and read it again: refused now).
            await recorder.wait_for(
                lambda e: (
                    isinstance(e, ChangeEvent) and e.table == PRESENCE_TABLE and e.project_id == S
                ),
                after=mark,
            )
            with pytest.raises(PermissionDenied):
                await dave.presence(S)
            with pytest.raises(PermissionDenied):  # the dashboard's heartbeat
                await dave.set_presence(S)

            # No re-join loop: realtime-py re-joins a refused channel after 1, 2, 5, 10 s.
            tries = _presence_joins(fake, DAVE.id)
            await asyncio.sleep(3.5)
            assert _presence_joins(fake, DAVE.id) == tries
            assert TOPIC not in dave.client.realtime.channels

            # The link was never lost: at most the planned re-subscribe, then live.
            links = [e for e in recorder.events[mark:] if isinstance(e, LinkChanged)]
            assert links
            assert links[-1] == LinkChanged("live")
            assert all(e.state != "offline" and e.detail != REALTIME_LOST for e in links)
            assert await feed.check() is None

            # Back in the team: watching presence works again.
            mark = len(recorder.events)
            await alice.add_member(TEAM_ACME, "dave", Role.MEMBER)
            await recorder.wait_for(
                lambda e: isinstance(e, Resync) and e.reason == "scope changed", after=mark
            )
            info = await dave.set_presence(S)
            assert info is not None
            assert info.usernames == ("alice",)
            assert feed._presence is not None
            assert feed._presence.channel.is_joined
            mark = len(recorder.events)
            await alice.set_presence(S, tab="health")  # she moves: dave hears it
            await recorder.wait_for(
                lambda e: isinstance(e, ChangeEvent) and e.table == PRESENCE_TABLE, after=mark
            )
        finally:
            await recorder.stop()


async def test_a_presence_channel_refused_on_the_library_rejoin_is_dropped(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """realtime-py re-joins its channels after a reconnect; when the presence channel's re-join
    is refused (the membership went while the socket was away, so no change event said so), it
    is dropped at once instead of being re-joined every few seconds, and the link is left as
    it is."""
    async with (
        backend_as(fake, tmp_path, ALICE.email) as alice,
        backend_as(fake, tmp_path, DAVE.email) as dave,
    ):
        recorder = Recorder(dave)
        try:
            await recorder.wait_for(lambda e: e == LinkChanged("live"))
            await dave.set_presence(S)
            feed = dave._feed
            assert feed is not None
            entry = feed._presence
            assert entry is not None
            assert entry.channel.is_joined
            # The removal's change event never reaches dave (as while his socket was away).
            fake.realtime.joined = [
                j
                for j in fake.realtime.joined
                if not (j.claims.get("sub") == str(DAVE.id) and j.topic != TOPIC)
            ]
            await alice.remove_member(TEAM_ACME, DAVE.id)
            mark = len(recorder.events)
            tries = _presence_joins(fake, DAVE.id)
            await entry.channel._rejoin()  # what realtime-py does for it after a reconnect
            await recorder.wait_for(
                lambda e: (
                    isinstance(e, ChangeEvent) and e.table == PRESENCE_TABLE and e.project_id == S
                ),
                after=mark,
            )
            assert feed._presence is None
            assert feed._presence_project is None
            await asyncio.sleep(3.5)  # realtime-py's re-joins would come after 1 s and 2 s
            assert _presence_joins(fake, DAVE.id) == tries + 1
            assert not [e for e in recorder.events[mark:] if isinstance(e, LinkChanged)]
        finally:
            await recorder.stop()


# -- the dashboard: who is here goes when the project does ------------------------------------


@pytest.fixture
def _dashboard_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As tests/dashboard/conftest.py: state, config and keys of the test stay in tmp_path."""
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
    monkeypatch.setattr(TextArea, "cursor_blink", False, raising=False)
    from devsync_tui.core import crypto

    crypto._reset_for_tests()


async def _signed_in(fake: FakeSupabase, folder: Path, user: str) -> SupabaseBackend:
    storage = storage_for(fake, folder, user)
    await sign_in(fake, storage, f"{user}@example.com")
    backend = SupabaseBackend(fake.url, fake.anon_key, storage=storage, feed_timing=FAST)
    await backend.connect()
    return backend


@pytest.mark.usefixtures("_dashboard_dirs")
async def test_the_header_forgets_who_is_here_once_removed(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    from tests.dashboard.conftest import wait_for, wait_ready

    async def factory(settings: Any, **_: Any) -> SupabaseBackend:
        return await _signed_in(fake, tmp_path, "dave")

    app = make_app(Settings(), factory, user="dave", project="storefront", animations=False)
    alice = await _signed_in(fake, tmp_path, "alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_ready(pilot, within=20)
            header = app.main.header
            await wait_for(pilot, lambda: header.link == "live", within=10)
            await pilot.pause(0.5)  # the presence channel joined
            await alice.set_presence(S, tab="health")
            await wait_for(pilot, lambda: header.presence.startswith("alice"), within=3)
            await alice.remove_member(TEAM_ACME, DAVE.id)
            # within a heartbeat (5 s): nobody shown, the link live
            await wait_for(pilot, lambda: header.presence == "", within=8)
            await pilot.pause(3.5)  # a refused re-join would have come by now
            assert header.presence == ""
            assert header.link == "live"
    finally:
        await alice.close()
