"""A one-statement write goes out as one autocommit statement (``PgCore.write_statement``) on
a pooled connection that impersonates for its whole session (``pool._Impersonating``), and
keeps every guarantee of the unit of work it replaced (``PgCore.write``: BEGIN, the
transaction's own impersonation, the statement, COMMIT, one round trip each): the same error
for the same refusal, never the login role's rights (on every connection of the pool, the
first and those made after a reconnect; a machine's act as ``anon``), nothing run on a
connection whose impersonation is refused, ``OutcomeUnknown`` only once the statement may have
reached the server, the watchdog still severing, and the connection given back clean."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import AsyncCursor

from devsync_tui.backend.errors import Conflict, DevSyncError, OutcomeUnknown, Unavailable
from devsync_tui.backend.postgres import pool as pool_module
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.postgres.pool import PgCore, _still_open
from devsync_tui.core.models import ConfigType, Configuration
from tests.support.demo import CAROL, ENV_STAGING, PROJECT_STOREFRONT
from tests.support.tcp_proxy import SYNC, TcpProxy

pytestmark = pytest.mark.db

SAVE = "select * from public.save_configuration(%s, %s, %s, %s, %s, %s, %s)"


def _save_params(key: str, value: str, expected: int | None, env: UUID | None = None) -> tuple:
    return (PROJECT_STOREFRONT, env, key, value, False, "env_var", expected)


async def _old_path(backend: PostgresBackend, query: str, params: tuple) -> Any:
    """The unit of work the pipelined path replaced: one round trip per statement."""

    async def work(cur: AsyncCursor[Any]) -> Any:
        await cur.execute(query, params)
        return await cur.fetchone() if cur.description else None

    return await backend.write(work)


@pytest.fixture
async def alice(fresh_db_url: str) -> AsyncIterator[PostgresBackend]:
    backend = PostgresBackend(fresh_db_url, "alice", embedded=False, min_size=1, max_size=1)
    await backend.connect()
    yield backend
    await backend.close()


@pytest.fixture
async def carol(fresh_db_url: str) -> AsyncIterator[PostgresBackend]:
    backend = PostgresBackend(fresh_db_url, "carol", embedded=False, min_size=1, max_size=1)
    await backend.connect()
    yield backend
    await backend.close()


def _versions(db_url: str, key: str) -> list[int]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select version from public.configuration_history where project_id = %s "
            "and key = %s and op <> 'delete' order by id",
            (PROJECT_STOREFRONT, key),
        ).fetchall()
    return [int(r[0]) for r in rows]


async def _refusal(call: Any) -> DevSyncError:
    with pytest.raises(DevSyncError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize(
    "case",
    ["stale-version", "exists-already", "bad-key", "nul-byte", "no-such-environment"],
)
async def test_the_same_refusal_comes_out_of_both_paths(
    alice: PostgresBackend, fresh_db_url: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    await alice.write_one(SAVE, _save_params("PIPE_KEY", "v1", None))
    params = {
        "stale-version": _save_params("PIPE_KEY", "v2", 7),
        "exists-already": _save_params("PIPE_KEY", "v2", None),
        "bad-key": _save_params("1 not a name", "v2", None),
        "nul-byte": _save_params("PIPE_KEY", "a\x00b", 1),
        "no-such-environment": _save_params(
            "PIPE_KEY", "v2", None, UUID("00000000-0000-4000-d000-00000000ffff")
        ),
    }[case]
    caplog.set_level(logging.WARNING, logger="psycopg")
    old = await _refusal(_old_path(alice, SAVE, params))
    new = await _refusal(alice.write_one(SAVE, params))
    assert (type(new), str(new)) == (type(old), str(old))
    assert not isinstance(new, Unavailable)
    assert _versions(fresh_db_url, "PIPE_KEY") == [1]
    # the connection came back clean: no rollback by the pool, and the next write just works
    assert "rolling back returned connection" not in caplog.text
    await alice.write_one(SAVE, _save_params("PIPE_KEY", "v2", 1))
    assert _versions(fresh_db_url, "PIPE_KEY") == [1, 2]


async def test_a_permission_refusal_is_the_same_and_writes_nothing(
    carol: PostgresBackend, fresh_db_url: str
) -> None:
    params = _save_params("CAROL_KEY", "x", None, ENV_STAGING)
    old = await _refusal(_old_path(carol, SAVE, params))
    new = await _refusal(carol.write_one(SAVE, params))
    assert (type(new), str(new)) == (type(old), str(old))
    assert _versions(fresh_db_url, "CAROL_KEY") == []


async def _values_cursor_of(core: PgCore) -> Any:
    """The cursor the pool's (one) connection keeps for ``write_one_values``, if any."""
    assert core._pool is not None
    conn = await core._pool.getconn()
    try:
        return getattr(conn, pool_module._VALUES_CURSOR, None)
    finally:
        await core._pool.putconn(conn)


