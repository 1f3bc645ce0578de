"""PostgREST plumbing shared by the Supabase transport: session freshness (the session every
DevSync process of the user shares, see ``shared_session``), selects with paging, RPC calls,
direct table writes, and error translation around every request."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from devsync_tui.backend.errors import InvalidInput, NotFound, NotSignedIn, Unavailable
from devsync_tui.backend.refusals import NOT_FINITE, not_done
from devsync_tui.backend.supabase import shared_session
from devsync_tui.backend.supabase.errors import SESSION_ENDED, map_exception, translate_errors
from devsync_tui.backend.supabase.shared_session import OTHER_USER, REFRESH_MARGIN, SESSION_KEY

if TYPE_CHECKING:
    from devsync_tui.backend.supabase.session import SessionStorage
    from supabase import AsyncClient

log = logging.getLogger("devsync.supabase")

#: Supabase projects cap a response at ``max_rows`` (1000 by default); reads page by this.
PAGE = 1000
#: A read that failed for a network reason is retried once after this many seconds.
READ_RETRY_DELAY = 0.3
#: The keeper refreshes at least this long after its last look (tokens shorter than the margin).
KEEP_FRESH_MIN = 5.0
#: After a refresh that could not reach GoTrue, the keeper tries again after this long.
KEEP_FRESH_RETRY = 10.0
#: How often a connected process with no request to make looks whether the stored session is
#: still there (``devsync logout`` elsewhere): the dashboard's header says so this soon.
STORED_CHECK_INTERVAL = 2.0

Filter = Callable[[Any], Any]


def jsonable(value: Any) -> Any:
    """A value ready for a JSON body (UUIDs and datetimes as text).

    JSON nested too deeply to serialise, or a number JSON cannot hold (NaN, infinity), is bad
    input (InvalidInput), as on the local transport.
    """
    try:
        return _jsonable(value)
    except RecursionError:
        raise map_exception(RecursionError()) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(NOT_FINITE)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class SupabaseRest:
    """Mixin holding the client and the request helpers."""

    client: AsyncClient | None
    _session: Any | None
    _refresh_lock: asyncio.Lock
    #: The refresh in flight, if any (``_refresh``).
    _refreshing: asyncio.Future[None] | None = None
    #: Why the session ended (set once; every later request says the same, GoTrue is not asked).
    _ended: NotSignedIn | None = None
    #: ``storage.stamp()`` when the stored session was last seen to be this process's
    #: (None: not looked at yet).
    _stored_mark: tuple[object, ...] | None = None

    @property
    def storage(self) -> SessionStorage:
        raise NotImplementedError

    def _session_ended(self, reason: NotSignedIn) -> None:
        """Told once when the shared session is over (the backend tells the live feed)."""

    def _end(self, reason: NotSignedIn) -> NotSignedIn:
        """The session is over for this process: every later request raises ``reason``
        without asking anyone. Returns the reason that holds (the first one)."""
        if self._ended is None:
            self._ended = reason
            log.warning("the Supabase session ended: %s", reason)
            self._session_ended(reason)
        return self._ended

    def _require(self) -> AsyncClient:
        if self.client is None:
            raise NotSignedIn("Not connected to Supabase; connect() first.")
        return self.client

    async def _fresh(self) -> AsyncClient:
        """The client, with an access token that will not expire during the request."""
        client = self._require()
        if self._ended is not None:
            raise NotSignedIn(str(self._ended))
        session = self._session
        if session is None:
            raise NotSignedIn("You are signed out; run `devsync login`.")
        if self._storage_stamp() != self._stored_mark:
            await self._check_stored()
        if getattr(session, "expires_at", None) is not None and shared_session.near_expiry(session):
            await self._refresh(client)
        return client

    def _storage_stamp(self) -> tuple[object, ...]:
        return self.storage.stamp()

    async def _check_stored(self) -> None:
        """The stored session is the one truth (``shared_session``): once it is gone
        (``devsync logout`` in any process of the profile) or is someone else's, this process
        stops using its copy, before its next request reaches PostgREST with it.

        Read only when ``storage.stamp()`` changed (a ``stat`` of the session file; the keyring
        every few seconds): nothing is asked over the network. A keyring that cannot be read
        right now tells nothing: looked at again when the stamp next changes."""
        storage = self.storage
        mark = storage.stamp()  # before reading: a change made meanwhile is seen next time
        try:
            raw = await storage.lookup(SESSION_KEY)
        except Unavailable as exc:
            log.info("cannot look at the stored session (%s); going on", exc)
            self._stored_mark = mark
            return
        if self._ended is not None:
            raise NotSignedIn(str(self._ended))
        held = self._session
        if held is None:
            return
        problem = _stored_problem(raw, str(held.user.id))
        if problem is not None:
            raise self._end(NotSignedIn(problem))
        self._stored_mark = mark

    async def _refresh(self, client: AsyncClient) -> None:
        """Refresh the shared session (or adopt the one another process stored).

        The refresh runs in a task of its own that its caller only waits for: a caller
        cancelled (quitting, a timeout) must not cut it between GoTrue rotating the token and
        the new session being stored. The stored token would then be a retired one, and the
        next refresh with it, by any process, would end the session for all of them."""
        async with self._refresh_lock:
            running = self._refreshing
            if running is None or running.done():
                session = self._session
                if self._ended is not None:
                    raise NotSignedIn(str(self._ended))
                if session is None or not shared_session.near_expiry(session):
                    return  # another task of this process refreshed meanwhile
                running = asyncio.ensure_future(self._refresh_now(client, session))
                # Its outcome is also the caller's; retrieved here so that a task whose
                # caller was cancelled never logs "exception was never retrieved".
                running.add_done_callback(lambda t: t.cancelled() or t.exception())
                self._refreshing = running
        await asyncio.shield(running)

    async def _refresh_now(self, client: AsyncClient, session: Any) -> None:
        try:
            fresh = await shared_session.refresh(
                client, self.storage, session.refresh_token, str(session.user.id)
            )
        except NotSignedIn as exc:
            raise self._end(exc) from None
        self._session = fresh

    async def _refresh_finished(self, within: float) -> None:
        """Wait (at most ``within`` seconds) for a refresh in flight to store its session:
        before the client it uses is closed."""
        running = self._refreshing
        if running is not None and not running.done():
            await asyncio.wait({running}, timeout=within)

    async def _keep_fresh(self) -> None:
        """While connected: refresh ahead of expiry even when no request is made, so that
        Realtime never holds an expired token (supabase-py's own timer is off); and meanwhile
        look at the stored session every ``STORED_CHECK_INTERVAL`` seconds, so that a sign-out
        elsewhere ends this process's session (and the dashboard says so) with no request."""
        while self._ended is None:
            expires_at = getattr(self._session, "expires_at", None) or 0
            wait = max(expires_at - REFRESH_MARGIN - time.time(), KEEP_FRESH_MIN)
            due = time.monotonic() + wait
            try:
                while (left := due - time.monotonic()) > 0:
                    await asyncio.sleep(min(left, STORED_CHECK_INTERVAL))
                    if self._session is not None and self._storage_stamp() != self._stored_mark:
                        await self._check_stored()
                await self._fresh()
            except NotSignedIn:
                return
            except Unavailable as exc:
                log.info("could not refresh the session (%s); trying again later", exc)
                await asyncio.sleep(KEEP_FRESH_RETRY)

    async def _run(self, build: Callable[[AsyncClient], Any], *, read: bool) -> Any:
        """Build a request on a fresh client and execute it; reads are retried once when the
        network failed (safe: they change nothing)."""
        attempts = 2 if read else 1
        for attempt in range(attempts):
            client = await self._fresh()
            try:
                async with translate_errors():
                    response = await build(client).execute()
                return response
            except Unavailable:
                if attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(READ_RETRY_DELAY)
        raise Unavailable("The Supabase project is unreachable; check the network.")

    async def _select(
        self,
        table: str,
        columns: str = "*",
        *,
        where: Sequence[Filter] = (),
        order: Sequence[tuple[str, bool] | tuple[str, bool, bool]] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` visible to me; pages through ``PAGE``-sized ranges when ``limit``
        is None or larger than a page."""
        rows: list[dict[str, Any]] = []
        start = offset
        while True:
            want = PAGE if limit is None else min(PAGE, limit - len(rows))
            if want <= 0:
                break

            def build(client: AsyncClient, start: int = start, want: int = want) -> Any:
                query = client.table(table).select(columns)
                for apply in where:
                    query = apply(query)
                for column, desc, *nulls in order:
                    # (column, desc[, nullsfirst])
                    query = query.order(column, desc=desc, nullsfirst=nulls[0] if nulls else None)
                return query.range(start, start + want - 1)

            response = await self._run(build, read=True)
            page = [r for r in (response.data or []) if isinstance(r, dict)]
            rows.extend(page)
            if len(page) < want:
                break
            start += len(page)
        return rows

    async def _one(self, table: str, where: Sequence[Filter], what: str) -> dict[str, Any]:
        rows = await self._select(table, where=where, limit=1)
        if not rows:
            raise NotFound(f"{what} does not exist or you cannot see it.")
        return rows[0]

    async def _rpc(self, fn: str, params: dict[str, Any]) -> Any:
        body = {k: jsonable(v) for k, v in params.items()}
        response = await self._run(lambda c: c.rpc(fn, body), read=False)
        return response.data

    async def _rpc_rows(self, fn: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of a read-only set-returning RPC. A response holds at most ``PAGE`` rows
        (max_rows), so a full page asks for the next; the function must return its rows in a
        stable order."""
        body = {k: jsonable(v) for k, v in params.items()}
        rows: list[dict[str, Any]] = []
        while True:
            start = len(rows)

            def build(client: AsyncClient, start: int = start) -> Any:
                return client.rpc(fn, body).range(start, start + PAGE - 1)

            response = await self._run(build, read=True)
            page = [r for r in (response.data or []) if isinstance(r, dict)]
            rows.extend(page)
            if len(page) < PAGE:
                return rows

    async def _rpc_row(self, fn: str, params: dict[str, Any], *, key: str = "id") -> dict[str, Any]:
        """An RPC that returns one composite row (PostgREST sends an object; tolerate a list).
        No row, or a null composite (every column null), means it stored nothing."""
        data = await self._rpc(fn, params)
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, dict) or data.get(key) is None:
            raise not_done(fn)
        return data

    async def _insert(self, table: str, row: dict[str, Any]) -> dict[str, Any] | None:
        """Insert one row; the stored row (None: nothing came back)."""
        body = jsonable(row)
        response = await self._run(lambda c: c.table(table).insert(body), read=False)
        data = response.data
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0]
        return None

    async def _write_one(
        self, table: str, key: Any, values: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """PATCH (values) or DELETE (values None) the row whose id is ``key``; the row written,
        None when no row was (row-level security makes a forbidden write change none)."""
        body = jsonable(values) if values is not None else None

        def build(client: AsyncClient) -> Any:
            query: Any = client.table(table)
            query = query.update(body) if body is not None else query.delete()
            return query.eq("id", str(key))

        response = await self._run(build, read=False)
        data = response.data
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0]
        return None

    async def _usernames(self, ids: set[UUID | None]) -> dict[UUID, str]:
        wanted = sorted(str(i) for i in ids if i is not None)
        if not wanted:
            return {}
        found: dict[UUID, str] = {}
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            rows = await self._select("profiles", "id,username", where=[in_("id", chunk)])
            found.update({UUID(str(r["id"])): str(r["username"]) for r in rows})
        return found


def _stored_problem(raw: str | None, user_id: str) -> str | None:
    """Why this process may no longer use its session, given what is stored (``raw``): gone
    (signed out, or ended and forgotten by another process), or someone else's (signed in as
    another user since). None: the stored session is still the user's (the same one, or a newer
    one another process refreshed or signed in: adopted at the next refresh)."""
    if not raw:
        return SESSION_ENDED
    try:
        data = json.loads(raw)
    except ValueError:
        return SESSION_ENDED  # as ``read_stored``, which a new process would go by
    if not isinstance(data, dict) or not data.get("refresh_token"):
        return SESSION_ENDED
    user = data.get("user")
    stored_user = user.get("id") if isinstance(user, dict) else None
    if stored_user is not None and str(stored_user) != user_id:
        return OTHER_USER
    return None


def eq(column: str, value: Any) -> Filter:
    """``column=eq.value`` (``is.null`` when value is None)."""
    if value is None:
        return lambda q: q.is_(column, "null")
    return lambda q: q.eq(column, str(value))


def in_(column: str, values: Sequence[Any]) -> Filter:
    return lambda q: q.in_(column, [str(v) for v in values])
