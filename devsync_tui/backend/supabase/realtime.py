"""The Supabase change feed: ``postgres_changes`` channels per team and per project, a watchdog,
and presence pushes on a private per-project channel.

Realtime callbacks are synchronous and run inside the websocket listen task, so they only put a
tuple into an ``asyncio.Queue``; ``SupabaseFeed.events()`` turns the queue into FeedEvents,
re-reading each changed row through PostgREST so that RLS decides what the user sees.

Known supabase-py problems handled here:
- the socket joins with the anon key unless ``realtime.set_auth`` ran first (we await it before
  every subscribe, and on every token refresh also update each channel's join payload — #1655);
- ``subscribe()`` may return before the server replied (#1209): we wait on an ``asyncio.Event``
  set by the SUBSCRIBED callback, with a timeout;
- after a reconnect a channel can stay CLOSED (#1311), and a socket can go silent (#1034): a
  watchdog pings the socket and checks every channel, and re-creates the socket and channels
  when something is wrong, then emits ``Resync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from devsync_tui.backend.live import FeedEvent
from devsync_tui.backend.supabase.events import FeedFanout, Reread

if TYPE_CHECKING:
    from supabase import AsyncClient

log = logging.getLogger("devsync.supabase.realtime")

#: Tables with a ``team_id`` column, filtered ``team_id=eq.<id>`` on the team channel.
TEAM_TABLES = ("team_members", "projects")
#: Tables with a ``project_id`` column, filtered ``project_id=eq.<id>`` on the project channel.
PROJECT_TABLES = (
    "env_templates",
    "environments",
    "configurations",
    "dependencies",
    "machine_config_states",
)
#: The private channel of a project's presence (+ project id), and its broadcast event: sent by
#: the database (``realtime.send`` in migration …150000_presence_places), never by a client.
PRESENCE_TOPIC = "devsync:presence:"
PRESENCE_EVENT = "presence"
#: What the header says while Realtime is away (the feed keeps trying by itself).
REALTIME_LOST = "Realtime connection lost; reconnecting — changes are not live"
REALTIME_DOWN = "Supabase Realtime cannot be reached; retrying — check your network"


@dataclass
class FeedTiming:
    """Seconds; tests shorten them."""

    subscribe_timeout: float = 10.0
    watchdog_interval: float = 15.0
    ping_timeout: float = 10.0
    #: A channel may be not-joined this long (the library's own rejoin) before we re-create.
    rejoin_grace: float = 20.0


@dataclass
class _Channel:
    key: str
    channel: Any
    #: Set when the first join settled: SUBSCRIBED, or a refusal (``failure`` says which).
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    subscribed: bool = False
    failure: str | None = None
    not_joined_since: float | None = None


class SupabaseFeed:
    """Owns the realtime channels of one signed-in client."""

    def __init__(
        self,
        client: AsyncClient,
        user_id: UUID,
        reread: Reread,
        timing: FeedTiming | None = None,
        on_scope_change: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.reread = reread
        self.timing = timing or FeedTiming()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._channels: dict[str, _Channel] = {}
        self._teams: set[UUID] = set()
        #: project id -> team id of every project I can see.
        self._projects: dict[UUID, UUID] = {}
        self._token: str | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._state = "offline"
        self._closed = False
        self._presence: _Channel | None = None
        self._presence_project: UUID | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.fanout = FeedFanout(self.queue, reread, self._projects_team, on_scope_change)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, token: str, teams: Iterable[UUID], projects: dict[UUID, UUID]) -> None:
        """Authorize the socket, join every channel, start the watchdog. ``projects`` maps
        each visible project to its team."""
        self._token = token
        self._teams, self._projects = set(teams), dict(projects)
        self.fanout.start()
        async with self._lock:
            await self._open_all()
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="devsync-realtime-watchdog")

    def _projects_team(self, project: UUID) -> UUID | None:
        return self._projects.get(project)

    def events(self) -> AsyncIterator[FeedEvent]:
        """A new consumer's stream of FeedEvents."""
        return self.fanout.events()

    async def close(self) -> None:
        self._closed = True
        await self.fanout.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watchdog
            self._watchdog = None
        for task in list(self._tasks):
            task.cancel()
        # Leave politely, but never wait long on a server that stopped answering.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.client.realtime.remove_all_channels(), self.timing.ping_timeout
            )
        self._channels.clear()
        self._presence = None
        await self._hard_close()

    async def set_scopes(self, teams: Iterable[UUID], projects: dict[UUID, UUID]) -> None:
        """Re-create channels when the set of teams/projects I can see changed."""
        teams = set(teams)
        if teams == self._teams and projects == self._projects:
            return
        self._teams, self._projects = teams, projects
        async with self._lock:
            await self._reopen("scope changed")

    def on_token(self, token: str) -> None:
        """Auth event callback (sync): a refreshed token must reach realtime and every channel's
        join payload (#1655); views re-read afterwards."""
        if token == self._token:
            return
        self._token = token
        self._spawn(self._apply_token(token))

    async def _apply_token(self, token: str) -> None:
        try:
            await self.client.realtime.set_auth(token)
            for entry in self._all_entries():
                entry.channel.join_push.update_payload({"access_token": token})
        except Exception as exc:
            log.info("realtime set_auth failed (%s); re-creating channels", type(exc).__name__)
            async with self._lock:
                await self._reopen("token refresh")
            return
        self.queue.put_nowait(("resync", "token refreshed"))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- channels -----------------------------------------------------------------------------
    def _all_entries(self) -> list[_Channel]:
        entries = list(self._channels.values())
        if self._presence is not None:
            entries.append(self._presence)
        return entries

    def _specs(self) -> list[tuple[str, list[tuple[str, str, str | None]]]]:
        """(channel key, [(event, table, filter)]) for every channel we want."""
        # My own memberships: being added to or removed from a team changes my channels.
        # DELETE events are filtered too: Realtime evaluates filters on the old row when the
        # table has REPLICA IDENTITY FULL (migration ..._realtime_replica_identity.sql) and
        # sends only its primary key; outsiders never get them.
        personal: list[tuple[str, str, str | None]] = [
            ("*", "team_members", f"user_id=eq.{self.user_id}"),
            ("*", "profiles", None),
            ("INSERT", "health_checks", None),
        ]
        specs = [(f"devsync:user:{self.user_id}", personal)]
        for team in sorted(self._teams, key=str):
            bindings: list[tuple[str, str, str | None]] = [("*", "teams", f"id=eq.{team}")]
            bindings += [("*", t, f"team_id=eq.{team}") for t in TEAM_TABLES]
            specs.append((f"devsync:team:{team}", bindings))
        for project in sorted(self._projects.keys(), key=str):
            specs.append(
                (
                    f"devsync:project:{project}",
                    [("*", t, f"project_id=eq.{project}") for t in PROJECT_TABLES],
                )
            )
        return specs

    async def _open_all(self) -> None:
        if self._token:
            # Before any join: otherwise the socket joins with the anon key and RLS hides all.
            await self.client.realtime.set_auth(self._token)
        for key, bindings in self._specs():
            await self._open(key, bindings)
        self._set_state("live")

    async def _open(self, key: str, bindings: list[tuple[str, str, str | None]]) -> None:
        channel = self.client.channel(key)
        entry = _Channel(key=key, channel=channel)
        for event, table, flt in bindings:
            channel.on_postgres_changes(
                cast(Any, event),
                callback=self._callback(key),
                table=table,
                schema="public",
                filter=flt,
            )
        await self._subscribe(entry)
        self._channels[key] = entry

    def _callback(self, key: str) -> Callable[[Any], None]:
        # The channel's own scope fills in what a DELETE (primary key only) does not carry.
        kind, _, ident = key.rpartition(":")
        scope: dict[str, str] = {}
        if kind.endswith(":team"):
            scope["team_id"] = ident
        elif kind.endswith(":project"):
            scope["project_id"] = ident
            team = self._projects.get(UUID(ident))
            if team is not None:
                scope["team_id"] = str(team)

        def on_change(payload: Any) -> None:  # sync, in the listen task: never block here
            self.queue.put_nowait(("change", (payload, scope)))

        return on_change

    async def _subscribe(self, entry: _Channel) -> None:
        def on_state(state: Any, error: Exception | None) -> None:
            name = getattr(state, "value", str(state))
            if name == "SUBSCRIBED":
                if not entry.subscribed:
                    entry.subscribed = True
                    entry.settled.set()
                else:
                    # The library re-joined by itself after a reconnect: we missed changes.
                    self._set_state("live")
                    self.queue.put_nowait(("resync", "realtime reconnected"))
            elif name in ("CHANNEL_ERROR", "TIMED_OUT", "CLOSED"):
                if entry.subscribed:
                    self._set_state("reconnecting", REALTIME_LOST)
                elif not entry.settled.is_set():  # the first join failed: fail fast
                    entry.failure = f"{name.lower()}: {error or 'no reason given'}"
                    entry.settled.set()
                log.info("channel %s: %s %s", entry.key, name, error or "")

        if self._token:
            entry.channel.join_push.update_payload({"access_token": self._token})
        try:
            # subscribe() has returned before the server's reply (#1209): wait for SUBSCRIBED.
            await asyncio.wait_for(entry.channel.subscribe(on_state), self.timing.subscribe_timeout)
            await asyncio.wait_for(entry.settled.wait(), self.timing.subscribe_timeout)
        except TimeoutError:
            raise ConnectionError(f"realtime channel {entry.key} did not join") from None
        if not entry.subscribed:
            raise ConnectionError(f"realtime channel {entry.key} refused: {entry.failure}")

    async def _reopen(self, reason: str) -> None:
        """Drop the socket and every channel, connect again, join again, then Resync."""
        if self._closed:
            return
        planned = reason in ("scope changed", "token refresh")
        self._set_state("reconnecting", "" if planned else REALTIME_LOST)
        presence_project = self._presence_project
        await self._drop_all()
        try:
            await self._open_all()
        except Exception as exc:
            log.info("realtime re-open failed: %s", exc)
            self._set_state("offline", REALTIME_DOWN)
            return
        if presence_project is not None:
            try:
                await self._join_presence(presence_project)
            except Exception as exc:  # e.g. no longer a member: the feed itself stays live
                log.info("presence channel not joined again: %s", exc)
                self._presence_project = None
        self.queue.put_nowait(("resync", reason))

    async def _drop_all(self) -> None:
        realtime = self.client.realtime
        for entry in self._all_entries():
            with contextlib.suppress(Exception):
                entry.channel.rejoin_timer.reset()
                entry.channel.join_push.destroy()
            realtime._remove_channel(entry.channel)
        self._channels.clear()
        self._presence = None
        await self._hard_close()

    async def _hard_close(self) -> None:
        """Close the socket; a peer that stopped answering must not hold us for the
        websocket's 10 s closing handshake, so after a short wait the connection is aborted."""
        realtime = self.client.realtime
        ws = realtime._ws_connection
        tasks = [realtime._listen_task, realtime._heartbeat_task]
        try:
            await asyncio.wait_for(realtime.close(), self.timing.ping_timeout)
        except Exception as exc:  # TimeoutError, or a socket already broken
            log.info("realtime close: %s; aborting the connection", type(exc).__name__)
            realtime._ws_connection = None
            if ws is not None:
                with contextlib.suppress(Exception):
                    ws.transport.abort()
            for task in tasks:
                if task is not None and task is not asyncio.current_task():
                    task.cancel()
            realtime._listen_task = realtime._heartbeat_task = None

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self._state:
            self._state = state
            self.queue.put_nowait(("link", (state, detail)))

    # -- watchdog -----------------------------------------------------------------------------
    async def _watch(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.timing.watchdog_interval)
            try:
                problem = await self.check()
                if problem:
                    async with self._lock:
                        await self._reopen(problem)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the watchdog must outlive any single failure
                log.warning("realtime watchdog: %s", exc)

    async def check(self) -> str | None:
        """What is wrong with the feed right now (None: healthy)."""
        realtime = self.client.realtime
        ws = realtime._ws_connection
        if ws is None:
            return "realtime disconnected"
        listen = realtime._listen_task
        if listen is None or listen.done():
            return "realtime listener stopped"
        try:
            pong = await ws.ping()
            await asyncio.wait_for(pong, self.timing.ping_timeout)
        except Exception:
            return "realtime silent"
        now = time.monotonic()
        for entry in self._all_entries():
            if entry.channel.is_joined:
                entry.not_joined_since = None
                continue
            if realtime.channels.get(entry.channel.topic) is not entry.channel:
                return f"channel {entry.key} dropped"
            if entry.not_joined_since is None:
                entry.not_joined_since = now
            elif now - entry.not_joined_since >= self.timing.rejoin_grace:
                return f"channel {entry.key} not joined"
        return None

    # -- presence ------------------------------------------------------------------------------
    async def watch_presence(self, project_id: UUID | None) -> None:
        """Listen on the project's private presence channel (None: on none). Who may join is
        the database's decision (members of the project's team); what arrives is a push with
        the project id only, and the views read who is here through the API."""
        if project_id == self._presence_project and self._presence is not None:
            return
        async with self._lock:
            if self._presence is not None:
                old = self._presence
                self._presence = None
                with contextlib.suppress(Exception):
                    await self.client.remove_channel(old.channel)
            self._presence_project = project_id
            if project_id is not None:
                await self._join_presence(project_id)

    async def _join_presence(self, project_id: UUID) -> None:
        key = f"{PRESENCE_TOPIC}{project_id}"
        channel = self.client.channel(
            key,
            {
                "config": {
                    "broadcast": {"ack": False, "self": False},
                    "presence": {"key": "", "enabled": False},
                    "private": True,
                }
            },
        )

        def on_push(_payload: Any) -> None:  # sync, in the listen task: never block here
            self.queue.put_nowait(("presence", project_id))

        channel.on_broadcast(PRESENCE_EVENT, on_push)
        entry = _Channel(key=key, channel=channel)
        await self._subscribe(entry)
        self._presence = entry