async def _save(backend: PostgresBackend, value: str, expected: int | None) -> Configuration:
    return await backend.save_configuration(
        PROJECT_STOREFRONT,
        None,
        "CURSOR_KEY",
        value,
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=expected,
    )


async def test_saves_reuse_their_connections_cursor_and_a_refusal_leaves_nothing_on_it(
    alice: PostgresBackend, fresh_db_url: str
) -> None:
    """``save_configuration`` reads its row on a cursor its connection keeps
    (``pool._values_cursor``): the model is the stored row's, a refusal on that cursor comes
    out as usual and leaves nothing for the next save, and a connection made after a
    reconnect gets a cursor of its own."""

    async def stored() -> Configuration:
        rows = await alice.list_configurations(PROJECT_STOREFRONT, None)
        return next(r for r in rows if r.key == "CURSOR_KEY")

    first = await _save(alice, "v1", None)
    assert first == await stored()
    cursor = await _values_cursor_of(alice)
    assert cursor is not None
    with pytest.raises(Conflict) as caught:
        await _save(alice, "stale", 7)
    assert caught.value.current_version == 1
    second = await _save(alice, "v2", 1)
    assert (second.version, second.value) == (2, "v2")
    assert second == await stored()
    assert await _values_cursor_of(alice) is cursor
    assert _versions(fresh_db_url, "CURSOR_KEY") == [1, 2]

    _terminate_all(fresh_db_url)
    await asyncio.sleep(0.05)
    # The helper's checkout did not mark the connection fresh: the pool's check finds it
    # closed and the save gets a new connection.
    third = await _save(alice, "v3", 2)
    assert (third.version, third.value) == (3, "v3")
    assert await _values_cursor_of(alice) is not cursor
    assert _versions(fresh_db_url, "CURSOR_KEY") == [1, 2, 3]


async def _session_of(core: PgCore) -> tuple[Any, ...]:
    """Who a pooled connection is outside any unit of work: its session's role and claims."""
    assert core._pool is not None
    async with core._pool.connection() as conn:
        cur = await conn.execute(
            "select current_user, auth.uid(), current_setting('request.jwt.claims', true),"
            " current_setting('request.headers', true), pg_backend_pid()"
        )
        row = await cur.fetchone()
    assert row is not None
    return tuple(row)


def _terminate_all(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )


async def test_every_pooled_connection_acts_as_the_user_also_after_a_reconnect(
    carol: PostgresBackend, fresh_db_url: str
) -> None:
    """Carol is a viewer: her save is refused by the database on the pool's first connection
    and, after the server dropped it, on the one the pool made in its place; both sessions are
    hers (role ``authenticated``, her uid), never the login role's."""
    params = _save_params("CAROL_SESSION_KEY", "x", None)
    user, uid, _claims, _headers, first_pid = await _session_of(carol)
    assert (user, uid) == ("authenticated", CAROL.id)
    refused = await _refusal(carol.write_one(SAVE, params))
    assert not isinstance(refused, Unavailable)

    _terminate_all(fresh_db_url)
    await asyncio.sleep(0.05)
    with pytest.raises(Unavailable):  # found closed before anything was sent
        await carol.write_one(SAVE, params)
    again = await _refusal(carol.write_one(SAVE, params))
    assert (type(again), str(again)) == (type(refused), str(refused))
    user, uid, _claims, _headers, pid = await _session_of(carol)
    assert pid != first_pid
    assert (user, uid) == ("authenticated", CAROL.id)
    assert _versions(fresh_db_url, "CAROL_SESSION_KEY") == []


async def test_a_machines_connections_never_act_as_a_user(fresh_db_url: str) -> None:
    """A machine-token backend's pool: ``anon``, no user in the claims, its token header; a
    user's RPC is refused on its connections, also on one made after a reconnect."""
    core = PgCore(fresh_db_url, machine_token="not-a-real-token", min_size=1, max_size=1)
    await core._open()
    try:
        for _ in range(2):
            user, uid, claims, headers, _pid = await _session_of(core)
            assert (user, uid) == ("anon", None)
            assert json.loads(claims) == {"role": "anon"}
            assert json.loads(headers) == {"x-devsync-token": "not-a-real-token"}
            refused = await _refusal(
                core.write_one(SAVE, _save_params("MACHINE_SESSION_KEY", "x", None))
            )
            assert not isinstance(refused, Unavailable)
            assert _versions(fresh_db_url, "MACHINE_SESSION_KEY") == []
            _terminate_all(fresh_db_url)
            await asyncio.sleep(0.05)
            with pytest.raises(Unavailable):
                await core.write_one("select 1")
    finally:
        await core._close()


