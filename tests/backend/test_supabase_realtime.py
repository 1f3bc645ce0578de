"""The Supabase change feed against a scripted Phoenix-protocol peer: joins carry the user's
token and per-team/per-project filters, changes are re-read through PostgREST (RLS), DELETE
gives row None, and reconnects, closed channels, silent sockets and token refreshes end in a
Resync. Presence pushes on a private per-project channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import jwt
import pytest

from devsync_tui.backend.live import ChangeEvent, FeedEvent, LinkChanged, Resync
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.realtime import FeedTiming
from devsync_tui.core.models import ConfigType, Configuration
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import backend_as, sign_in, storage_for
from tests.support.demo import ALICE, BOB, MALLORY, PROJECT_BILLING, PROJECT_STOREFRONT, TEAM_ACME
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.db


class Recorder:
    """Consumes ``backend.changes()`` in a task and keeps every event."""

    def __init__(self, backend: SupabaseBackend) -> None:
        self.events: list[FeedEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(backend))

    async def _pump(self, backend: SupabaseBackend) -> None:
        async for event in backend.changes():
            self.events.append(event)
            self._changed.set()

    async def wait_for(
        self, predicate: Callable[[FeedEvent], bool], wait: float = 5.0, after: int = 0
    ) -> FeedEvent:
        async def until() -> FeedEvent:
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(until(), wait)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url, bridge_changes=True).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bob(
    fake: FakeSupabase, tmp_path: Path
) -> AsyncIterator[tuple[SupabaseBackend, Recorder]]:
    async with backend_as(fake, tmp_path, BOB.email) as backend:
        recorder = Recorder(backend)
        await recorder.wait_for(lambda e: isinstance(e, LinkChanged) and e.state == "live")
        try:
            yield backend, recorder
        finally:
            await recorder.stop()


def _is_change(table: str, op: str, key: str | None = None) -> Callable[[FeedEvent], bool]:
    def check(event: FeedEvent) -> bool:
        return (
            isinstance(event, ChangeEvent)
            and event.table == table
            and event.op == op
            and (key is None or event.id == key)
        )

    return check


async def test_joins_carry_the_user_token_and_scoped_filters(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder]
) -> None:
    [socket] = fake.realtime.sockets
    assert socket.request.path == "/realtime/v1/websocket"
    assert socket.request.param("apikey") == fake.anon_key
    assert socket.request.param("vsn") == "1.0.0"
    joins = {m["topic"]: m["payload"] for m in fake.realtime.joins()}
    assert set(joins) == {
        f"realtime:devsync:user:{BOB.id}",
        f"realtime:devsync:team:{TEAM_ACME}",
        f"realtime:devsync:project:{PROJECT_STOREFRONT}",
        f"realtime:devsync:project:{PROJECT_BILLING}",
    }
    for payload in joins.values():
        claims = jwt.decode(payload["access_token"], options={"verify_signature": False})
        assert claims["sub"] == str(BOB.id)  # never the anon key (supabase-py joins with it)
    team = joins[f"realtime:devsync:team:{TEAM_ACME}"]["config"]["postgres_changes"]
    assert {
        "event": "*",
        "schema": "public",
        "table": "projects",
        "filter": f"team_id=eq.{TEAM_ACME}",
    } in team
    assert {
        "event": "*",
        "schema": "public",
        "table": "teams",
        "filter": f"id=eq.{TEAM_ACME}",
    } in team
    project = joins[f"realtime:devsync:project:{PROJECT_STOREFRONT}"]["config"]["postgres_changes"]
    assert {b["table"] for b in project} == {
        "env_templates",
        "environments",
        "configurations",
        "dependencies",
        "machine_config_states",
    }
    assert all(b["filter"] == f"project_id=eq.{PROJECT_STOREFRONT}" for b in project)
    personal = joins[f"realtime:devsync:user:{BOB.id}"]["config"]["postgres_changes"]
    mine = {"event": "*", "schema": "public", "table": "team_members"}
    assert {**mine, "filter": f"user_id=eq.{BOB.id}"} in personal
    heartbeats = [m for m in fake.realtime.received if m["event"] == "heartbeat"]
    assert heartbeats
    assert heartbeats[0]["topic"] == "phoenix"


async def test_changes_are_reread_and_deletes_have_no_row(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder], tmp_path: Path
) -> None:
    _, recorder = bob
    async with backend_as(fake, tmp_path, ALICE.email) as alice:
        saved = await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            "FEED_KEY",
            "v1",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
        event = await recorder.wait_for(_is_change("configurations", "INSERT", str(saved.id)))
        assert isinstance(event, ChangeEvent)
        assert isinstance(event.row, Configuration)
        assert (event.row.key, event.row.value, event.row.version) == ("FEED_KEY", "v1", 1)
        assert event.project_id == PROJECT_STOREFRONT
        reread = [
            r
            for r in fake.rest_requests()
            if r.path == "/rest/v1/configurations" and ("id", f"eq.{saved.id}") in r.query
        ]
        assert reread
        jwt_sub = jwt.decode(
            reread[-1].headers["authorization"].removeprefix("Bearer "),
            options={"verify_signature": False},
        )["sub"]
        assert jwt_sub == str(BOB.id)  # re-read as bob: RLS decides what he sees
        await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            "FEED_KEY",
            "v2",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=1,
        )
        updated = await recorder.wait_for(_is_change("configurations", "UPDATE", str(saved.id)))
        assert isinstance(updated, ChangeEvent)
        assert updated.row.version == 2
        await alice.delete_configuration(saved.id, 2)
        deleted = await recorder.wait_for(_is_change("configurations", "DELETE", str(saved.id)))
        assert isinstance(deleted, ChangeEvent)
        assert deleted.row is None


async def test_outsider_gets_no_team_changes(fake: FakeSupabase, tmp_path: Path) -> None:
    async with backend_as(fake, tmp_path, MALLORY.email) as mallory:
        recorder = Recorder(mallory)
        try:
            await recorder.wait_for(lambda e: isinstance(e, LinkChanged) and e.state == "live")
            topics = {m["topic"] for m in fake.realtime.joins()}
            assert topics == {f"realtime:devsync:user:{MALLORY.id}"}
            async with backend_as(fake, tmp_path, ALICE.email) as alice:
                await alice.save_configuration(
                    PROJECT_STOREFRONT,
                    None,
                    "HIDDEN",
                    "x",
                    is_secret=False,
                    type=ConfigType.ENV_VAR,
                    expected_version=None,
                )
                await alice.create_project(TEAM_ACME, "secret-project")
            await asyncio.sleep(0.5)
            assert not [
                e for e in recorder.events if isinstance(e, ChangeEvent) and e.op != "DELETE"
            ]
        finally:
            await recorder.stop()


async def test_server_closing_the_socket_ends_in_resync(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder], tmp_path: Path
) -> None:
    _, recorder = bob
    mark = len(recorder.events)
    await fake.realtime.close_all(1011)
    await recorder.wait_for(
        lambda e: isinstance(e, LinkChanged) and e.state == "reconnecting", after=mark
    )
    await recorder.wait_for(lambda e: isinstance(e, Resync), after=mark)
    await recorder.wait_for(lambda e: isinstance(e, LinkChanged) and e.state == "live", after=mark)
    mark = len(recorder.events)
    async with backend_as(fake, tmp_path, ALICE.email) as alice:
        saved = await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            "AFTER_RECONNECT",
            "x",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    await recorder.wait_for(_is_change("configurations", "INSERT", str(saved.id)), after=mark)


async def test_channel_left_closed_is_recreated(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder]
) -> None:
    """supabase-py #1311: a channel that stays CLOSED is re-created by the watchdog."""
    _, recorder = bob
    topic = f"realtime:devsync:project:{PROJECT_STOREFRONT}"
    mark = len(recorder.events)
    await fake.realtime.close_channel(topic)
    resync = await recorder.wait_for(
        lambda e: isinstance(e, Resync) and ("dropped" in e.reason or "not joined" in e.reason),
        after=mark,
    )
    assert isinstance(resync, Resync)
    await fake.realtime.wait_joined(topic, count=2)


