"""The plumbing of the direct PostgreSQL transport: pool, impersonated transactions, identity,
retries and error mapping. ``PostgresBackend`` builds on it.

Every statement runs impersonated, as PostgREST runs a request: role ``authenticated`` and
``request.jwt.claims`` holding the user, so Row Level Security decides what the user sees and
may do, never this client. A ``PgCore`` acts as one identity for its whole life (the user
resolved in ``_open_identity``, or a machine token), and its pool is its own: every
connection takes that identity for its whole session as it joins the pool (``_Impersonating``,
the pool's ``configure``), before it can serve anything, so a one-statement write is one
autocommit statement (``write_statement``). Units of work of several statements (``tx``) also
set it again for their transaction, as before.

A machine (``machine_token``) is impersonated as PostgREST serves a request with the anon key
and the ``x-devsync-token`` header: role ``anon`` and ``request.headers`` holding the token;
the machine RPCs check it (docs/DATABASE.md, "Machines").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg import AsyncConnection, AsyncCursor, pq
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg_pool import AsyncConnectionPool

from devsync_tui.backend.errors import (
    DevSyncError,
    InvalidInput,
    NotSignedIn,
    OutcomeUnknown,
    Unavailable,
)
from devsync_tui.backend.postgres.errors import is_transient, map_error
from devsync_tui.core.models import Identity

T = TypeVar("T")
log = logging.getLogger("devsync.backend.postgres")

IMPERSONATE = (
    "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)"
)
#: A machine: anon, with the request's headers (the token among them) as PostgREST sets them.
MACHINE_IMPERSONATE = (
    "select set_config('role', 'anon', true), set_config('request.jwt.claims', %s, true),"
    " set_config('request.headers', %s, true)"
)
_ANON_CLAIMS = json.dumps({"role": "anon"})
#: The same for a whole session, on a connection that serves one user only (the change feed's,
#: and every connection of a user's pool), in UTC like every session of this transport: see
#: ``_Impersonating``.
SESSION_IMPERSONATE = (
    "select set_config('role', 'authenticated', false),"
    " set_config('request.jwt.claims', %s, false), set_config('TimeZone', 'UTC', false)"
)
#: A machine's, for every connection of its pool.
MACHINE_SESSION_IMPERSONATE = (
    "select set_config('role', 'anon', false), set_config('request.jwt.claims', %s, false),"
    " set_config('request.headers', %s, false), set_config('TimeZone', 'UTC', false)"
)

_KNOWN_USERS = """
select p.id, p.username, u.email
from public.profiles p left join auth.users u on u.id = p.id
order by p.username
"""
_WORKSPACE_OWNER = "select owner_id from public.teams order by created_at, id limit 1"


#: libpq TCP settings (ignored on Unix sockets): a link that dies without a RST (cut network,
#: suspended laptop) fails the connection in ~25 s instead of hanging a call forever.
TCP_LIVENESS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}


def sever(conn: AsyncConnection[Any]) -> None:
    """Shut the connection's socket down under psycopg: a call waiting on it wakes at once with
    an OperationalError. (Cancelling the call instead makes psycopg wait for the server to
    acknowledge, up to 10 s, which on a silent link never happens.)"""
    try:
        dup = os.dup(conn.pgconn.socket)
    except (OSError, psycopg.Error):
        return
    with socket.socket(fileno=dup) as sock, contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def watchdog(conn: AsyncConnection[Any], seconds: float) -> Iterator[None]:
    """Sever ``conn`` if the block is still running after ``seconds``."""
    handle = asyncio.get_running_loop().call_later(seconds, sever, conn)
    try:
        yield
    finally:
        handle.cancel()


class _Impersonating:
    """The pool's ``configure``: a new connection takes its pool's one identity for the whole
    session (one autocommit statement) before the pool hands it to anyone, and runs in UTC, as
    PostgREST's sessions do on Supabase: timestamps come back in UTC whatever the server's zone
    (the embedded server takes the machine's), and the database truncates to hours (health
    roll-ups) and reads zone-less times the same on both transports.

    Why this is as safe as impersonating per transaction: a connection that fails it is closed
    and never joins the pool (psycopg_pool adds a connection only once ``configure`` returned),
    so no connection of the pool, first or made after a reconnect, ever runs a statement with
    the login role's rights. Nothing undoes it: no ``RESET``/``DISCARD`` is ever sent on a
    pooled connection (the pool has no ``reset`` hook; it only rolls back a transaction left
    open, and a rollback keeps session settings made outside it), and the transaction-local
    settings ``tx`` makes end with their transaction, back to these. A pool belongs to one
    ``PgCore``, whose identity is fixed before its first pool is made; ``statement`` is fixed
    with the pool (``refresh_pool`` makes the next one with the same)."""

    def __init__(self, statement: tuple[str, tuple[str, ...]]) -> None:
        self.statement = statement

    async def __call__(self, conn: AsyncConnection[Any]) -> None:
        try:
            await conn.execute(*self.statement)
        except BaseException:
            await conn.close()
            raise


#: A connection that finished a unit of work this recently is not asked whether it is alive
#: before the next one (a second round trip for a one-statement write). If it died in between,
#: the unit fails before anything is sent: reads are retried, a write is "not applied" (a
#: one-statement write reads the socket first: see ``_still_open``). A link gone silent in
#: that second shows only when the watchdog fires; a one-statement write has sent its
#: statement by then, so it is "unknown" (``OutcomeUnknown``), where a per-statement one
#: stopped at BEGIN.
FRESH_SECONDS = 1.0
_IDLE = pq.TransactionStatus.IDLE


class _Liveness:
    """The pool's liveness check, severing a connection that does not answer in time (one
    that went silent would otherwise hang the check, and the call waiting for it); skipped
    for a connection returned to the pool less than ``FRESH_SECONDS`` ago."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._returned: weakref.WeakKeyDictionary[AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    async def check(self, conn: AsyncConnection[Any]) -> None:
        returned = self._returned.pop(conn, None)
        if returned is not None and time.monotonic() - returned < FRESH_SECONDS:
            return
        with watchdog(conn, self.seconds):
            await AsyncConnectionPool.check_connection(conn)

    def returned(self, conn: AsyncConnection[Any]) -> None:
        """Called as a unit of work gives its connection back: remembered if it comes back
        clean (open, no transaction left). Not the pool's ``reset`` hook: with one, the pool
        hands every returned connection to its worker task, and the next unit waits for it."""
        pgconn = conn.pgconn
        if pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == _IDLE:
            self._returned[conn] = time.monotonic()