async def test_a_connection_whose_impersonation_is_refused_never_serves(
    alice: PostgresBackend, fresh_db_url: str
) -> None:
    """The pool's connections impersonate as they join it; one that the server refuses it to
    is closed and never used, so nothing runs with the login role's rights: the write waits
    for a connection in vain and is "not applied" (``Unavailable``), and nothing is written."""
    await alice._close()
    alice._session_impersonation = (
        "select set_config('role', 'no_such_role', false),"
        " set_config('request.jwt.claims', %s, false)",
        (alice.claims,),
    )
    alice._acquire_timeout = 1.0
    alice._pool = alice._make_pool()
    await alice._pool.open(wait=False)
    with pytest.raises(Unavailable) as caught:
        await alice.write_one(SAVE, _save_params("IMPERSONATION_KEY", "x", None))
    assert not isinstance(caught.value, OutcomeUnknown)
    with pytest.raises(Unavailable):
        await alice.fetch_one("select 1")
    assert _versions(fresh_db_url, "IMPERSONATION_KEY") == []


async def test_a_connection_the_server_closed_while_idle_is_not_applied(
    alice: PostgresBackend, fresh_db_url: str
) -> None:
    """Returned less than FRESH_SECONDS ago, the connection is not pinged; that the server
    closed it is found before the statement is sent, so the caller hears "not applied", not
    "unknown"."""
    await alice.write_one(SAVE, _save_params("CLOSED_KEY", "v1", None))
    _terminate_all(fresh_db_url)
    await asyncio.sleep(0.05)
    with pytest.raises(Unavailable) as caught:
        await alice.write_one(SAVE, _save_params("CLOSED_KEY", "v2", 1))
    assert not isinstance(caught.value, OutcomeUnknown)
    assert _versions(fresh_db_url, "CLOSED_KEY") == [1]


async def test_a_closing_seen_on_the_socket_is_found_without_a_round_trip(
    fresh_db_url: str,
) -> None:
    """Over TCP the first sends after the server's FIN still succeed (on loopback the RST
    comes back at once; over a real network the whole request could be gone by then), so the
    one-statement write reads what is already on the socket before sending anything."""
    proxy = await TcpProxy(fresh_db_url).start()
    conn = await psycopg.AsyncConnection.connect(proxy.url, autocommit=True)
    try:
        await conn.execute("select 1")
        _still_open(conn)  # alive: nothing to read, nothing raised
        proxy.hang_up()
        await asyncio.sleep(0.05)
        with pytest.raises(psycopg.OperationalError):
            _still_open(conn)
    finally:
        await conn.close()
        await proxy.close()


async def test_the_watchdog_still_severs_a_write_and_says_unknown(alice: PostgresBackend) -> None:
    alice._op_timeout = 0.25  # a write may take twice that
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OutcomeUnknown):
        await alice.write_one("select pg_sleep(5)")
    assert loop.time() - started < 3.0


@pytest.mark.parametrize(("marker", "saved"), [(SYNC, True), (b"cut-marker-v2", False)])
async def test_a_cut_once_the_statement_went_out_is_unknown(
    fresh_db_url: str, marker: bytes, saved: bool
) -> None:
    """The proxy forwards up to the end of the request holding the marker, then cuts: through
    the Sync the save committed (autocommit), through the statement's Execute alone (the value
    is in its Bind) it ran but never committed; the caller cannot tell which and hears
    ``OutcomeUnknown`` both times."""
    proxy = await TcpProxy(fresh_db_url).start()
    backend = PostgresBackend(proxy.url, "alice", embedded=False, min_size=1, max_size=1)
    try:
        await backend.connect()
        await backend.write_one(SAVE, _save_params("CUT_PIPE", "v1", None))
        fired = proxy.cut_on(marker, forward=True)
        with pytest.raises(OutcomeUnknown):
            await backend.write_one(SAVE, _save_params("CUT_PIPE", "cut-marker-v2", 1))
        assert fired.is_set()
        expected = [1, 2] if saved else [1]
        for _ in range(50):  # the server may still be finishing the statement it was given
            if _versions(fresh_db_url, "CUT_PIPE") == expected:
                break
            await asyncio.sleep(0.05)
        assert _versions(fresh_db_url, "CUT_PIPE") == expected
    finally:
        await backend.close()
        await proxy.close()