async def test_silent_socket_is_replaced(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder]
) -> None:
    """supabase-py #1034: a socket that stops answering is detected and replaced."""
    _, recorder = bob
    mark = len(recorder.events)
    fake.realtime.stall_all()
    resync = await recorder.wait_for(
        lambda e: isinstance(e, Resync) and e.reason == "realtime silent", after=mark, wait=10
    )
    assert isinstance(resync, Resync)
    await fake.realtime.wait_joined(f"realtime:devsync:team:{TEAM_ACME}", count=2)
    assert len([s for s in fake.realtime.sockets if not s.stalled]) == 1


async def test_token_refresh_reaches_realtime_and_resyncs(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder]
) -> None:
    backend, recorder = bob
    mark = len(recorder.events)
    assert backend.client is not None
    await backend.client.auth.refresh_session()
    resync = await recorder.wait_for(
        lambda e: isinstance(e, Resync) and e.reason == "token refreshed", after=mark
    )
    assert isinstance(resync, Resync)
    new_token = backend._session.access_token
    pushes = [m for m in fake.realtime.received if m["event"] == "access_token"]
    assert {m["payload"]["access_token"] for m in pushes} == {new_token}
    assert len({m["topic"] for m in pushes}) == 4
    for channel in backend.client.realtime.channels.values():
        # supabase-py #1655: a rejoin must not send the stale token
        assert channel.join_push.payload["access_token"] == new_token


