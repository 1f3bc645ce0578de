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
  when something is wrong, then emits ``Resync``. It keeps doing so until the link is live with
  every wanted channel joined: a re-open that failed leaves nothing half-open, and a socket
  realtime-py (or a presence join) brought back by itself does not make a feed without its
  channels look healthy;
- a channel whose join failed stays registered with the client, which re-joins it every few
  seconds for ever (and hands it back on the next ``channel()`` of its topic, which then cannot
  subscribe): every channel we give up on is removed from the client at once;
- a channel we leave on purpose (a move to another project's presence, a re-open) still reports
  CLOSED when its leave times out: such callbacks change nothing.

The presence channel is not part of the link: a presence channel the server refuses (the user
is no longer a member of the project's team) is dropped and not retried, the views are told to
read who is here again, and the link stays as it is.
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

from devsync_tui.backend.errors import PermissionDenied
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
#: Re-opens asked for by us, not by a fault: the header shows no loss meanwhile.
PLANNED = ("scope changed", "token refresh")


@dataclass
class FeedTiming:
    """Seconds; tests shorten them."""

    subscribe_timeout: float = 10.0
    watchdog_interval: float = 15.0
    ping_timeout: float = 10.0
    #: A channel may be not-joined this long (the library's own rejoin) before we re-create.
    rejoin_grace: float = 20.0


class ChannelRefused(ConnectionError):
    """Realtime refused a join: its authorization (the policy on ``realtime.messages``) does not
    let this user read the channel's topic. Trying again will not help."""


def _is_refusal(error: object) -> bool:
    """Whether a channel error is Realtime Authorization's refusal ("Unauthorized: You do not
    have permissions to read from this Channel topic: …"), not a lost or silent link."""
    return error is not None and "unauthorized" in str(error).lower()


@dataclass
class _Channel:
    key: str
    channel: Any
    #: Set when the first join settled: SUBSCRIBED, or a refusal (``failure`` says which).
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    subscribed: bool = False
    failure: str | None = None
    #: The first join was refused by Realtime Authorization (see ``ChannelRefused``).
    refused: bool = False
    not_joined_since: float | None = None
    #: The project of a presence channel; None for the feed's own channels.
    presence: UUID | None = None
    #: Left or given up on purpose: whatever its callbacks still report changes nothing.
    left: bool = False


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
        #: Counts re-opens: a problem the watchdog found is stale once another one ran.
        self._reopens = 0
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
        for entry in self._all_entries():
            entry.left = True
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

    def _new_channel(self, key: str, params: dict[str, Any] | None = None) -> Any:
        """A new client channel for ``key``. One left over on the client under the same topic
        (a leave still under way) would be handed back by ``channel()``, and a channel
        subscribes only once: it goes first."""
        realtime = self.client.realtime
        stale = realtime.channels.get(f"realtime:{key}")
        if stale is not None:
            with contextlib.suppress(Exception):
                stale.rejoin_timer.reset()
                stale.join_push.destroy()
            realtime._remove_channel(stale)
        if params is None:
            return self.client.channel(key)
        return self.client.channel(key, cast(Any, params))

    def _discard(self, entry: _Channel) -> None:
        """Give a channel up without a word to the server: its callbacks change nothing from
        now on, realtime-py neither re-joins it (its timer, or a pending join's timeout that
        would start the timer) nor routes messages to it."""
        entry.left = True
        channel = entry.channel
        with contextlib.suppress(Exception):
            channel.rejoin_timer.reset()
            channel.join_push.destroy()
        self.client.realtime._remove_channel(channel)

    async def _open(self, key: str, bindings: list[tuple[str, str, str | None]]) -> None:
        channel = self._new_channel(key)
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
            log.info("channel %s: %s %s", entry.key, name, error or "")
            if entry.left:
                return  # left on purpose (a move, a re-open): not news about the link
            if name == "SUBSCRIBED":
                if not entry.subscribed:
                    entry.subscribed = True
                    entry.settled.set()
                elif entry.presence is not None:
                    # Re-joined by the library: pushes may have been missed meanwhile.
                    self.queue.put_nowait(("presence", entry.presence))
                else:
                    # The library re-joined by itself after a reconnect: we missed changes.
                    self._set_state("live")
                    self.queue.put_nowait(("resync", "realtime reconnected"))
            elif name in ("CHANNEL_ERROR", "TIMED_OUT", "CLOSED"):
                if not entry.settled.is_set():  # the first join failed: fail fast
                    entry.failure = f"{name.lower()}: {error or 'no reason given'}"
                    entry.refused = name == "CHANNEL_ERROR" and _is_refusal(error)
                    entry.settled.set()
                elif entry.presence is not None:
                    # Not the link: the feed's own channels report a lost socket. A refusal
                    # (no longer a member) is final; anything else is re-joined by the
                    # library, else by the watchdog.
                    if _is_refusal(error):
                        self._presence_refused(entry)
                elif entry.subscribed:
                    self._set_state("reconnecting", REALTIME_LOST)

        if self._token:
            entry.channel.join_push.update_payload({"access_token": self._token})
        try:
            # subscribe() has returned before the server's reply (#1209): wait for SUBSCRIBED.
            await asyncio.wait_for(entry.channel.subscribe(on_state), self.timing.subscribe_timeout)
            await asyncio.wait_for(entry.settled.wait(), self.timing.subscribe_timeout)
        except BaseException as exc:
            self._discard(entry)  # else realtime-py keeps re-joining it behind our back
            if isinstance(exc, TimeoutError):
                raise ConnectionError(f"realtime channel {entry.key} did not join") from None
            raise
        if not entry.subscribed:
            self._discard(entry)
            message = f"realtime channel {entry.key} refused: {entry.failure}"
            raise ChannelRefused(message) if entry.refused else ConnectionError(message)

    async def _reopen(self, reason: str) -> None:
        """Drop the socket and every channel, connect again, join again, then Resync. When that
        fails, nothing is left half-open and the state is offline: the watchdog tries again."""
        if self._closed:
            return
        self._reopens += 1
        if self._state != "offline":  # while offline, retries do not flicker the header
            self._set_state("reconnecting", "" if reason in PLANNED else REALTIME_LOST)
        await self._drop_all()
        try:
            await self._open_all()
        except Exception as exc:
            log.info("realtime re-open failed: %s", exc)
            await self._drop_all()
            self._set_state("offline", REALTIME_DOWN)
            return
        if self._presence_project is not None:
            await self._rejoin_presence(self._presence_project)
        self.queue.put_nowait(("resync", reason))

    async def _drop_all(self) -> None:
        for entry in self._all_entries():
            self._discard(entry)
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
        """Until closed: re-open whenever ``check`` finds a problem (again and again while it
        fails), and join the presence channel again when it went missing."""
        while not self._closed:
            await asyncio.sleep(self.timing.watchdog_interval)
            try:
                if self._lock.locked():
                    continue  # a re-open or a move is under way: look again next round
                reopens = self._reopens
                problem = await self.check()
                async with self._lock:
                    if self._closed or reopens != self._reopens:
                        continue  # another re-open ran meanwhile: what was found is stale
                    if problem:
                        await self._reopen(problem)
                    elif self._presence_missing():
                        assert self._presence_project is not None
                        await self._rejoin_presence(self._presence_project)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the watchdog must outlive any single failure
                log.warning("realtime watchdog: %s", exc)

    async def check(self) -> str | None:
        """What is wrong with the feed right now (None: healthy: live, the socket answering,
        every wanted channel joined or being re-joined by the library within ``rejoin_grace``).
        """
        if self._state == "offline":
            # A re-open failed (or never ran): whatever the socket does now — realtime-py or a
            # presence join may have connected it again by itself — our channels are not there.
            return "realtime offline"
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
        missing = [key for key, _ in self._specs() if key not in self._channels]
        if missing:
            return f"channel {missing[0]} missing"
        now = time.monotonic()
        rejoining = False
        for entry in list(self._channels.values()):
            if entry.channel.is_joined:
                entry.not_joined_since = None
                continue
            if realtime.channels.get(entry.channel.topic) is not entry.channel:
                return f"channel {entry.key} dropped"
            if entry.not_joined_since is None:
                entry.not_joined_since = now
            elif now - entry.not_joined_since >= self.timing.rejoin_grace:
                return f"channel {entry.key} not joined"
            rejoining = True
        if not rejoining and self._state != "live":
            return f"realtime {self._state}"  # every channel joined, yet never said live
        return None

    def _presence_missing(self) -> bool:
        """Whether the wanted presence channel is not there, or gone from the client, or not
        re-joined within ``rejoin_grace``."""
        if self._presence_project is None or self._state != "live":
            return False
        entry = self._presence
        if entry is None:
            return True
        channel = entry.channel
        if channel.is_joined:
            entry.not_joined_since = None
            return False
        if self.client.realtime.channels.get(channel.topic) is not channel:
            return True
        now = time.monotonic()
        if entry.not_joined_since is None:
            entry.not_joined_since = now
            return False
        return now - entry.not_joined_since >= self.timing.rejoin_grace

    # -- presence ------------------------------------------------------------------------------
    async def watch_presence(self, project_id: UUID | None) -> None:
        """Listen on the project's private presence channel (None: on none). Who may join is
        the database's decision (members of the project's team): a refusal is PermissionDenied
        and is not retried. What arrives is a push with the project id only, and the views read
        who is here through the API. While the feed is offline the wish is kept: the
        watchdog's re-open joins it with the rest."""
        if project_id == self._presence_project and self._presence is not None:
            return
        async with self._lock:
            old, self._presence = self._presence, None
            if old is not None:
                await self._leave(old)
            self._presence_project = project_id
            if project_id is None or self._state == "offline":
                return
            try:
                await self._join_presence(project_id)
            except ChannelRefused:
                self._presence_project = None
                raise PermissionDenied(
                    "Only members of the project's team may see who is on it."
                ) from None

    async def _leave(self, entry: _Channel) -> None:
        """Leave a channel on purpose: whatever it reports afterwards (its leave's reply is
        never routed back, so a CLOSED comes when the leave times out) is not a lost link."""
        entry.left = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.client.realtime.remove_channel(entry.channel), self.timing.ping_timeout
            )
        self._discard(entry)  # a leave that could not be sent: at least never re-joined

    async def _rejoin_presence(self, project_id: UUID) -> None:
        """Join the wanted presence channel again (after a re-open, or when it went missing);
        a refusal ends the wish, anything else is tried again by the watchdog."""
        if self._presence is not None:  # one that did not come back: given up
            self._discard(self._presence)
            self._presence = None
        try:
            await self._join_presence(project_id)
        except ChannelRefused as exc:  # no longer a member: the feed itself stays as it is
            log.info("presence channel refused: %s", exc)
            if self._presence_project == project_id:
                self._presence_project = None
            self.queue.put_nowait(("presence", project_id))  # the views read who is here
        except Exception as exc:
            log.info("presence channel not joined yet: %s", exc)

    def _presence_refused(self, entry: _Channel) -> None:
        """A joined presence channel the library re-joined was refused (no longer a member):
        drop it rather than let realtime-py re-join it every few seconds for ever."""
        log.info("presence channel %s refused on a re-join; dropped", entry.key)
        self._discard(entry)
        if self._presence is entry:
            self._presence = None
        if entry.presence is not None:
            if self._presence_project == entry.presence:
                self._presence_project = None
            self.queue.put_nowait(("presence", entry.presence))

    async def _join_presence(self, project_id: UUID) -> None:
        key = f"{PRESENCE_TOPIC}{project_id}"
        channel = self._new_channel(
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
        entry = _Channel(key=key, channel=channel, presence=project_id)
        await self._subscribe(entry)
        self._presence = entry
