"""The local transport's change feed: ``LISTEN devsync_changes`` on one dedicated connection.

The notify payload carries ids only (docs/DATABASE.md). Each row is re-read as the user, under
RLS, before it becomes a ``ChangeEvent``; rows the user cannot see are dropped. DELETEs cannot be
re-read, so they pass when they belong to a team the user is (or, for a membership change, just
was) in. Notifications that arrive together are re-read together, one query per table.

Connection states are reported as ``LinkChanged``; after any gap (lost connection, failed
re-read) the feed reconnects with exponential backoff (capped) and yields ``Resync`` so views
re-read what they show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row

from devsync_tui.backend.errors import DevSyncError
from devsync_tui.backend.live import (
    PRESENCE_TABLE,
    ChangeEvent,
    FeedEvent,
    LinkChanged,
    Resync,
)
from devsync_tui.backend.postgres.pool import SESSION_IMPERSONATE, TCP_LIVENESS, watchdog
from devsync_tui.backend.rows import row_to_model

if TYPE_CHECKING:
    from devsync_tui.backend.postgres.pool import PgCore

log = logging.getLogger("devsync.backend.feed")

CHANNEL = "devsync_changes"
#: A listener registers after LISTEN, and unregisters when it stops (a vanished one is dropped
#: by the next registration): the notify triggers notify only while one is registered.
REGISTER = "select private.register_change_listener()"
UNREGISTER = "select private.unregister_change_listener()"

_UUID_TABLES = (
    "profiles",
    "teams",
    "projects",
    "env_templates",
    "environments",
    "configurations",
    "dependencies",
    "health_checks",
)
_REREAD: dict[str, str] = {
    t: f"select * from public.{t} where id = any(%s::uuid[])" for t in _UUID_TABLES
}
_REREAD["team_members"] = (
    "select tm.*, p.username, p.full_name from public.team_members tm "
    "left join public.profiles p on p.id = tm.user_id "
    "where (tm.team_id, tm.user_id) in (select * from unnest(%s::uuid[], %s::uuid[]))"
)
_REREAD["configuration_history"] = (
    "select h.*, p.username as changed_by_username from public.configuration_history h "
    "left join public.profiles p on p.id = h.changed_by where h.id = any(%s::bigint[])"
)
_REREAD["audit_log"] = (
    "select a.*, p.username as actor_username from public.audit_log a "
    "left join public.profiles p on p.id = a.actor_id where a.id = any(%s::bigint[])"
)
_MY_TEAMS = "select team_id from public.team_members where user_id = %s"


@dataclass(frozen=True, slots=True)
class Notice:
    """One decoded notification payload."""

    table: str
    op: str
    id: str | None
    team_id: UUID | None
    project_id: UUID | None
    environment_id: UUID | None


class _Lost:
    """Queue sentinel: the LISTEN connection failed."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Stop:
    """Queue sentinel: the feed was stopped (the backend closed)."""


class _LinkLost(Exception):
    """The LISTEN connection failed (raised inside the feed only)."""