async def test_new_project_gets_a_channel(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder], tmp_path: Path
) -> None:
    _, recorder = bob
    async with backend_as(fake, tmp_path, ALICE.email) as alice:
        project = await alice.create_project(TEAM_ACME, "mobile")
    await recorder.wait_for(_is_change("projects", "INSERT", str(project.id)))
    await fake.realtime.wait_joined(f"realtime:devsync:project:{project.id}")
    await recorder.wait_for(lambda e: isinstance(e, Resync) and e.reason == "scope changed")


async def test_presence_shows_who_else_is_on_the_project(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder], tmp_path: Path
) -> None:
    backend, _ = bob
    async with backend_as(fake, tmp_path, ALICE.email) as alice:
        await alice.set_presence(PROJECT_STOREFRONT)
        await backend.set_presence(PROJECT_STOREFRONT)

        async def until(names: tuple[str, ...]) -> None:
            for _ in range(250):
                if (await alice.presence(PROJECT_STOREFRONT)).usernames == names:
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(f"presence never became {names}")

        await until(("bob",))
        assert (await backend.presence(PROJECT_STOREFRONT)).usernames == ("alice",)
        assert (await backend.presence(PROJECT_BILLING)).usernames == ()
        joins = [
            m
            for m in fake.realtime.joins()
            if m["topic"] == f"realtime:devsync:presence:{PROJECT_STOREFRONT}"
        ]
        # private channels, carrying nothing about who: that is the server's to say
        assert len(joins) == 2
        assert all(m["payload"]["config"]["private"] is True for m in joins)
        assert {m["payload"]["config"]["presence"]["key"] for m in joins} == {""}
        await backend.set_presence(None)
        await until(())


async def test_two_consumers_both_see_every_change(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder], tmp_path: Path
) -> None:
    backend, first = bob
    second = Recorder(backend)
    try:
        await second.wait_for(lambda e: isinstance(e, LinkChanged) and e.state == "live")
        async with backend_as(fake, tmp_path, ALICE.email) as alice:
            saved = await alice.save_configuration(
                PROJECT_STOREFRONT,
                None,
                "FANOUT",
                "x",
                is_secret=False,
                type=ConfigType.ENV_VAR,
                expected_version=None,
            )
        check = _is_change("configurations", "INSERT", str(saved.id))
        one, two = await first.wait_for(check), await second.wait_for(check)
        assert one == two
        rereads = [
            r
            for r in fake.rest_requests()
            if r.path == "/rest/v1/configurations" and ("id", f"eq.{saved.id}") in r.query
        ]
        assert len(rereads) == 1  # re-read once, whatever the number of consumers
    finally:
        await second.stop()