async def _retire(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
    try:
        await pool.close(timeout=5.0)
    except (psycopg.Error, OSError) as exc:
        log.info("closing a replaced pool failed: %s", type(exc).__name__)


def _check_conninfo(conninfo: str) -> None:
    """InvalidInput for a connection string libpq cannot parse (its message would quote the
    string, password included)."""
    try:
        conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        raise InvalidInput(
            "The database URL is not a valid PostgreSQL connection string."
        ) from None


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
        op_timeout: float = 30.0,
        machine_token: str | None = None,
    ) -> None:
        self._conninfo = conninfo
        #: What each transaction of ``tx`` runs first, and what each pooled connection runs for
        #: its whole session as it joins the pool: the user's impersonation (set once the
        #: identity is known), or the machine's (anon + its token header).
        self._impersonation: tuple[str, tuple[str, ...]] = (IMPERSONATE, ("",))
        self._session_impersonation: tuple[str, tuple[str, ...]] | None = None
        self._machine = machine_token is not None
        if machine_token is not None:
            headers = json.dumps({"x-devsync-token": machine_token})
            self._impersonation = (MACHINE_IMPERSONATE, (_ANON_CLAIMS, headers))
            self._session_impersonation = (MACHINE_SESSION_IMPERSONATE, (_ANON_CLAIMS, headers))
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
        self._op_timeout = op_timeout
        self._liveness = _Liveness(min(2.0, connect_timeout))
        #: Pools replaced by ``refresh_pool``, closing in the background.
        self._retiring: set[asyncio.Task[None]] = set()
        self.known_users: list[str] = []

    # -- lifecycle ------------------------------------------------------------------------
    async def _open(self) -> None:
        """Resolve the identity (as the login role) and open the pool. A machine has no
        identity to resolve: the database learns it from the token, per transaction."""
        if self._pool is not None:
            return
        if self._machine:
            _check_conninfo(self._conninfo)
        else:
            await self._open_identity()
        pool = self._make_pool()
        try:
            await pool.open(wait=True, timeout=self._connect_timeout)
        except psycopg.Error as exc:
            await pool.close()
            raise map_error(exc) from None
        self._pool = pool

    async def _open_identity(self) -> None:
        """Who this backend acts as, read once on a connection of its own (as the login role)."""
        try:
            conn = await AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=int(self._connect_timeout)
            )
        except psycopg.ProgrammingError as exc:
            if exc.sqlstate is None:
                # libpq could not parse the URL. Its message quotes the URL, password included.
                raise InvalidInput(
                    "The database URL is not a valid PostgreSQL connection string."
                ) from None
            raise map_error(exc) from None
        except psycopg.Error as exc:
            raise map_error(exc) from None
        try:
            async with conn:
                with watchdog(conn, self._connect_timeout):
                    self._identity = await self._resolve_identity(conn)
        except psycopg.Error as exc:
            raise map_error(exc) from None
        self._claims = claims_for(self._identity)
        self._impersonation = (IMPERSONATE, (self._claims,))
        self._session_impersonation = (SESSION_IMPERSONATE, (self._claims,))

    def _make_pool(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        """A pool of this backend's own, every connection impersonating its one identity."""
        session = self._session_impersonation
        if session is None:
            # No pool before the identity is known: its connections would act as the login role.
            raise NotSignedIn("Not connected: the identity is not known yet.")
        return AsyncConnectionPool(
            self._conninfo,
            min_size=self._min_size,
            max_size=self._max_size,
            open=False,
            timeout=self._acquire_timeout,
            check=self._liveness.check,
            configure=_Impersonating(session),
            # Autocommit: ``tx`` says BEGIN itself (psycopg's transaction()), and
            # ``write_statement``'s one statement is its own transaction.
            kwargs={
                "autocommit": True,
                "connect_timeout": int(self._connect_timeout),
                **TCP_LIVENESS,
            },
            reconnect_timeout=24 * 3600.0,  # keep trying: the app may outlive an outage
            name="devsync",
        )

    async def _close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

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
                # Bad input (exit 2), not a refusal: the name given is not one of the users.
                raise InvalidInput(
                    f"There is no local user named {wanted!r}; known users: {known}."
                )
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
        """After the feed saw the database come back: swap in a new pool at once instead of
        waiting for the old one's reconnect backoff. Checking the old connections is no
        option: one that went silent (a cut link) would hang the check. The old pool closes
        in the background; calls still holding its connections finish or time out."""
        old = self._pool
        if old is None:
            return
        new = self._make_pool()
        try:
            await new.open(wait=True, timeout=self._connect_timeout)
        except psycopg.Error as exc:
            log.info("new pool failed to open: %s", type(exc).__name__)
            await new.close()
            return
        self._pool = new
        task = asyncio.create_task(_retire(old))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _deadline(self, *, read: bool) -> float:
        """Seconds a unit of work may take before it counts as lost. Writes get twice as long
        (a report of 20,000 packages is legitimately slow); while the feed knows the link is
        down, reads are cut short."""
        if read and self._link_down:
            return min(3.0, self._op_timeout)
        return self._op_timeout if read else 2 * self._op_timeout

    def _checkout_timeout(self) -> float:
        """Seconds to wait for a pooled connection: cut short while the feed knows the link is
        down."""
        return min(0.5, self._acquire_timeout) if self._link_down else self._acquire_timeout

    # -- units of work --------------------------------------------------------------------
    @asynccontextmanager
    async def _connection(self, limit: float) -> AsyncIterator[AsyncConnection[Any]]:
        """A pooled connection for one unit of work, severed if the unit is still running after
        ``limit`` seconds. While the feed knows the link is down, waiting for one is cut short."""
        pool = self._pool
        if pool is None:
            raise Unavailable("Not connected to the database.")
        async with pool.connection(timeout=self._checkout_timeout()) as conn:
            try:
                with watchdog(conn, limit):
                    yield conn
            finally:
                self._liveness.returned(conn)

    @asynccontextmanager
    async def tx(
        self, row_factory: Any = dict_row, deadline: float | None = None
    ) -> AsyncIterator[AsyncCursor[Any]]:
        """One impersonated transaction; yields a cursor. psycopg errors become DevSync ones.
        Past ``deadline`` seconds (default: the read deadline) its connection is severed.

        The connection impersonates for its whole session already; the transaction sets the
        same identity again, locally, so that a unit of several statements (whatever its
        ``work`` runs) does not depend on the session's settings. It costs one statement per
        unit (reads, and writes of several statements): one-statement writes go through
        ``write_statement``."""
        limit = self._deadline(read=True) if deadline is None else deadline
        try:
            async with self._connection(limit) as conn, conn.transaction():
                cur = conn.cursor(row_factory=row_factory)
                await cur.execute(*self._impersonation)
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
                async with self.tx(deadline=self._deadline(read=True), **kw) as cur:
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
        impersonation failed) is a plain ``Unavailable``: nothing was written. A single
        statement is faster through ``write_statement`` (one round trip instead of four).
        """
        sent = False
        try:
            async with self.tx(deadline=self._deadline(read=False), **kw) as cur:
                sent = True
                return await work(cur)
        except DevSyncError as exc:
            told = _write_error(exc, sent=sent)
            if told is exc:
                raise
            raise told from None

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
        """One statement that writes (an RPC), in one round trip; its first row, if any."""
        cur = await self.write_statement(query, params)
        # Whether it returned rows, read off the result: ``cur.description`` would build a
        # Column per field on every call, a tenth of this path's Python time.
        result = cur.pgresult
        if result is None or result.status != pq.ExecStatus.TUPLES_OK:
            return None
        return await cur.fetchone()

    async def write_one_values(
        self, query: str, params: Sequence[Any] = ()
    ) -> tuple[Any, ...] | None:
        """``write_one`` for a hot path (every save): its row as a tuple of the statement's
        columns in their order, no dict of column names built per call, read on a cursor the
        connection keeps for these writes (see ``_values_cursor``) before the connection goes
        back to the pool."""
        row: tuple[Any, ...] | None = await self._one_statement(
            query, params, _values_cursor, fetch=True
        )
        return row

    async def write_statement(
        self, query: str, params: Sequence[Any] = (), row_factory: Any = dict_row
    ) -> AsyncCursor[Any]:
        """Run one statement that writes, with the guarantees of ``write``, in one round trip
        and one psycopg execute: the connection already impersonates (for its whole session,
        see ``_Impersonating``), and in autocommit a single statement is its own transaction,
        so it commits whole or not at all, as BEGIN … COMMIT around it would. On a 2-core
        machine serving many clients it is the Python work per statement, more than the wait,
        that this saves. Returns the statement's cursor, its rows not yet read.

        What the server refuses comes out as from ``tx``, and nothing of the statement is
        left. The statement counts as sent once it is handed to psycopg: a connection found
        closed before that (see ``_still_open``) is a plain ``Unavailable``; after it,
        ``OutcomeUnknown``.
        """
        cur: AsyncCursor[Any] = await self._one_statement(
            query, params, lambda conn: conn.cursor(row_factory=row_factory), fetch=False
        )
        return cur

    async def _one_statement(
        self,
        query: str,
        params: Sequence[Any],
        cursor_of: Callable[[AsyncConnection[Any]], AsyncCursor[Any]],
        *,
        fetch: bool,
    ) -> Any:
        """``write_statement``'s work on the cursor ``cursor_of`` gives for the connection: the
        cursor, or with ``fetch`` its first row (None if the statement returned no rows),
        read while the connection is still checked out."""
        pool = self._pool
        if pool is None:
            raise Unavailable("Not connected to the database.")
        sent = False
        # What ``_connection`` does, inline (this is every save's path, and its Python time is
        # what a 2-core machine serving many clients runs out of): the pool's checkout and
        # return without ``pool.connection()``'s ``async with conn``, whose COMMIT/ROLLBACK is
        # a no-op here (autocommit, one statement: the connection is IDLE again whatever the
        # statement did; a broken one is the pool's to discard, in ``putconn``), and the
        # watchdog's timer without its context manager.
        try:
            conn = await pool.getconn(timeout=self._checkout_timeout())
            try:
                handle = asyncio.get_running_loop().call_later(
                    self._deadline(read=False), sever, conn
                )
                try:
                    _still_open(conn)
                    cur = cursor_of(conn)
                    sent = True
                    await cur.execute(query, params)
                    if not fetch:
                        return cur
                    # Whether it returned rows, read off the result: ``cur.description``
                    # would build a Column per field on every call.
                    result = cur.pgresult
                    if result is None or result.status != pq.ExecStatus.TUPLES_OK:
                        return None
                    return await cur.fetchone()
                finally:
                    handle.cancel()
            finally:
                self._liveness.returned(conn)
                await pool.putconn(conn)
        except (psycopg.Error, OSError, TimeoutError, UnicodeError, RecursionError) as exc:
            raise _write_error(map_error(exc), sent=sent) from None

    async def _ping(self) -> float:
        start = time.perf_counter()
        await self.fetch_one("select 1 as one")
        return time.perf_counter() - start


_VALUES_CURSOR = "_devsync_values_cursor"


def _values_cursor(conn: AsyncConnection[Any]) -> AsyncCursor[Any]:
    """The tuple-row cursor ``conn`` keeps for ``write_one_values``, made on first use. A new
    cursor per statement sets up its adapters and looks up the dumper of every parameter and
    the loader of every column again: reused, a save's client costs ~55k instructions less
    (of ~405k; valgrind). Safe to share between the units of work of the connection: one
    checks the connection out at a time, and reads its row before giving it back; each
    ``execute`` starts the cursor afresh (a refusal leaves nothing on it for the next one).
    It lives and dies with the connection (an attribute: a weak-keyed table would keep the
    connection alive through the cursor's own reference to it)."""
    cur: AsyncCursor[Any] | None = getattr(conn, _VALUES_CURSOR, None)
    if cur is None or cur.closed:
        cur = conn.cursor(row_factory=tuple_row)
        setattr(conn, _VALUES_CURSOR, cur)
    return cur


def _still_open(conn: AsyncConnection[Any]) -> None:
    """Raise ``OperationalError`` if the server closed this idle connection (it died, restarted
    or was terminated since the connection's last unit of work): its goodbye is already on the
    socket, and reading it costs no round trip. A one-statement write would otherwise only
    learn that after sending, when nothing tells "never arrived" from "committed, reply lost".
    """
    pgconn = conn.pgconn
    # Twice: a server ending a session (terminated, shutting down) says why, then closes; libpq
    # stops reading at the first bytes it gets (the FATAL notice), so only a second read sees
    # the end of the stream. Nothing pending, each is one recv() answering "nothing yet".
    pgconn.consume_input()
    pgconn.consume_input()
    if pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection was closed")


def _write_error(exc: DevSyncError, *, sent: bool) -> DevSyncError:
    """What a write that failed with ``exc`` tells its caller: a break of the link once the
    write was sent is ``OutcomeUnknown`` (it may have committed); anything else stays as is."""
    if sent and isinstance(exc, Unavailable) and not isinstance(exc, OutcomeUnknown):
        return OutcomeUnknown(
            "The connection broke while saving: it may or may not have been applied."
        )
    return exc
