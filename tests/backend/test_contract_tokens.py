"""Machine tokens through the Backend contract, on every transport (local: anon +
``request.headers`` set per transaction; Supabase: the anon key and the ``x-devsync-token``
header, on the fake project whose PostgREST hands every header to SQL): the same SQL decides.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest
from psycopg import AsyncCursor
from psycopg.rows import DictRow

from devsync_tui.backend.base import ChangeEvent, LinkChanged
from devsync_tui.backend.errors import PermissionDenied, TokenRefused
from devsync_tui.backend.machine import MACHINE_ONLY, MachineBackend
from devsync_tui.backend.postgres.machine import PostgresMachineCalls
from devsync_tui.core import clock
from devsync_tui.core.models import (
    ConfigType,
    DependencyInput,
    DependencyStatus,
    EnvStatus,
    HealthPoint,
    MetricType,
    PackageManager,
)
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db

S, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


async def _bob_machine(transport: Transport) -> tuple[str, MachineBackend]:
    bob = await transport.open("bob")
    made = await bob.create_machine_token(BOB_ENV, "ci box", clock.now() + timedelta(days=1))
    return made.token, await transport.open_machine(made.token)


async def test_a_machine_reads_and_reveals_exactly_its_environment(transport: Transport) -> None:
    _token, machine = await _bob_machine(transport)
    assert machine.machine.environment.id == BOB_ENV
    assert [p.name for p in await machine.list_projects()] == ["storefront"]
    bob = await transport.open("bob")
    theirs = await bob.effective_configuration(BOB_ENV)
    mine = await machine.effective_configuration(BOB_ENV)
    assert mine == theirs
    secret = next(r for r in mine if r.key == "DATABASE_URL")
    assert secret.value is None
    assert (await machine.reveal_secret(secret.configuration_id)).startswith("postgres://bob:")
    with pytest.raises(PermissionDenied, match="bob-laptop only"):
        await machine.effective_configuration(demo.ENV_STAGING)
    staging = await (await transport.open("erin")).effective_configuration(demo.ENV_STAGING)
    sentry = next(r for r in staging if r.key == "SENTRY_DSN")
    with pytest.raises(PermissionDenied):
        await machine.reveal_secret(sentry.configuration_id)


async def test_a_machine_reports_its_dependencies_health_and_status(transport: Transport) -> None:
    _token, machine = await _bob_machine(transport)
    package = DependencyInput(
        PackageManager.NPM, "left-pad", "^1.3.0", "1.3.0", DependencyStatus.OUTDATED
    )
    assert await machine.report_dependencies(S, BOB_ENV, [package]) == 1
    reported = await machine.list_dependencies(S, environment_ids=[BOB_ENV])
    assert [(d.package_name, d.status) for d in reported] == [("left-pad", "outdated")]
    point = HealthPoint(MetricType.CPU, {"value": 3.5}, clock.now())
    assert await machine.report_health(BOB_ENV, [point]) == 1
    env = await machine.set_environment_status(BOB_ENV, EnvStatus.ACTIVE, clock.now())
    assert env.status == EnvStatus.ACTIVE
    assert await machine.ping() >= 0
    with pytest.raises(PermissionDenied):
        await machine.report_dependencies(S, None, [package])  # not the baseline
    with pytest.raises(PermissionDenied):
        await machine.list_dependencies(S, environment_ids=[None, BOB_ENV])


async def test_everything_else_is_refused_in_one_sentence(transport: Transport) -> None:
    _token, machine = await _bob_machine(transport)
    refused = [
        machine.list_teams(),
        machine.list_members(demo.TEAM_ACME),
        machine.save_configuration(
            S, BOB_ENV, "X", "1", is_secret=False, type=ConfigType.ENV_VAR, expected_version=None
        ),
        machine.list_configurations(S, BOB_ENV),
        machine.audit_log(demo.TEAM_ACME),
        machine.rollup_health(),
        machine.create_machine_token(BOB_ENV, "more", None),
        machine.project_configuration(S),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied) as caught:
            await call
        assert str(caught.value) == MACHINE_ONLY


async def test_revoked_and_expired_tokens_are_refused_at_once(transport: Transport) -> None:
    token, machine = await _bob_machine(transport)
    bob = await transport.open("bob")
    listed = await bob.list_machine_tokens(S)
    assert [t.name for t in listed] == ["ci box"]
    assert listed[0].state(clock.now()) == "active"
    await bob.revoke_machine_token(listed[0].id)
    with pytest.raises(TokenRefused, match=r"^This machine token was revoked \(on "):
        await machine.effective_configuration(BOB_ENV)
    with pytest.raises(TokenRefused, match="was revoked"):
        await transport.open_machine(token)

    second = await bob.create_machine_token(BOB_ENV, "second", None)
    with psycopg.connect(transport.db_url, autocommit=True) as conn:
        conn.execute(
            "update machine_tokens set expires_at = now() - interval '1 minute' where id = %s",
            (second.id,),
        )
    with pytest.raises(TokenRefused) as caught:
        await transport.open_machine(second.token)
    assert str(caught.value).startswith("This machine token has expired (on ")
    assert second.token[4:] not in str(caught.value)
    with pytest.raises(TokenRefused, match="not valid"):
        await transport.open_machine("dsm_" + "0" * 64)


async def test_who_may_create_list_and_revoke(transport: Transport) -> None:
    carol, dave = await transport.open("carol"), await transport.open("dave")
    with pytest.raises(PermissionDenied):
        await carol.create_machine_token(BOB_ENV, "viewer", None)
    with pytest.raises(PermissionDenied):
        await dave.create_machine_token(BOB_ENV, "member", None)
    erin = await transport.open("erin")
    made = await erin.create_machine_token(demo.ENV_STAGING, "staging ci", None)
    assert await dave.list_machine_tokens() == []
    with pytest.raises(PermissionDenied):
        await dave.revoke_machine_token(made.id)
    assert [t.id for t in await erin.list_machine_tokens()] == [made.id]


async def test_a_machine_notices_changes_by_polling(transport: Transport) -> None:
    _token, machine = await _bob_machine(transport)
    stream = machine.changes()
    assert isinstance(await next_event(stream, lambda e: True), LinkChanged)
    bob = await transport.open("bob")
    await bob.save_configuration(
        S, BOB_ENV, "NEW_FLAG", "1", is_secret=False, type=ConfigType.ENV_VAR, expected_version=None
    )
    event = await next_event(stream, lambda e: isinstance(e, ChangeEvent), within=5)
    assert event.table == "configurations"
    assert event.environment_id == BOB_ENV
    # a change it does not get (staging's) is not an event
    erin = await transport.open("erin")
    await erin.save_configuration(
        S,
        demo.ENV_STAGING,
        "OTHER",
        "1",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 1.0)
    await stream.aclose()


async def test_the_token_travels_as_postgrest_hands_it_to_sql(transport: Transport) -> None:
    """Supabase: the anon key and the header on every machine request, no session. Local: each
    transaction is anon with ``request.headers`` holding the token, as PostgREST sets it."""
    token, machine = await _bob_machine(transport)
    await machine.effective_configuration(BOB_ENV)
    if transport.fake is not None:
        sent = [r for r in transport.fake.requests if "/rpc/machine_" in r.path]
        assert sent
        for request in sent:
            assert request.headers["x-devsync-token"] == token
            assert request.headers["authorization"] == f"Bearer {transport.fake.anon_key}"
            assert request.headers["apikey"] == transport.fake.anon_key
        return
    calls = machine.calls
    assert isinstance(calls, PostgresMachineCalls)

    async def seen(cur: AsyncCursor[DictRow]) -> list[DictRow]:
        await cur.execute(
            "select current_user as role, current_setting('request.headers', true)::json"
            " ->> 'x-devsync-token' as token"
        )
        return await cur.fetchall()

    assert await calls.core.read(seen) == [{"role": "anon", "token": token}]


@pytest.mark.parametrize(
    ("who", "scope_env", "allowed"),
    [
        ("alice", None, True),
        ("erin", BOB_ENV, True),
        ("dave", None, False),  # a member may write defaults, not this one
        ("bob", BOB_ENV, False),  # not even the env owner
        ("carol", None, False),
    ],
)
async def test_execution_control_keys_are_admins_only(
    transport: Transport, who: str, scope_env: object, allowed: bool
) -> None:
    user = await transport.open(who)
    env = BOB_ENV if scope_env is not None else None
    save = user.save_configuration(
        S,
        env,
        "NODE_OPTIONS",
        "--require=./x.js",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    if allowed:
        assert (await save).version == 1
        return
    with pytest.raises(PermissionDenied) as caught:
        await save
    if who != "carol":
        assert str(caught.value) == (
            "Only team admins may set or change NODE_OPTIONS: it decides which programs run."
        )
    assert "--require" not in str(caught.value)
