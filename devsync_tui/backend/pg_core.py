"""The plumbing of the direct PostgreSQL transport: pool, impersonated transactions, identity,
retries and error mapping. ``PostgresBackend`` builds on it.

Every unit of work runs in one transaction that first does what PostgREST does for a request:
``set_config('role', 'authenticated', true)`` and ``set_config('request.jwt.claims', …, true)``,
so Row Level Security decides what the user sees and may do, never this client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from devsync_tui.backend.errors import DevSyncError, NotSignedIn, OutcomeUnknown, Unavailable
from devsync_tui.backend.pg_errors import is_transient, map_error
from devsync_tui.core.models import Identity

T = TypeVar("T")
log = logging.getLogger("devsync.backend.postgres")

IMPERSONATE = (
    "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)"
)
#: The same for a whole session, on a connection that serves one user only (the change feed's).
SESSION_IMPERSONATE = (
    "select set_config('role', 'authenticated', false), set_config('request.jwt.claims', %s, false)"
)

_KNOWN_USERS = """
select p.id, p.username, u.email
from public.profiles p left join auth.users u on u.id = p.id
order by p.username
"""
_WORKSPACE_OWNER = "select owner_id from public.teams order by created_at, id limit 1"


def claims_for(identity: Identity) -> str:
    """The JWT claims JSON PostgREST would set for this user (``role`` included, as it does)."""
    return json.dumps(
        {
            "sub": str(identity.user_id),
            "role": "authenticated",
            "aud": "authenticated",
            "email": identity.email,
        }
    )


class PgCore:
    """Pool + impersonated transactions. Not a Backend by itself."""

    kind = "local"

    def __init__(
        self,
        conninfo: str,
        username: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 4,
        acquire_timeout: float = 3.0,
        connect_timeout: float = 5.0,
        read_tries: int = 3,
    ) -> None:
        self._conninfo = conninfo
        self._requested_user = username
        self._min_size = min_size
        self._max_size = max_size
        self._acquire_timeout = acquire_timeout
        self._connect_timeout = connect_timeout
        self._read_tries = max(1, read_tries)
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._identity: Identity | None = None
        #: Set by a running change feed while its connection is lost: calls then fail fast
        #: (one short try) instead of waiting out the pool's timeout and the read retries.
        self._link_down = False
        self._claims = ""
        self.known_users: list[str] = []

    # -- lifecycle ------------------------------------------------------------------------
    async def _open(self) -> None:
        """Resolve the identity (as the login role) and open the pool."""
        if self._pool is not None:
            return
        try:
            conn = await AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=int(self._connect_timeout)
            )
        except psycopg.Error as exc:
            raise map_error(exc) from None
        try:
            async with conn:
                self._identity = await self._resolve_identity(conn)
        except psycopg.Error as exc:
            raise map_error(exc) from None
        self._claims = claims_for(self._identity)
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            self._conninfo,
            min_size=self._min_size,
            max_size=self._max_size,
            open=False,
            timeout=self._acquire_timeout,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": int(self._connect_timeout)},
            reconnect_timeout=24 * 3600.0,  # keep trying: the app may outlive an outage
            name="devsync",
        )
        try:
            await pool.open(wait=True, timeout=self._connect_timeout)
        except psycopg.Error as exc:
            await pool.close()
            raise map_error(exc) from None
        self._pool = pool

    async def _close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _resolve_identity(self, conn: AsyncConnection[Any]) -> Identity:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(_KNOWN_USERS)
        users = await cur.fetchall()
        self.known_users = [str(u["username"]) for u in users]
        if not users:
            raise NotSignedIn("This database has no users yet; load the demo workspace first.")
        wanted = self._requested_user
        if wanted is None:
            await cur.execute(_WORKSPACE_OWNER)
            owner = await cur.fetchone()
            chosen = next((u for u in users if owner and u["id"] == owner["owner_id"]), users[0])
        else:
            found = [u for u in users if u["username"] == wanted]
            if not found:
                known = ", ".join(self.known_users)
                raise NotSignedIn(f"There is no local user named {wanted!r}; known users: {known}.")
            chosen = found[0]
        return Identity(
            user_id=UUID(str(chosen["id"])),
            username=str(chosen["username"]),
            email=chosen["email"],
        )

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            raise NotSignedIn("Not connected: call connect() first.")
        return self._identity

    @property
    def claims(self) -> str:
        """The JWT claims JSON this backend impersonates with."""
        return self._claims

    @property
    def uid(self) -> UUID:
        return self.identity.user_id

    def set_link_down(self, down: bool) -> None:
        """The change feed reports whether the database is reachable."""
        self._link_down = down

    async def refresh_pool(self) -> None:
        """Replace broken pooled connections now (after the feed saw the database come back),
        instead of waiting for the pool's own reconnect backoff."""
        pool = self._pool
        if pool is not None:
            try:
                await pool.check()
            except psycopg.Error as exc:
                log.info("pool check failed: %s", type(exc).__name__)

    # -- units of work --------------------------------------------------------------------
    @asynccontextmanager
    async def tx(self, row_factory: Any = dict_row) -> AsyncIterator[AsyncCursor[Any]]:
        """One impersonated transaction; yields a cursor. psycopg errors become DevSync ones."""
        pool = self._pool
        if pool is None:
            raise Unavailable("Not connected to the database.")
        timeout = min(0.5, self._acquire_timeout) if self._link_down else self._acquire_timeout
        try:
            async with pool.connection(timeout=timeout) as conn, conn.transaction():
                cur = conn.cursor(row_factory=row_factory)
                await cur.execute(IMPERSONATE, (self._claims,))
                yield cur
        except psycopg.Error as exc:
            raise map_error(exc) from None
        except (OSError, TimeoutError, UnicodeError, RecursionError) as exc:
            # UnicodeError: a str with lone surrogates (undecodable bytes read from a file);
            # RecursionError: JSON nested too deeply to serialise. Both are bad input.
            raise map_error(exc) from None

    async def read(self, work: Callable[[AsyncCursor[Any]], Awaitable[T]], **kw: Any) -> T:
        """Run a read-only unit of work, retried with backoff while the database is away."""
        delay = 0.1
        tries = 1 if self._link_down else self._read_tries
        for attempt in range(tries):
            try:
                async with self.tx(**kw) as cur:
                    return await work(cur)
            except DevSyncError as exc:
                if not is_transient(exc) or attempt == tries - 1:
                    raise
            await asyncio.sleep(delay)
            delay *= 3
        raise Unavailable("The database is not available right now.")  # not reached

    async def write(self, work: Callable[[AsyncCursor[Any]], Awaitable[T]], **kw: Any) -> T:
        """Run a unit of work that writes: never retried (it may have committed).

        If the link breaks once the write was sent (during it or its COMMIT), the caller gets
        ``OutcomeUnknown``: only the database knows whether it committed, and
        ``Backend.confirm_save`` asks it once it is back. A failure before that (no connection,
        impersonation failed) is a plain ``Unavailable``: nothing was written.
        """
        sent = False
        try:
            async with self.tx(**kw) as cur:
                sent = True
                return await work(cur)
        except OutcomeUnknown:
            raise
        except Unavailable:
            if not sent:
                raise
            raise OutcomeUnknown(
                "The connection broke while saving: it may or may not have been applied."
            ) from None

    async def fetch_all(self, query: str, params: Sequence[Any] = ()) -> list[DictRow]:
        async def work(cur: AsyncCursor[DictRow]) -> list[DictRow]:
            await cur.execute(query, params)
            return await cur.fetchall()

        return await self.read(work)

    async def fetch_one(self, query: str, params: Sequence[Any] = ()) -> DictRow | None:
        async def work(cur: AsyncCursor[DictRow]) -> DictRow | None:
            await cur.execute(query, params)
            return await cur.fetchone()

        return await self.read(work)

    async def write_one(self, query: str, params: Sequence[Any] = ()) -> DictRow | None:
        async def work(cur: AsyncCursor[DictRow]) -> DictRow | None:
            await cur.execute(query, params)
            return await cur.fetchone() if cur.description else None

        return await self.write(work)

    async def _ping(self) -> float:
        start = time.perf_counter()
        await self.fetch_one("select 1 as one")
        return time.perf_counter() - start
