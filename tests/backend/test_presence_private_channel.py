"""Presence on Supabase: the project's presence channel is private and Realtime Authorization
(the policy on ``realtime.messages``, evaluated by the fake Realtime the way Realtime does)
lets only members of the project's team join it; nobody may send on it; who someone is comes
from the database (their profile, by the session's user id), never from a client's message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.backend.live import PRESENCE_TABLE, ChangeEvent, LinkChanged
from devsync_tui.backend.supabase.backend import SupabaseBackend
from tests.backend.fake_supabase import ANON_KEY, FakeSupabase
from tests.backend.fake_supabase.fixtures import backend_as
from tests.support.demo import (
    ALICE,
    BOB,
    DAVE,
    ENV_BOB_LAPTOP,
    MALLORY,
    PROJECT_STOREFRONT,
    TEAM_ACME,
)

pytestmark = pytest.mark.db

S = PROJECT_STOREFRONT
TOPIC = f"devsync:presence:{S}"


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url, bridge_changes=True).start()
    try:
        yield server
    finally:
        await server.stop()


async def _join(client: Any, *, private: bool = True) -> tuple[Any, list[Any], list[str]]:
    """Join the storefront presence channel on ``client`` (a realtime client); returns the
    channel, the broadcasts it receives and the states it went through."""
    got: list[Any] = []
    states: list[str] = []
    settled = asyncio.Event()
    channel = client.channel(
        TOPIC,
        {
            "config": {
                "broadcast": {"ack": False, "self": False},
                "presence": {"key": "spoof", "enabled": True},
                "private": private,
            }
        },
    )
    channel.on_broadcast("*", got.append)

    def on_state(state: Any, _error: Exception | None) -> None:
        states.append(getattr(state, "value", str(state)))
        settled.set()

    await channel.subscribe(on_state)
    await asyncio.wait_for(settled.wait(), 5)
    return channel, got, states


async def _raw_realtime(fake: FakeSupabase, token: str | None) -> Any:
    from realtime import AsyncRealtimeClient

    client = AsyncRealtimeClient(f"{fake.url.replace('http', 'ws')}/realtime/v1", ANON_KEY)
    await client.connect()
    if token is not None:
        await client.set_auth(token)
    return client


class Pushes:
    """The presence pushes a backend's change feed yields (consumed in a task)."""

    def __init__(self, backend: SupabaseBackend) -> None:
        self.events: list[ChangeEvent] = []
        self._task = asyncio.create_task(self._pump(backend))

    async def _pump(self, backend: SupabaseBackend) -> None:
        async for event in backend.changes():
            if isinstance(event, ChangeEvent) and event.table == PRESENCE_TABLE:
                self.events.append(event)

    async def wait(self, count: int) -> None:
        for _ in range(250):
            if len(self.events) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.events)} presence pushes, expected {count}")

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


async def test_a_member_hears_an_arrival_at_once(fake: FakeSupabase, tmp_path: Path) -> None:
    async with (
        backend_as(fake, tmp_path, ALICE.email) as alice,
        backend_as(fake, tmp_path, BOB.email) as bob,
    ):
        pushes = Pushes(alice)
        try:
            await alice.set_presence(S, tab="config")  # announced, then joined
            await bob.set_presence(S, environment_id=ENV_BOB_LAPTOP, editing_key="LOG_LEVEL")
            await pushes.wait(1)
            assert pushes.events[-1].project_id == S
            assert pushes.events[-1].row is None
            info = await alice.presence(S)
            assert [(e.username, e.environment_id, e.editing_key) for e in info.entries] == [
                ("bob", ENV_BOB_LAPTOP, "LOG_LEVEL")
            ]
            await bob.close()  # quitting: gone at once
            await pushes.wait(2)
            assert (await alice.presence(S)).entries == ()
        finally:
            await pushes.stop()