def decode(payload: str) -> Notice | None:
    """The notice in a payload, or None when it is not one of ours."""
    try:
        data = json.loads(payload)
        table, op = str(data["table"]), str(data["op"]).upper()
        if op not in ("INSERT", "UPDATE", "DELETE"):
            return None
        raw_id = data.get("id")
        return Notice(
            table=table,
            op=op,
            id=None if raw_id is None else str(raw_id),
            team_id=_opt_uuid(data.get("team_id")),
            project_id=_opt_uuid(data.get("project_id")),
            environment_id=_opt_uuid(data.get("environment_id")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("ignoring a malformed change notification")
        return None


def _opt_uuid(value: Any) -> UUID | None:
    return None if value in (None, "") else UUID(str(value))


class ChangeFeed:
    """One subscriber's feed. ``events()`` is the async iterator ``Backend.changes`` returns."""

    def __init__(
        self,
        core: PgCore,
        conninfo: str,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        liveness_interval: float = 15.0,
        ping_timeout: float = 5.0,
        diagnose: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self._core = core
        #: Says why the link is down and what to do (it may start the embedded server).
        self._diagnose = diagnose
        self._conninfo = conninfo
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._liveness_interval = liveness_interval
        self._ping_timeout = ping_timeout
        self._reread_timeout = 15.0
        self._team_ids: set[UUID] = set()
        #: Teams I left while this feed ran (only their own DELETEs still reach me).
        self._left: set[UUID] = set()
        self._stopping = asyncio.Event()
        self._queue: asyncio.Queue[str | _Lost | _Stop] | None = None

    def stop(self) -> None:
        """End the feed: a consumer waiting for the next event gets the end of the stream."""
        self._stopping.set()
        if self._queue is not None:
            self._queue.put_nowait(_Stop())

    async def events(self) -> AsyncIterator[FeedEvent]:
        backoff = self._initial_backoff
        ever_live = False
        link_down_reported = False
        last_detail = ""
        while not self._stopping.is_set():
            conn: AsyncConnection[Any] | None = None
            registered: AsyncConnection[Any] | None = None
            rereader: AsyncConnection[Any] | None = None
            reader: asyncio.Task[None] | None = None
            try:
                conninfo = make_conninfo(self._conninfo, **TCP_LIVENESS)
                conn = await AsyncConnection.connect(conninfo, autocommit=True, connect_timeout=5)
                await conn.execute(f"LISTEN {CHANNEL}")
                # The notify triggers notify only while a listener is registered; this returns
                # once every write that did not notify us has committed (migration
                # 20261207230000), so what is read after it holds them.
                await conn.execute(REGISTER)
                registered = conn
                # Re-reads get their own connection, impersonating for the whole session (it
                # serves this user only): each re-read is then just its SELECTs, pipelined.
                rereader = await AsyncConnection.connect(
                    conninfo, autocommit=True, connect_timeout=5
                )
                await rereader.execute(SESSION_IMPERSONATE, (self._core.claims,))
                # Subscribed first, then read state: nothing committed after this is missed.
                self._team_ids = await self._load_team_ids(rereader)
                self._core.set_link_down(False)
                if ever_live:
                    await self._core.refresh_pool()
                queue: asyncio.Queue[str | _Lost | _Stop] = asyncio.Queue()
                self._queue = queue
                if self._stopping.is_set():
                    return
                reader = asyncio.create_task(self._read(conn, queue))
                yield LinkChanged("live")
                if ever_live:
                    yield Resync("reconnected")
                ever_live, link_down_reported = True, False
                backoff = self._initial_backoff
                while True:
                    batch = [await queue.get()]
                    while not queue.empty():
                        batch.append(queue.get_nowait())
                    if any(isinstance(item, _Stop) for item in batch):
                        return
                    lost = next((item for item in batch if isinstance(item, _Lost)), None)
                    payloads = [item for item in batch if isinstance(item, str)]
                    # Bounded: a re-read stuck on a silent link must not freeze the feed.
                    with watchdog(rereader, self._reread_timeout):
                        resolved = await self._resolve(rereader, payloads)
                    for event in resolved:
                        yield event
                    if lost is not None:
                        log.info("LISTEN connection lost: %s", type(lost.exc).__name__)
                        raise _LinkLost
            except (psycopg.Error, OSError, DevSyncError, _LinkLost) as exc:
                log.info("change feed interrupted: %s", type(exc).__name__)
                self._core.set_link_down(True)
                detail = "connection to the database lost"
                if self._diagnose is not None:
                    try:
                        detail = await asyncio.wait_for(self._diagnose(), 30)
                    except Exception as diag_exc:  # a diagnosis never stops the feed
                        log.info("link diagnosis failed: %s", type(diag_exc).__name__)
                if not link_down_reported or detail != last_detail:
                    link_down_reported, last_detail = True, detail
                    yield LinkChanged("reconnecting", detail)
            finally:
                self._queue = None
                if reader is not None:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
                if registered is not None:
                    await _unregister(registered)
                for opened in (conn, rereader):
                    if opened is not None:
                        await _close_quietly(opened)
            # Back off, but wake up at once when stopped.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _read(
        self, conn: AsyncConnection[Any], queue: asyncio.Queue[str | _Lost | _Stop]
    ) -> None:
        """Move notifications into the queue; check liveness when the channel is quiet."""
        try:
            while True:
                async for note in conn.notifies(timeout=self._liveness_interval):
                    queue.put_nowait(note.payload)
                # A quiet channel may be a dead link (no RST on a cut network): ask, briefly.
                await self._ping(conn)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # any failure ends this connection's life
            queue.put_nowait(_Lost(exc))

    async def _ping(self, conn: AsyncConnection[Any]) -> None:
        """``select 1``; a link that does not answer within ``ping_timeout`` is severed, which
        fails the ping at once."""
        with watchdog(conn, self._ping_timeout):
            await conn.execute("select 1")

    async def _load_team_ids(self, conn: AsyncConnection[Any]) -> set[UUID]:
        """The teams I belong to, read as me on the feed's own connection."""
        cur = await conn.execute(_MY_TEAMS, (self._core.uid,))
        return {row[0] for row in await cur.fetchall()}

    async def _resolve(self, conn: AsyncConnection[Any], payloads: list[str]) -> list[FeedEvent]:
        notices = [n for n in map(decode, payloads) if n is not None]
        if not notices:
            return []
        scope = set(self._team_ids)
        if any(n.table == "team_members" for n in notices):
            # Membership changes take effect at once; a team just left still scopes this
            # batch's DELETEs, and its own teams/team_members DELETEs later on (they may come
            # in the next batch), so the views learn that it is gone.
            before = self._team_ids
            self._team_ids = await self._load_team_ids(conn)
            self._left |= before - self._team_ids
            self._left -= self._team_ids
            scope |= self._team_ids
        wanted: dict[str, set[str]] = defaultdict(set)
        for n in notices:
            if n.op != "DELETE" and n.id is not None and n.table in _REREAD:
                wanted[n.table].add(n.id)
        rows = await self._reread(conn, wanted) if wanted else {}
        events: list[FeedEvent] = []
        for n in notices:
            event = self._event(n, rows, scope)
            if event is not None:
                events.append(event)
        return events

    def _event(
        self, n: Notice, rows: Mapping[tuple[str, str], Any], scope: set[UUID]
    ) -> ChangeEvent | None:
        in_scope = n.table == "profiles" or (n.team_id is not None and n.team_id in scope)
        if n.op == "DELETE" and n.table in ("teams", "team_members") and n.team_id in self._left:
            in_scope = True
        if n.op == "DELETE" or n.id is None or n.table == PRESENCE_TABLE:
            # Presence pushes carry ids only: the views read who is here again.
            # Not re-readable (gone, or a statement-level batch): pass on within my teams.
            if not in_scope:
                return None
            row = None
        else:
            row = rows.get((n.table, n.id))
            if row is None:
                return None  # not visible to me (or already gone: its DELETE follows)
        return ChangeEvent(
            table=n.table,
            op=n.op,  # type: ignore[arg-type]
            id=n.id or "",
            row=row,
            team_id=n.team_id,
            project_id=n.project_id,
            environment_id=n.environment_id,
        )

    async def _reread(
        self, conn: AsyncConnection[Any], wanted: Mapping[str, set[str]]
    ) -> dict[tuple[str, str], Any]:
        """Re-read the rows as the user (RLS) on the feed's own connection: one statement per
        table, pipelined so they travel together."""
        found: dict[tuple[str, str], Any] = {}
        async with conn.pipeline():
            cursors: list[tuple[str, AsyncCursor[DictRow]]] = []
            for table, ids in wanted.items():
                params = _params(table, ids)
                if params is None:
                    continue
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(_REREAD[table], params)
                cursors.append((table, cur))
            for table, cur in cursors:
                for r in await cur.fetchall():
                    if table == "team_members":
                        key = f"{r['team_id']}:{r['user_id']}"
                    else:
                        key = str(r["id"])
                    try:
                        found[(table, key)] = row_to_model(table, r)
                    except (ValueError, KeyError, TypeError):
                        log.warning("dropping a %s change: its row does not map", table)
        return found


def _params(table: str, ids: set[str]) -> tuple[Any, ...] | None:
    try:
        if table == "team_members":
            pairs = [tuple(UUID(part) for part in i.split(":", 1)) for i in ids]
            return ([p[0] for p in pairs], [p[1] for p in pairs])
        if table in ("configuration_history", "audit_log"):
            return ([int(i) for i in ids],)
        return ([UUID(i) for i in ids],)
    except (ValueError, IndexError):
        log.warning("ignoring change notifications with malformed ids for %s", table)
        return None


async def _unregister(conn: AsyncConnection[Any]) -> None:
    """Say this listener stops, so writes stop notifying when no one else listens. On a link
    that is gone this fails at once or is severed; the next registration then drops the row."""
    with contextlib.suppress(psycopg.Error, OSError), watchdog(conn, 2.0):
        await conn.execute(UNREGISTER)


async def _close_quietly(conn: AsyncConnection[Any]) -> None:
    with contextlib.suppress(psycopg.Error, OSError):
        await conn.close()