async def test_realtime_refusing_at_start_goes_offline_then_live(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    fake.realtime.refuse_joins = True
    async with backend_as(fake, tmp_path, BOB.email) as backend:
        recorder = Recorder(backend)
        try:
            offline = await recorder.wait_for(lambda e: isinstance(e, LinkChanged))
            assert isinstance(offline, LinkChanged)
            assert offline.state == "offline"
            assert "cannot be reached" in offline.detail
            fake.realtime.refuse_joins = False
            mark = len(recorder.events)
            await recorder.wait_for(
                lambda e: isinstance(e, LinkChanged) and e.state == "live", after=mark, wait=8
            )
            resync = await recorder.wait_for(lambda e: isinstance(e, Resync), after=mark)
            assert isinstance(resync, Resync)
            assert resync.reason == "realtime connected"
        finally:
            await recorder.stop()


async def test_closing_with_a_silent_server_does_not_hang(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """Quitting while Realtime stopped answering: presence, feed and socket each give up in
    bounded time instead of holding the quit up."""
    async with backend_as(fake, tmp_path, BOB.email) as backend:
        recorder = Recorder(backend)
        await recorder.wait_for(lambda e: isinstance(e, LinkChanged) and e.state == "live")
        fake.realtime.stall_all()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(backend.close(), 15)
        assert loop.time() - started < 12
        await recorder.stop()


# -- outages, planned leaves, the stream's first state -----------------------------------------

#: Joins give up after half a second: an outage of a few seconds outlasts several of them.
SHORT = FeedTiming(subscribe_timeout=0.5, watchdog_interval=0.3, ping_timeout=1.0, rejoin_grace=1.0)


def _link(state: str) -> Callable[[FeedEvent], bool]:
    return lambda e: isinstance(e, LinkChanged) and e.state == state


def _wanted_topics(user: object) -> set[str]:
    return {
        f"realtime:devsync:user:{user}",
        f"realtime:devsync:team:{TEAM_ACME}",
        f"realtime:devsync:project:{PROJECT_STOREFRONT}",
        f"realtime:devsync:project:{PROJECT_BILLING}",
    }


async def _saved_by_alice(fake: FakeSupabase, folder: Path, key: str) -> Configuration:
    async with backend_as(fake, folder, ALICE.email) as alice:
        return await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            key,
            "x",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )


async def test_the_stream_opens_with_the_live_state_not_offline(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """``devsync run --watch`` printed "live updates offline" at every start: the stream's
    first event was the fan-out's initial state, before its pump took the queued "live"."""
    async with backend_as(fake, tmp_path, BOB.email) as backend:
        stream = backend.changes()
        try:
            first = await asyncio.wait_for(anext(stream), 10)  # type: ignore[call-overload]
            assert first == LinkChanged("live")
            # a later consumer gets the state as it is now, at once
            second = backend.changes()
            assert await asyncio.wait_for(anext(second), 5) == LinkChanged("live")  # type: ignore[call-overload]
            await second.aclose()  # type: ignore[attr-defined]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


async def test_an_outage_longer_than_the_subscribe_timeout_ends_live(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """The whole project unreachable (new connections refused, open ones cut) for several
    subscribe timeouts: the feed keeps trying, comes back live with every channel, says
    Resync, and delivers what changes after."""
    proxy = await TcpProxy(f"host=127.0.0.1 port={fake.server.port}").start()
    storage = storage_for(fake, tmp_path, "bob")
    await sign_in(fake, storage, BOB.email)
    backend = SupabaseBackend(
        f"http://127.0.0.1:{proxy.port}",
        fake.anon_key,
        storage=storage,
        feed_timing=SHORT,
        realtime_options={"max_retries": 2, "initial_backoff": 0.1, "timeout": 1},
    )
    await backend.connect()
    recorder = Recorder(backend)
    try:
        await recorder.wait_for(_link("live"))
        await backend.set_presence(PROJECT_STOREFRONT)
        mark = len(recorder.events)
        proxy.refuse = True
        proxy.cut()
        await recorder.wait_for(
            lambda e: isinstance(e, LinkChanged) and e.state != "live", after=mark
        )
        await asyncio.sleep(3.0)  # six subscribe timeouts, ten watchdog rounds
        assert not [e for e in recorder.events[mark:] if e == LinkChanged("live")]
        mark = len(recorder.events)
        proxy.refuse = False
        # The dashboard's presence heartbeat, at once: its join used to open a new socket
        # that made the watchdog's checks pass with none of the feed's channels joined.
        await backend.set_presence(PROJECT_STOREFRONT)
        await recorder.wait_for(_link("live"), after=mark, wait=15)
        await recorder.wait_for(lambda e: isinstance(e, Resync), after=mark)
        feed = backend._feed
        assert feed is not None
        assert await feed.check() is None
        presence = f"realtime:devsync:presence:{PROJECT_STOREFRONT}"
        await fake.realtime.wait_joined(presence, count=2)
        joined = {j.topic for j in fake.realtime.joined if j.claims.get("sub") == str(BOB.id)}
        assert joined == _wanted_topics(BOB.id) | {presence}
        mark = len(recorder.events)
        saved = await _saved_by_alice(fake, tmp_path, "AFTER_OUTAGE")
        await recorder.wait_for(_is_change("configurations", "INSERT", str(saved.id)), after=mark)
    finally:
        await recorder.stop()
        await backend.close()
        await proxy.close()


async def test_joins_unanswered_past_the_subscribe_timeout_end_live(
    fake: FakeSupabase, tmp_path: Path
) -> None:
    """The socket comes back but Realtime answers no join for a while: the watchdog's re-open
    fails (offline, no channel joined) while realtime-py keeps the socket up by itself. Once
    joins are answered again the feed must not stay offline for good."""
    async with backend_as(fake, tmp_path, BOB.email, timing=SHORT) as backend:
        recorder = Recorder(backend)
        try:
            await recorder.wait_for(_link("live"))
            mark = len(recorder.events)
            fake.realtime.answer_joins = False
            await fake.realtime.close_all(1011)
            await recorder.wait_for(_link("offline"), after=mark, wait=15)
            feed = backend._feed
            assert feed is not None
            assert await feed.check() is not None  # offline is a problem, whatever the socket
            await asyncio.sleep(1.0)
            mark = len(recorder.events)
            fake.realtime.answer_joins = True
            await recorder.wait_for(_link("live"), after=mark, wait=10)
            await recorder.wait_for(lambda e: isinstance(e, Resync), after=mark)
            assert set(feed._channels) == {
                t.removeprefix("realtime:") for t in _wanted_topics(BOB.id)
            }
            mark = len(recorder.events)
            saved = await _saved_by_alice(fake, tmp_path, "AFTER_SILENT_JOINS")
            await recorder.wait_for(
                _is_change("configurations", "INSERT", str(saved.id)), after=mark
            )
        finally:
            await recorder.stop()


async def test_check_reports_a_wanted_channel_that_is_missing(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder]
) -> None:
    backend, _ = bob
    feed = backend._feed
    assert feed is not None
    assert await feed.check() is None
    key = f"devsync:project:{PROJECT_BILLING}"
    entry = feed._channels.pop(key)  # as a re-open that failed half-way left it
    try:
        assert await feed.check() == f"channel {key} missing"
    finally:
        feed._channels[key] = entry


async def test_moving_presence_to_another_project_keeps_the_link_live(
    fake: FakeSupabase, bob: tuple[SupabaseBackend, Recorder], tmp_path: Path
) -> None:
    """Leaving the old project's presence channel on purpose is not a lost connection (its
    CLOSED came once the leave timed out, and turned the header to "reconnecting")."""
    backend, recorder = bob
    await backend.set_presence(PROJECT_STOREFRONT)
    mark = len(recorder.events)
    await backend.set_presence(PROJECT_BILLING)
    await fake.realtime.wait_joined(f"realtime:devsync:presence:{PROJECT_BILLING}")
    await asyncio.sleep(4.0)  # past the leave's timeout (3 s in these tests)
    await backend.set_presence(None)
    await asyncio.sleep(4.0)
    assert [e for e in recorder.events[mark:] if isinstance(e, LinkChanged)] == []
    saved = await _saved_by_alice(fake, tmp_path, "AFTER_MOVE")
    await recorder.wait_for(_is_change("configurations", "INSERT", str(saved.id)), after=mark)
    assert [e for e in recorder.events[mark:] if isinstance(e, LinkChanged)] == []
