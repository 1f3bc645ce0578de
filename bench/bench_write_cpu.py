"""CPU per save_configuration call, client and server, for each write path (local transport).

``bench_rpc_throughput.py`` counts calls per second; on a shared 2-core machine that figure
moves with everyone else's load, and its raw reference is measured seconds apart from the
saves. This one counts CPU time instead, in alternating blocks on one connection each:

- ``raw``: a raw one-row ``UPDATE public.configurations`` in autocommit (same triggers);
- ``per-statement``: ``PgCore.write`` — BEGIN, impersonation, the RPC, COMMIT, one round trip
  each (what every save did before ``write_statement``);
- ``write_one``: ``PgCore.write_one``, what every save does: since the pooled connections
  impersonate for their whole session, the RPC alone, one autocommit statement (before that,
  figure ``pipelined``: BEGIN, impersonation, the RPC and COMMIT pipelined in one round trip);
- ``save_configuration``: ``Backend.save_configuration``, the API every caller uses (the same
  one statement, its row read as a tuple of named columns and made a ``Configuration``).

Per call: this process's CPU (``time.process_time``) plus the server backend's (utime + stime
from ``/proc/<backend pid>/stat``, so the server must run on this machine); ``extra`` gives
the two apart (medians over the blocks, the raw UPDATE's too). On a machine where
both sides compete for the cores, calls/s at saturation go roughly as 1 / (client + server
CPU), so 1 / ``ratio`` (``ratio`` = path CPU ÷ raw CPU) estimates the throughput ratio that
``bench_rpc_throughput.py`` reports (target at 32 clients: ≥ 0.8, i.e. ``ratio`` ≤ 1.25).

Usage: python bench/bench_write_cpu.py --database-url URL [--calls 1000] [--rounds 5]
(default URL: the embedded database of ``devsync local url``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, figure

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType

STOREFRONT = uuid.UUID("00000000-0000-4000-c000-000000000001")
SAVE = "select * from public.save_configuration(%s, %s, %s, %s, %s, %s, %s)"
_TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    """Seconds of CPU the server process ``pid`` has used (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class _Paths:
    """The three ways to write one value, each bumping the key's version by one."""

    def __init__(self, backend: PostgresBackend, raw: psycopg.AsyncConnection[Any]) -> None:
        self.backend, self.raw = backend, raw
        self.key = f"BENCH_CPU_{uuid.uuid4().hex[:6]}"
        self.version = 0
        self.row_id: Any = None

    def _params(self, value: str) -> tuple[Any, ...]:
        return (STOREFRONT, None, self.key, value, False, "env_var", self.version)

    async def create(self) -> None:
        row = await self.backend.write_one(
            SAVE, (STOREFRONT, None, self.key, "start", False, "env_var", None)
        )
        assert row is not None
        self.version, self.row_id = row["version"], row["id"]

    async def raw_update(self, i: int) -> None:
        await self.raw.execute(
            "update public.configurations set value = %s where id = %s", (f"r{i}", self.row_id)
        )
        self.version += 1

    async def per_statement(self, i: int) -> None:
        async def work(cur: psycopg.AsyncCursor[Any]) -> Any:
            await cur.execute(SAVE, self._params(f"s{i}"))
            return await cur.fetchone()

        self.version = (await self.backend.write(work))["version"]

    async def write_one(self, i: int) -> None:
        row = await self.backend.write_one(SAVE, self._params(f"p{i}"))
        assert row is not None
        self.version = row["version"]

    async def save_configuration(self, i: int) -> None:
        saved = await self.backend.save_configuration(
            STOREFRONT,
            None,
            self.key,
            f"c{i}",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=self.version,
        )
        self.version = saved.version


async def _block(
    call: Callable[[int], Awaitable[None]], calls: int, pid: int
) -> tuple[float, float]:
    """Microseconds of CPU per call over one block: this process's, the server backend's."""
    client, server = time.process_time(), _backend_cpu(pid)
    for i in range(calls):
        await call(i)
    client, server = time.process_time() - client, _backend_cpu(pid) - server
    return client / calls * 1e6, server / calls * 1e6


async def _measure(url: str, calls: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    backend = PostgresBackend(url, "alice", embedded=False, min_size=1, max_size=1)
    await backend.connect()
    raw = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:
        paths = _Paths(backend, raw)
        await paths.create()
        found = await backend.fetch_one("select pg_backend_pid() as pid")
        assert found is not None
        pid = int(found["pid"])
        runs = {
            "raw": (paths.raw_update, raw.info.backend_pid),
            "per_statement": (paths.per_statement, pid),
            "write_one": (paths.write_one, pid),
            "save_configuration": (paths.save_configuration, pid),
        }
        cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, (call, backend_pid) in runs.items():
                cpu[name].append(await _block(call, calls, backend_pid))
        return cpu
    finally:
        await raw.close()
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = database_url(args.database_url)
    cpu = asyncio.run(_measure(url, args.calls, args.rounds))
    raw = cpu["raw"]
    for name in ("per_statement", "write_one", "save_configuration"):
        blocks = cpu[name]
        figure(
            f"rpc.save_configuration.cpu_per_call.{name}",
            [c + s for c, s in blocks],
            "us",
            reference=[c + s for c, s in raw],
            reference_name="raw one-row UPDATE, same triggers, CPU us per call",
            # the split, medians over the blocks: this process, its server backend
            extra={
                "client_us": round(statistics.median(c for c, _ in blocks), 1),
                "server_us": round(statistics.median(s for _, s in blocks), 1),
                "raw_client_us": round(statistics.median(c for c, _ in raw), 1),
                "raw_server_us": round(statistics.median(s for _, s in raw), 1),
            },
        )


if __name__ == "__main__":
    main()
