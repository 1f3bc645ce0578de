"""Backend contract: the rules written once in ``backend.base`` hold on every transport
(conftest.TRANSPORTS): the current row of a conflict, redaction of revealed values, list
order, timestamps in UTC, bounds of reads, the package-name filter, the order of health reads.

Refusal sentences are compared across transports in test_contract_refusals.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from devsync_tui import logging_setup
from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import Conflict
from devsync_tui.core.models import (
    ConfigType,
    Configuration,
    DependencyInput,
    PackageManager,
)
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db


async def _save(
    user: Backend, key: str, value: str, expected: int | None, *, secret: bool = False
) -> Configuration:
    return await user.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        key,
        value,
        is_secret=secret,
        type=ConfigType.ENV_VAR,
        expected_version=expected,
    )


def _is_row(current: Any, mine: Configuration, value: str, version: int) -> bool:
    return isinstance(current, Configuration) and (current.id, current.value, current.version) == (
        mine.id,
        value,
        version,
    )


async def test_conflicts_carry_the_row_now_stored(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    mine = await _save(bob, "CURRENT_ROW", "1", None)
    await _save(alice, "CURRENT_ROW", "2", 1)
    with pytest.raises(Conflict) as saved:
        await _save(bob, "CURRENT_ROW", "3", 1)
    with pytest.raises(Conflict) as deleted:
        await bob.delete_configuration(mine.id, 1)
    history = await bob.configuration_history(
        demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "CURRENT_ROW"
    )
    with pytest.raises(Conflict) as restored:
        await bob.restore_configuration(history[-1].id, 1)
    for refused in (saved, deleted, restored):
        assert refused.value.current_version == 2
        assert _is_row(refused.value.current, mine, "2", 2)
    listed = await bob.list_configurations(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    assert [(c.value, c.version) for c in listed if c.key == "CURRENT_ROW"] == [("2", 2)]
    # Deleted in the meantime: no current row, and no version.
    await alice.delete_configuration(mine.id, 2)
    with pytest.raises(Conflict) as gone:
        await bob.restore_configuration(history[-1].id, 2)
    assert (gone.value.current, gone.value.current_version) == (None, None)


@pytest.fixture
def project_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DevSync's own log (``logging_setup.setup_logging``) in a new file, no secret registered
    yet; the loggers are put back as they were afterwards."""
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(logging_setup, "_secrets", set())
    monkeypatch.setattr(logging_setup, "_configured", False)
    loggers = [logging.getLogger(n) for n in ("devsync", *logging_setup._LIBRARY_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    logging_setup.setup_logging()
    try:
        yield logging_setup.current_log_file()
    finally:
        for lg, handlers, level, propagate in saved:
            for handler in [h for h in lg.handlers if h not in handlers]:
                lg.removeHandler(handler)
                handler.close()
            lg.setLevel(level)
            lg.propagate = propagate


async def test_revealed_values_are_redacted_in_the_log(
    transport: Transport, project_log: Path
) -> None:
    bob = await transport.open("bob")
    first, second = (f"rules-{transport.name}-{uuid4().hex}" for _ in range(2))
    secret = await _save(bob, "REDACTED_TOKEN", first, None, secret=True)
    await _save(bob, "REDACTED_TOKEN", second, 1, secret=True)
    assert logging_setup.redact(f"{first} {second}") == f"{first} {second}"  # nothing yet
    assert await bob.reveal_secret(secret.id) == second
    history = await bob.configuration_history(
        demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "REDACTED_TOKEN"
    )
    assert await bob.reveal_history_secret(history[-1].id) == first
    logging.getLogger("devsync.tests").warning("revealed %s and %s", second, first)
    for handler in logging.getLogger("devsync").handlers:
        handler.flush()
    text = await asyncio.to_thread(project_log.read_text, encoding="utf-8")
    assert "revealed •••••••• and ••••••••" in text
    assert first not in text
    assert second not in text


async def test_lists_follow_the_contract_order(transport: Transport) -> None:
    alice = await transport.open("alice")
    for name in ("beta", "Alpha", "alpha", "Gamma", "_tools"):
        await alice.create_project(demo.TEAM_ACME, name)
        await alice.create_environment(demo.PROJECT_STOREFRONT, f"{name}-box")
        await alice.create_template(demo.PROJECT_STOREFRONT, name, {}, [])
    twins = [await alice.create_team("Twin", f"twin-{i}") for i in range(2)]
    # names as a person reads them (case ignored), then the exact name, then the id
    projects = [p.name for p in await alice.list_projects(demo.TEAM_ACME)]
    assert projects == ["_tools", "Alpha", "alpha", "beta", "billing-api", "Gamma", "storefront"]
    teams = await alice.list_teams()
    assert [t.name for t in teams] == ["Acme", "Twin", "Twin"]
    assert [t.id for t in teams[1:]] == sorted(t.id for t in twins)
    for listed in (
        await alice.list_environments(demo.PROJECT_STOREFRONT),
        await alice.list_templates(demo.PROJECT_STOREFRONT),
    ):
        assert listed == sorted(listed, key=lambda x: (x.name.casefold(), x.name, x.id))
    members = [m.username or "" for m in await alice.list_members(demo.TEAM_ACME)]
    assert members == sorted(members, key=lambda name: (name.casefold(), name))
    # configuration keys exactly, code point by code point
    bob = await transport.open("bob")
    for key in ("b_key", "A_KEY", "a_key", "Z_KEY"):
        await _save(bob, key, "v", None)
    for keys in (
        [
            c.key
            for c in await bob.list_configurations(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
        ],
        [r.key for r in await bob.effective_configuration(demo.ENV_BOB_LAPTOP)],
        [r.key for r in await bob.project_configuration(demo.PROJECT_STOREFRONT)],
    ):
        assert keys == sorted(keys)


async def test_timestamps_are_utc_whatever_the_server_zone(transport: Transport) -> None:
    with psycopg.connect(transport.db_url, autocommit=True) as conn:
        database = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("alter database {} set timezone to 'Asia/Kolkata'").format(database))
    alice, bob = await transport.open("alice"), await transport.open("bob")
    await _save(bob, "ZONED", "1", None)
    stamps: list[datetime | None] = []
    stamps += [t.created_at for t in await alice.list_teams()]
    stamps += [p.updated_at for p in await alice.list_projects()]
    stamps += [e.last_sync_at for e in await alice.list_environments(demo.PROJECT_STOREFRONT)]
    stamps += [c.updated_at for c in await bob.effective_configuration(demo.ENV_BOB_LAPTOP)]
    history = await bob.configuration_history(demo.PROJECT_STOREFRONT, None, "LOG_LEVEL")
    stamps += [h.changed_at for h in history]
    deps = await bob.list_dependencies(demo.PROJECT_STOREFRONT, limit=20)
    stamps += [d.updated_at for d in deps]
    since = datetime.now(UTC) - timedelta(days=1)
    stamps += [h.recorded_at for h in await bob.health_series([demo.ENV_BOB_LAPTOP], since)]
    stamps += [a.created_at for a in await alice.audit_log(demo.TEAM_ACME, limit=20)]
    assert len([s for s in stamps if s is not None]) > 20
    assert all(s.tzinfo is UTC for s in stamps if s is not None)


async def test_newest_first_reads_ask_for_at_least_one_entry(transport: Transport) -> None:
    alice = await transport.open("alice")
    history = await alice.configuration_history(demo.PROJECT_STOREFRONT, None, "LOG_LEVEL", 0)
    assert [h.version for h in history] == [demo.STOREFRONT_LOG_LEVEL_VERSION]
    await _save(alice, "AUDITED", "1", None)
    assert [e.action for e in await alice.audit_log(demo.TEAM_ACME, limit=-3)] == ["config.create"]
    everything = await alice.list_dependencies(demo.PROJECT_STOREFRONT)
    assert await alice.list_dependencies(demo.PROJECT_STOREFRONT, limit=-1) == []
    assert await alice.list_dependencies(demo.PROJECT_STOREFRONT, offset=-5) == everything
    assert await alice.list_dependencies(demo.PROJECT_STOREFRONT, environment_ids=[]) == []


async def test_the_package_filter_is_a_plain_substring(transport: Transport) -> None:
    bob = await transport.open("bob")
    names = ["star*dust", "stardust", "star_dust", "100%-pure", "back\\slash", "STARLIGHT"]
    packages = [DependencyInput(PackageManager.NPM, n, None, "1.0.0") for n in names]
    await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, packages)
    mine = [demo.ENV_BOB_LAPTOP]
    for needle in ("r*d", "*", "r_d", "%", "k\\s", "star", "*D"):
        found = await bob.list_dependencies(
            demo.PROJECT_STOREFRONT, environment_ids=mine, name_filter=needle
        )
        expected = sorted(n for n in names if needle.casefold() in n.casefold())
        assert [d.package_name for d in found] == expected, needle
    page = await bob.list_dependencies(
        demo.PROJECT_STOREFRONT, environment_ids=mine, name_filter="*", limit=1, offset=0
    )
    assert [d.package_name for d in page] == ["star*dust"]
    assert (
        await bob.list_dependencies(
            demo.PROJECT_STOREFRONT, environment_ids=mine, name_filter="*", offset=1
        )
        == []
    )


async def test_health_reads_are_ordered_by_environment_metric_and_time(
    transport: Transport,
) -> None:
    bob = await transport.open("bob")
    since = datetime.now(UTC) - timedelta(days=1)
    envs = sorted([demo.ENV_BOB_LAPTOP, demo.ENV_STAGING], reverse=True)  # not in id order
    series = await bob.health_series(envs, since)
    assert {p.environment_id for p in series} == set(envs)
    assert series == sorted(series, key=lambda p: (p.environment_id, p.metric_type, p.recorded_at))
    sparklines = [
        (s.environment_id, s.metric_type) for s in await bob.health_sparklines(envs, since, 1440)
    ]
    assert {s[0] for s in sparklines} == set(envs)
    assert sparklines == sorted(sparklines)
    # 400 ids (on Supabase two calls of 250 environments: a page holds 1,000 rows, 4 each),
    # the unknown ones contribute nothing: the same answer, in the same order
    many = [*envs, *(uuid4() for _ in range(398))]
    until = datetime.now(UTC)
    alone = await bob.health_sparklines(envs, since, 60, until=until)
    assert {s.environment_id for s in alone} == set(envs)
    assert await bob.health_sparklines(many, since, 60, until=until) == alone
    latest = [(p.environment_id, p.metric_type) for p in await bob.health_latest(envs, since)]
    assert latest == sorted(latest)