async def test_a_non_member_cannot_join_nor_announce(fake: FakeSupabase, tmp_path: Path) -> None:
    async with (
        backend_as(fake, tmp_path, MALLORY.email) as mallory,
        backend_as(fake, tmp_path, BOB.email) as bob,
    ):
        with pytest.raises(PermissionDenied, match="member"):
            await mallory.set_presence(S)
        with pytest.raises(PermissionDenied, match="member"):
            await mallory.presence(S)
        token = mallory._session.access_token
        client = await _raw_realtime(fake, token)
        try:
            _, got, states = await _join(client)
            assert states == ["CHANNEL_ERROR"]
            await bob.set_presence(S)
            await asyncio.sleep(0.3)
            assert got == []
        finally:
            await client.close()
        refusals = [m for m in fake.realtime.joined if m.sub_topic == TOPIC and m.private]
        assert all(j.claims.get("sub") != str(MALLORY.id) for j in refusals)


async def test_the_anon_key_sees_nothing_private_or_public(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    client = await _raw_realtime(fake, None)
    public = await _raw_realtime(fake, None)
    try:
        _, got_private, states = await _join(client)
        assert states == ["CHANNEL_ERROR"]
        # the same topic as a public channel joins, but the database's pushes are private
        _, got_public, states = await _join(public, private=False)
        assert states == ["SUBSCRIBED"]
        async with backend_as(fake, tmp_path, BOB.email) as bob:
            await bob.set_presence(S)
            await asyncio.sleep(0.3)
        assert got_private == []
        assert got_public == []
    finally:
        await client.close()
        await public.close()


async def test_a_member_cannot_pretend_to_be_someone_else(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    async with (
        backend_as(fake, tmp_path, ALICE.email) as alice,
        backend_as(fake, tmp_path, BOB.email) as bob,
    ):
        pushes = Pushes(bob)
        try:
            await bob.set_presence(S)
            await alice.set_presence(S)
            await pushes.wait(1)
            feed = alice._feed
            assert feed is not None
            assert feed._presence is not None
            channel = feed._presence.channel
            # alice claims to be erin: a presence "track" and a broadcast of her own
            await channel.track({"username": "erin", "user_id": "erin"})
            await channel.send_broadcast("presence", {"project_id": str(S), "username": "erin"})
            await asyncio.sleep(0.3)
            assert len(pushes.events) == 1
            assert fake.realtime.presence.get(f"realtime:{TOPIC}", {}) == {}
            # what bob reads comes from the database: alice, as her session says
            info = await bob.presence(S)
            assert info.usernames == ("alice",)
            assert [e.user_id for e in info.entries] == [ALICE.id]
        finally:
            await pushes.stop()


async def test_a_join_is_decided_by_the_policy_not_the_topic_name(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    async with backend_as(fake, tmp_path, ALICE.email) as alice:
        assert isinstance(alice, SupabaseBackend)
        permissions = await fake.realtime.authorize(
            {"sub": str(ALICE.id), "role": "authenticated"}, TOPIC
        )  # type: ignore[misc]
        assert permissions.may_join
        assert not permissions.write_broadcast
        assert not permissions.write_presence
        other = await fake.realtime.authorize(  # type: ignore[misc]
            {"sub": str(ALICE.id), "role": "authenticated"}, "devsync:presence:not-a-project"
        )
        assert not other.may_join


async def test_a_member_removed_keeps_a_live_feed_without_the_channel(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    async with (
        backend_as(fake, tmp_path, ALICE.email) as alice,
        backend_as(fake, tmp_path, DAVE.email) as dave,
    ):
        links: list[str] = []

        async def pump() -> None:
            async for event in dave.changes():
                if isinstance(event, LinkChanged):
                    links.append(event.state)

        task = asyncio.create_task(pump())
        try:
            await dave.set_presence(S)
            await alice.remove_member(TEAM_ACME, DAVE.id)  # the channels follow: re-joined
            feed = dave._feed
            assert feed is not None
            for _ in range(250):
                if feed._presence_project is None:
                    break
                await asyncio.sleep(0.02)
            assert feed._presence_project is None
            await asyncio.sleep(0.3)
            assert links[-1] == "live"
            since_live = links[links.index("live") :]  # the stream opens with its state
            assert "offline" not in since_live
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
