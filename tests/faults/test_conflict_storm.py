"""Conflict storm: 32 clients edit the same 20 keys for 30 s (DEVSYNC_STORM_SECONDS).

Every client is its own PostgresBackend (own connection) acting as a demo user who may write
project defaults. Each save names the version the client last saw. The checks: no lost update
(every accepted write is in the history exactly once, at the version the RPC returned, with
the value the client sent), every rejected write was reported as a Conflict carrying the
version then stored, versions are gap-free, and nothing else went wrong.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field

import psycopg
import pytest

from devsync_tui.backend.errors import Conflict
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType
from tests.support.demo import PROJECT_STOREFRONT as STOREFRONT

CLIENTS = 32
KEYS = [f"STORM_{i:02d}" for i in range(20)]
WRITERS = ("alice", "bob", "dave", "erin")  # admins and members may write project defaults


@dataclass
class Ledger:
    accepted: list[tuple[str, int, str]] = field(default_factory=list)  # key, version, value
    conflicts: int = 0
    conflict_versions_ok: bool = True
    other_errors: list[str] = field(default_factory=list)


async def _client(n: int, db_url: str, deadline: float, ledger: Ledger) -> None:
    backend = PostgresBackend(
        db_url, WRITERS[n % len(WRITERS)], embedded=False, min_size=1, max_size=1
    )
    await backend.connect()
    rng = random.Random(n)
    seen: dict[str, int | None] = {}
    try:
        rows = await backend.list_configurations(STOREFRONT, None)
        seen = {r.key: r.version for r in rows if r.key in KEYS}
        i = 0
        while time.monotonic() < deadline:
            i += 1
            key = rng.choice(KEYS)
            value = f"client{n}-write{i}"
            try:
                saved = await backend.save_configuration(
                    STOREFRONT,
                    None,
                    key,
                    value,
                    is_secret=False,
                    type=ConfigType.ENV_VAR,
                    expected_version=seen.get(key),
                )
            except Conflict as exc:
                ledger.conflicts += 1
                if exc.current_version is None or (
                    seen.get(key) is not None and exc.current_version <= (seen[key] or 0)
                ):
                    ledger.conflict_versions_ok = False
                seen[key] = exc.current_version
            except Exception as exc:  # anything else is a failure of the storm
                ledger.other_errors.append(f"{type(exc).__name__}: {exc}")
                return
            else:
                ledger.accepted.append((key, saved.version, value))
                seen[key] = saved.version
    finally:
        await backend.close()


def _storm_seconds() -> float:
    return float(os.environ.get("DEVSYNC_STORM_SECONDS", "30"))


async def test_conflict_storm_loses_nothing(fresh_db_url: str) -> None:
    setup = PostgresBackend(fresh_db_url, "alice", embedded=False)
    await setup.connect()
    for key in KEYS:
        await setup.save_configuration(
            STOREFRONT,
            None,
            key,
            "start",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    await setup.close()

    ledger = Ledger()
    deadline = time.monotonic() + _storm_seconds()
    await asyncio.gather(*(_client(n, fresh_db_url, deadline, ledger) for n in range(CLIENTS)))

    assert ledger.other_errors == []
    assert ledger.accepted, "no write was accepted"
    assert ledger.conflicts > 0, "32 clients on 20 keys must collide"
    assert ledger.conflict_versions_ok, "a Conflict did not carry a newer stored version"

    with psycopg.connect(fresh_db_url) as conn:
        for key in KEYS:
            row = conn.execute(
                "select id, version, value from public.configurations "
                "where project_id = %s and environment_id is null and key = %s",
                (STOREFRONT, key),
            ).fetchone()
            assert row is not None
            config_id, final_version, final_value = row
            history = conn.execute(
                "select version, value from public.configuration_history "
                "where configuration_id = %s and op <> 'delete' order by version",
                (config_id,),
            ).fetchall()
            mine = sorted((v, val) for k, v, val in ledger.accepted if k == key)
            # version 1 is the setup write; every later version is exactly one accepted write
            assert [v for v, _ in history] == list(range(1, final_version + 1)), key
            assert history[1:] == mine, f"history of {key} differs from the accepted writes"
            if mine:
                assert final_value == mine[-1][1]


pytestmark = pytest.mark.db
