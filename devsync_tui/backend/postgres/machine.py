"""The machine RPCs on the direct PostgreSQL transport: each call a transaction impersonating
what PostgREST does for a request with the anon key and the ``x-devsync-token`` header (role
``anon``, ``request.headers`` holding the token; ``pool.PgCore`` with ``machine_token``), so the
same SQL decides as on Supabase."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import AsyncCursor, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from devsync_tui.backend.machine import MachineCalls
from devsync_tui.backend.postgres.backend import label_for
from devsync_tui.backend.postgres.pool import PgCore
from devsync_tui.core.machine_token import MachineToken


def _param(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


def _call(fn: str, params: Mapping[str, Any]) -> str:
    """``public.<fn>(p_a => %s, …)``."""
    args = sql.SQL(", ").join(sql.SQL("{} => %s").format(sql.Identifier(name)) for name in params)
    return sql.SQL("public.{}({})").format(sql.Identifier(fn), args).as_string()


class PostgresMachineCalls(MachineCalls):
    """``select … from public.machine_*(…)`` as anon with the token header."""

    kind = "local"

    def __init__(self, conninfo: str, token: MachineToken, *, embedded: bool) -> None:
        self.label = label_for(conninfo, embedded=embedded)
        # One connection is all a machine's calls need (they run one after another).
        self.core = PgCore(conninfo, machine_token=token.value, min_size=1, max_size=2)

    async def open(self) -> None:
        await self.core._open()

    async def close(self) -> None:
        await self.core._close()

    async def _run(self, query: str, params: Mapping[str, Any], *, write: bool) -> list[DictRow]:
        values = [_param(v) for v in params.values()]

        async def work(cur: AsyncCursor[DictRow]) -> list[DictRow]:
            await cur.execute(query, values)
            return await cur.fetchall()

        return await (self.core.write(work) if write else self.core.read(work))

    async def rows(
        self, fn: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> list[dict[str, Any]]:
        params = params or {}
        found = await self._run(f"select * from {_call(fn, params)}", params, write=write)
        return [dict(r) for r in found]

    async def value(
        self, fn: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> Any:
        params = params or {}
        # to_jsonb: a scalar comes back as itself, a composite (an environments row) as a dict.
        query = f"select to_jsonb(r) as v from {_call(fn, params)} r"
        found = await self._run(query, params, write=write)
        return found[0]["v"] if found else None
