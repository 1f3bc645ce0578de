"""Backend contract, machine config states: report, read back, key versions, the live feed;
on both transports (conftest.TRANSPORTS), as users and as a machine token."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from devsync_tui.backend.errors import InvalidInput, PermissionDenied
from devsync_tui.backend.live import ChangeEvent, LinkChanged
from devsync_tui.core import clock
from devsync_tui.core.config_states import ConfigStateInput, DriftState
from devsync_tui.core.models import ConfigType
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db

S, BOB_ENV, STAGING = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, demo.ENV_STAGING

REPORT = [
    ConfigStateInput("LOG_LEVEL", DriftState.BEHIND, 3, 1),
    ConfigStateInput("DATABASE_URL", DriftState.DIFFERS, 1),
    ConfigStateInput("ONLY_HERE", DriftState.ONLY_LOCAL),
    ConfigStateInput("STRIPE_SECRET_KEY", DriftState.MISSING, 2),
]


async def test_an_env_owner_reports_and_members_read(transport: Transport) -> None:
    bob, carol = await transport.open("bob"), await transport.open("carol")
    assert await bob.report_config_states(BOB_ENV, REPORT) == 4
    seen = await carol.config_states(S)  # a viewer reads states, never values
    mine = [s for s in seen if s.environment_id == BOB_ENV]
    assert [(s.key, s.state, s.synced_version, s.behind_version) for s in mine] == [
        ("DATABASE_URL", "differs", 1, None),
        ("LOG_LEVEL", "behind", 3, 1),
        ("ONLY_HERE", "only_local", None, None),
        ("STRIPE_SECRET_KEY", "missing", 2, None),
    ]
    assert all(s.observed_at is not None for s in mine)
    assert await carol.config_states(S, [STAGING]) == []
    # a new report replaces the set
    assert await bob.report_config_states(BOB_ENV, REPORT[:1]) == 1
    assert [s.key for s in await bob.config_states(S, [BOB_ENV])] == ["LOG_LEVEL"]
    with pytest.raises(PermissionDenied):
        await carol.report_config_states(BOB_ENV, REPORT)
    with pytest.raises(PermissionDenied):
        await bob.report_config_states(STAGING, REPORT)
    mallory = await transport.open("mallory")
    assert await mallory.config_states(S) == []


async def test_bad_reports_are_refused_whole(transport: Transport) -> None:
    bob = await transport.open("bob")
    await bob.report_config_states(BOB_ENV, REPORT)
    twice = [
        ConfigStateInput("A", DriftState.IN_SYNC, 1),
        ConfigStateInput("A", DriftState.IN_SYNC, 1),
    ]
    for bad in (
        twice,
        [ConfigStateInput("A", DriftState.BEHIND, 2)],  # behind without the version
        [ConfigStateInput("", DriftState.IN_SYNC, 1)],
        [ConfigStateInput("A\nB", DriftState.IN_SYNC, 1)],
    ):
        with pytest.raises(InvalidInput):
            await bob.report_config_states(BOB_ENV, bad)
    assert len(await bob.config_states(S, [BOB_ENV])) == 4


async def test_key_versions_give_plain_values_never_secrets(transport: Transport) -> None:
    alice = await transport.open("alice")
    # bob's laptop overrides LOG_LEVEL: its versions are the override's
    stored = await alice._stored(S, BOB_ENV, "LOG_LEVEL")
    assert stored is not None
    await alice.save_configuration(
        S,
        BOB_ENV,
        "LOG_LEVEL",
        "trace",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=stored.version,
    )
    versions = await alice.key_versions(BOB_ENV, ["LOG_LEVEL", "DATABASE_URL", "NOPE"])
    log = [v for v in versions if v.key == "LOG_LEVEL"]
    assert [v.version for v in log] == sorted(v.version for v in log)
    assert log[-1].value == "trace"
    assert log[-1].changed_by == "alice"
    secret = [v for v in versions if v.key == "DATABASE_URL"]
    assert secret
    assert all(v.is_secret and v.value is None for v in secret)
    assert await alice.key_versions(BOB_ENV, []) == []


async def test_a_machine_reports_its_own_environment_only(transport: Transport) -> None:
    bob = await transport.open("bob")
    made = await bob.create_machine_token(BOB_ENV, "ci box", clock.now() + timedelta(days=1))
    machine = await transport.open_machine(made.token)
    assert await machine.report_config_states(BOB_ENV, REPORT) == 4
    with pytest.raises(PermissionDenied):
        await machine.report_config_states(STAGING, REPORT)
    with pytest.raises(PermissionDenied):
        await machine.config_states(S)
    versions = await machine.key_versions(BOB_ENV, ["LOG_LEVEL", "DATABASE_URL"])
    assert {v.key for v in versions} == {"LOG_LEVEL", "DATABASE_URL"}
    assert all(v.value is None for v in versions if v.is_secret)
    with psycopg.connect(transport.db_url) as su:
        rows = su.execute(
            "select count(*) from machine_config_states where environment_id = %s", (BOB_ENV,)
        ).fetchone()
    assert rows == (4,)
    assert next(s.key for s in await bob.config_states(S, [BOB_ENV])) == "DATABASE_URL"


async def test_a_report_reaches_others_as_one_event(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    feed = alice.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))
    many = [ConfigStateInput(f"KEY_{i:03}", DriftState.IN_SYNC, 1) for i in range(300)]
    await bob.report_config_states(BOB_ENV, many)
    event = await next_event(
        feed, lambda e: isinstance(e, ChangeEvent) and e.table == "machine_config_states"
    )
    assert (event.environment_id, event.project_id, event.team_id) == (
        BOB_ENV,
        S,
        demo.TEAM_ACME,
    )
    assert event.row is None  # states are re-read by the view, per environment
    await feed.aclose()  # type: ignore[attr-defined]
