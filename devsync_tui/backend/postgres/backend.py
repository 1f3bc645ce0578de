"""``PostgresBackend``: the direct PostgreSQL transport (embedded database or a server you name).

psycopg 3 async with a small pool; every unit of work is a transaction impersonating the user
the way PostgREST does (see ``pool.py``), so RLS and the RPCs of docs/DATABASE.md decide. Reads
are retried while the database is away; writes never are. The change feed is ``feed.ChangeFeed``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.backend.live import FeedEvent, PresenceInfo
from devsync_tui.backend.opening import Opening, Primed, opening_from_document
from devsync_tui.backend.postgres.config_states import PgConfigStates
from devsync_tui.backend.postgres.data import PgData
from devsync_tui.backend.postgres.feed import ChangeFeed
from devsync_tui.backend.postgres.tokens import PgTokens
from devsync_tui.backend.presence import announce_args, new_client_id, presence_from_rows
from devsync_tui.backend.refusals import not_done
from devsync_tui.backend.rows import (
    environment_from_row,
    member_from_row,
    row_to_model,
    team_from_row,
)
from devsync_tui.core.models import Environment, Identity, Role, Team, TeamMember

log = logging.getLogger("devsync.backend.postgres")

_MEMBER_JOIN = (
    "select tm.*, p.username, p.full_name from {source} tm "
    "left join public.profiles p on p.id = tm.user_id"
)
#: How long ``close`` may spend taking my presence down (a dead link must not hold up quitting).
_PRESENCE_CLEAR_SECONDS = 2.0
#: How many times a stopped embedded database is started again before the user is asked to.
_START_ATTEMPTS = 3


def _param(value: Any) -> Any:
    """A column value as psycopg sends it: dicts and lists are JSON (jsonb columns)."""
    return Jsonb(value) if isinstance(value, dict | list) else value


def _returned(row: DictRow | None, rpc: str, *, key: str = "id") -> DictRow:
    """The row a write function returned; a function returning no row (or a null composite,
    all columns NULL) stored nothing."""
    if row is None or row[key] is None:
        raise not_done(rpc)
    return row


def label_for(conninfo: str, *, embedded: bool) -> str:
    """``LOCAL`` for the embedded database, else the host named in the connection string."""
    if embedded:
        return "LOCAL"
    try:
        if "://" in conninfo:
            host = urlsplit(conninfo).hostname
        else:
            host = conninfo_to_dict(conninfo).get("host")  # type: ignore[assignment]
    except Exception:  # a label is cosmetic: never fail on it
        host = None
    if not host or str(host).startswith("/"):
        return "LOCAL"
    return str(host)


class PostgresBackend(PgData, PgTokens, PgConfigStates, Backend):
    """The Backend over a direct PostgreSQL connection, acting as one of its users."""

    kind = "local"

    def __init__(
        self,
        conninfo: str,
        username: str | None = None,
        *,
        embedded: bool = True,
        feed_max_backoff: float = 5.0,
        feed_liveness_interval: float = 15.0,
        **pool_options: Any,
    ) -> None:
        super().__init__(conninfo, username, **pool_options)
        self.label = label_for(conninfo, embedded=embedded)
        self._embedded = embedded
        #: Starting the stopped embedded database again (True once it runs, False: failed).
        self._restart: asyncio.Task[bool] | None = None
        self._feed_max_backoff = feed_max_backoff
        #: A quiet change feed pings the database after this many seconds (dead-link check).
        self._feed_liveness_interval = feed_liveness_interval
        self._feeds: weakref.WeakSet[ChangeFeed] = weakref.WeakSet()
        #: Whether this backend may have left a presence row behind (``close`` removes it).
        self._announced = False
        self._client_id = new_client_id()

    # -- lifecycle and identity -----------------------------------------------------------
    async def connect(self) -> None:
        await self._open()

    async def close(self) -> None:
        """Close the pool and end every change feed of this backend (their streams finish).
        Presence this backend announced is taken down first, best effort."""
        for feed in list(self._feeds):
            feed.stop()
        await self._clear_presence()
        await self._close()

    async def whoami(self) -> Identity:
        return self.identity

    async def open_workspace(
        self, project: str | None = None, environment: str | None = None
    ) -> Opening:
        row = await self.fetch_one(
            "select public.open_workspace(%s, %s) as doc", (project, environment)
        )
        if row is None or not isinstance(row["doc"], dict):
            raise DevSyncError("open_workspace answered with no document.")
        opening = opening_from_document(row["doc"], self.identity.email)
        self.primed = Primed(opening.answers)
        return opening

    async def my_roles(self) -> dict[UUID, Role]:
        rows = await self.fetch_all(
            "select team_id, role from public.team_members where user_id = %s", (self.uid,)
        )
        return {r["team_id"]: Role(r["role"]) for r in rows}

    async def ping(self) -> float:
        return await self._ping()

    # -- rows of a table (Transport) ----------------------------------------------------------
    async def _row(self, table: str, key: UUID | int) -> Any | None:
        query = sql.SQL("select * from public.{} where id = %s").format(sql.Identifier(table))
        row = await self.fetch_one(query.as_string(), (key,))
        return None if row is None else row_to_model(table, row)

    async def _rows(self, table: str, match: Mapping[str, Any]) -> list[Any]:
        conditions = [
            sql.SQL("{} is null" if value is None else "{} = %s").format(sql.Identifier(column))
            for column, value in match.items()
        ]
        query = sql.SQL("select * from public.{}").format(sql.Identifier(table))
        if conditions:
            query += sql.SQL(" where ") + sql.SQL(" and ").join(conditions)
        params = [value for value in match.values() if value is not None]
        return [row_to_model(table, r) for r in await self.fetch_all(query.as_string(), params)]

    async def _insert_row(self, table: str, values: Mapping[str, Any]) -> Any | None:
        query = sql.SQL("insert into public.{} ({}) values ({}) returning *").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)),
        )
        row = await self.write_one(query.as_string(), [_param(v) for v in values.values()])
        return None if row is None else row_to_model(table, row)

    async def _update_row(self, table: str, key: UUID, values: Mapping[str, Any]) -> Any | None:
        query = sql.SQL("update public.{} set {} where id = %s returning *").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values),
        )
        row = await self.write_one(query.as_string(), [*map(_param, values.values()), key])
        return None if row is None else row_to_model(table, row)

    async def _delete_row(self, table: str, key: UUID) -> bool:
        query = sql.SQL("delete from public.{} where id = %s returning id")
        row = await self.write_one(query.format(sql.Identifier(table)).as_string(), (key,))
        return row is not None

    # -- teams and members ------------------------------------------------------------------
    async def create_team(self, name: str, slug: str) -> Team:
        row = await self.write_one("select * from public.create_team(%s, %s)", (name, slug))
        return team_from_row(_returned(row, "create_team"))

    async def _list_members(self, team_id: UUID) -> list[TeamMember]:
        query = _MEMBER_JOIN.format(source="public.team_members")
        rows = await self.fetch_all(f"{query} where tm.team_id = %s", (team_id,))
        return [member_from_row(r) for r in rows]

    async def add_member(self, team_id: UUID, username: str, role: Role) -> TeamMember:
        query = _MEMBER_JOIN.format(source="public.add_team_member(%s, %s, %s)")
        row = await self.write_one(query, (team_id, username, str(role)))
        return member_from_row(_returned(row, "add_team_member", key="team_id"))

    async def set_member_role(self, team_id: UUID, user_id: UUID, role: Role) -> TeamMember:
        query = _MEMBER_JOIN.format(source="public.set_member_role(%s, %s, %s)")
        row = await self.write_one(query, (team_id, user_id, str(role)))
        return member_from_row(_returned(row, "set_member_role", key="team_id"))

    async def remove_member(self, team_id: UUID, user_id: UUID) -> None:
        await self.write_one("select public.remove_team_member(%s, %s)", (team_id, user_id))

    # -- environments -----------------------------------------------------------------------
    async def create_environment(
        self, project_id: UUID, name: str, template_id: UUID | None = None
    ) -> Environment:
        row = await self.write_one(
            "select * from public.create_environment(%s, %s, %s)", (project_id, name, template_id)
        )
        return environment_from_row(_returned(row, "create_environment"))

    # -- presence ---------------------------------------------------------------------------
    async def set_presence(
        self,
        project_id: UUID | None,
        *,
        environment_id: UUID | None = None,
        tab: str | None = None,
        editing_key: str | None = None,
    ) -> PresenceInfo | None:
        """Announce where this client is (None: leave); PermissionDenied outside its team."""
        if project_id is None:
            await self.write_one("select public.leave_presence(%s)", (self._client_id,))
            self._announced = False
            return None
        args = announce_args(self._client_id, project_id, environment_id, tab, editing_key)
        # Before the request: one cut short after its commit (the app quits meanwhile) has
        # still left a row that ``close`` must take down.
        self._announced = True
        # The heartbeat repeats harmlessly, so it is retried like a read.
        rows = await self.fetch_all(
            "select * from public.announce_presence(%s, %s, %s, %s, %s)", tuple(args.values())
        )
        return presence_from_rows(project_id, rows, self._client_id)

    async def presence(self, project_id: UUID) -> PresenceInfo:
        """Who else is on the project (read-only: retried while the database is away)."""
        rows = await self.fetch_all("select * from public.who_is_here(%s)", (project_id,))
        return presence_from_rows(project_id, rows, self._client_id)

    async def _clear_presence(self) -> None:
        """Take my presence down on the way out; a failure only leaves a row that stops
        being reported after 15 s, so it is logged, never raised."""
        if not self._announced or self._pool is None:
            return
        try:
            async with self.tx(deadline=_PRESENCE_CLEAR_SECONDS) as cur:
                await cur.execute("select public.leave_presence(%s)", (self._client_id,))
            self._announced = False
        except DevSyncError as exc:
            log.info("presence not cleared on close: %s", type(exc).__name__)

    async def diagnose_link(self) -> str:
        """Why the database cannot be reached, and what to do — one short phrase for the
        header. The embedded database, found stopped, is started again in the background
        (the library call, never a ``devsync`` found on PATH), unless ``devsync local stop``
        stopped it on purpose; only then, or when that fails, is the user told the command to
        run."""
        if not self._embedded:
            where = (
                "the database server" if self.label == "LOCAL" else f"the database at {self.label}"
            )
            return f"{where} cannot be reached: is it running?"
        from devsync_tui.backend.postgres import server

        restart = self._restart
        if restart is not None and restart.done() and restart.result():
            self._restart = restart = None  # it ran again, and stopped again since
        if restart is None:
            state = await asyncio.to_thread(server.status)
            if state.running:
                return "the local database is not answering; reconnecting"
            if await asyncio.to_thread(server.stopped_on_purpose):
                return "the local database was stopped on purpose: `devsync local start`"
            self._restart = restart = asyncio.create_task(
                self._start_embedded(server.ensure_running)
            )
        if restart.done():  # it could not be started: only the user can
            return "the local database is stopped: `devsync local start`"
        return "the local database stopped; DevSync is starting it again"

    @staticmethod
    async def _start_embedded(ensure_running: Callable[[], str]) -> bool:
        """Start the embedded database again; a few tries a second apart (one that is still
        shutting down cannot start yet). True once it runs."""
        for attempt in range(_START_ATTEMPTS):
            if attempt:
                await asyncio.sleep(1.0)
            try:
                await asyncio.to_thread(ensure_running)
            except DevSyncError as exc:
                log.warning("the local database could not be started again: %s", exc)
                continue
            log.warning("the local database had stopped; DevSync started it again")
            return True
        return False

    # -- live -----------------------------------------------------------------------------
    def changes(self) -> AsyncIterator[FeedEvent]:
        feed = ChangeFeed(
            self,
            self._conninfo,
            max_backoff=self._feed_max_backoff,
            liveness_interval=self._feed_liveness_interval,
            ping_timeout=min(5.0, self._feed_liveness_interval),
            diagnose=self.diagnose_link,
        )
        self._feeds.add(feed)
        return feed.events()
