"""The pool asks a connection whether it is alive before a unit of work, except when that
connection finished a unit less than ``FRESH_SECONDS`` ago (one round trip saved per write);
a connection that died meanwhile still fails before anything is sent."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from devsync_tui.backend.postgres import pool as pool_module
from devsync_tui.backend.postgres.pool import _Liveness


async def test_a_connection_returned_just_now_is_not_pinged(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    liveness = _Liveness(2.0)
    pings: list[object] = []

    async def counted(conn: object) -> None:
        pings.append(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", counted)
    conn = await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True)
    try:
        await liveness.check(conn)  # never used: asked
        assert len(pings) == 1
        liveness.returned(conn)
        await liveness.check(conn)  # returned just now: not asked
        assert len(pings) == 1
        await liveness.check(conn)  # the mark is used once: asked again
        assert len(pings) == 2
        monkeypatch.setattr(pool_module, "FRESH_SECONDS", 0.0)
        liveness.returned(conn)
        await liveness.check(conn)  # returned longer ago than FRESH_SECONDS: asked
        assert len(pings) == 3
    finally:
        await conn.close()


async def test_a_stale_dead_connection_is_found_out(fresh_db_url: str) -> None:
    liveness = _Liveness(2.0)
    conn = await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True)
    await liveness.check(conn)
    await conn.close()
    with pytest.raises(psycopg.Error):
        await liveness.check(conn)
