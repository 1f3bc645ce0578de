"""Backend contract: the same refusal reads the same on every transport.

Every transport of conftest.TRANSPORTS is opened over one fresh database; each scenario is run
on each, and the error class and sentence must be equal. Some sentences are also stated here
(they are the contract's own, ``backend.refusals``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from devsync_tui.backend import refusals
from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core.models import (
    ConfigType,
    DependencyInput,
    HealthPoint,
    MetricType,
    PackageManager,
    Role,
)
from tests.backend.conftest import TRANSPORTS, Transport
from tests.faults.test_hostile_input import _deep
from tests.support import demo

pytestmark = pytest.mark.db

Users = dict[str, Backend]
Scenario = Callable[[Users, str], Awaitable[Any]]


@pytest.fixture
async def every_transport(
    request: pytest.FixtureRequest, fresh_db_url: str
) -> AsyncIterator[dict[str, Transport]]:
    """Every transport, all over the same database."""
    async with contextlib.AsyncExitStack() as stack:
        opened = {}
        for name, factory in sorted(TRANSPORTS.items()):
            opened[name] = await stack.enter_async_context(factory(request, fresh_db_url))
        yield opened


async def _save(user: Backend, key: str, value: str, expected: int | None, **kw: Any) -> Any:
    return await user.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        key,
        value,
        is_secret=kw.get("is_secret", False),
        type=ConfigType.ENV_VAR,
        expected_version=expected,
    )


async def _stripe(users: Users, _: str) -> Any:
    rows = await users["alice"].project_configuration(demo.PROJECT_STOREFRONT)
    stripe = next(r.configuration_id for r in rows if r.key == "STRIPE_SECRET_KEY")
    return await users["carol"].reveal_secret(stripe)


async def _save_conflict(users: Users, name: str) -> Any:
    key = f"RULES_SAVE_{name.upper()}"
    await _save(users["bob"], key, "1", None)
    await _save(users["alice"], key, "2", 1)
    return await _save(users["bob"], key, "3", 1)


async def _delete_conflict(users: Users, name: str) -> Any:
    key = f"RULES_DELETE_{name.upper()}"
    mine = await _save(users["bob"], key, "1", None)
    await _save(users["alice"], key, "2", 1)
    return await users["bob"].delete_configuration(mine.id, 1)


async def _restore_conflict(users: Users, name: str) -> Any:
    key = f"RULES_RESTORE_{name.upper()}"
    await _save(users["bob"], key, "1", None)
    await _save(users["bob"], key, "2", 1)
    history = await users["bob"].configuration_history(demo.PROJECT_STOREFRONT, None, key)
    return await users["bob"].restore_configuration(history[-1].id, 1)


def _packages(n: int) -> list[DependencyInput]:
    return [DependencyInput(PackageManager.NPM, f"p{i}", None, None) for i in range(n)]


def _points(n: int) -> list[HealthPoint]:
    at = datetime.now(UTC)
    return [
        HealthPoint(MetricType.CPU, {"percent": 1.0}, at + timedelta(seconds=i)) for i in range(n)
    ]


#: name → (the refused call, the sentence when the contract states it; None: the database's own).
SCENARIOS: dict[str, tuple[Scenario, str | None]] = {
    "viewer renames the team": (
        lambda u, _: u["carol"].rename_team(demo.TEAM_ACME, "x"),
        "You may not change this team.",
    ),
    "outsider renames the team": (
        lambda u, _: u["mallory"].rename_team(demo.TEAM_ACME, "x"),
        "No such team (or you may not see it).",
    ),
    "member deletes a project": (
        lambda u, _: u["bob"].delete_project(demo.PROJECT_STOREFRONT),
        "You may not change this project.",
    ),
    "outsider deletes a project": (
        lambda u, _: u["mallory"].delete_project(demo.PROJECT_STOREFRONT),
        "No such project (or you may not see it).",
    ),
    "outsider reads a project through an empty update": (
        lambda u, _: u["mallory"].update_project(demo.PROJECT_STOREFRONT),
        "No such project (or you may not see it).",
    ),
    "member renames someone else's environment": (
        lambda u, _: u["bob"].rename_environment(demo.ENV_STAGING, "mine now"),
        "You may not change this environment.",
    ),
    "a deleted environment": (
        lambda u, _: u["bob"].delete_environment(UUID(int=9)),
        "No such environment (or you may not see it).",
    ),
    "outsider reads an environment's configuration": (
        lambda u, _: u["mallory"].effective_configuration(demo.ENV_BOB_LAPTOP),
        "No such environment (or you may not see it).",
    ),
    "member reads the audit log": (
        lambda u, _: u["bob"].audit_log(demo.TEAM_ACME),
        refusals.AUDIT_ADMINS_ONLY,
    ),
    "viewer reveals a secret": (_stripe, None),
    "an unknown secret": (lambda u, _: u["alice"].reveal_secret(UUID(int=7)), None),
    "a taken slug": (lambda u, _: u["alice"].create_team("Acme again", "acme"), None),
    "a taken project name": (
        lambda u, _: u["alice"].create_project(demo.TEAM_ACME, "storefront"),
        "A project with that name already exists in this team.",
    ),
    "an escape sequence in a name": (
        lambda u, _: u["alice"].create_project(demo.TEAM_ACME, "esc \x1b[2J"),
        "Names and labels may not contain control characters (escape sequences, line breaks).",
    ),
    "a name too long": (
        lambda u, _: u["alice"].create_environment(demo.PROJECT_STOREFRONT, "x" * 300),
        "An environment name must have 1 to 200 characters.",
    ),
    "viewer creates an environment": (
        lambda u, _: u["carol"].create_environment(demo.PROJECT_STOREFRONT, "carol-box"),
        None,
    ),
    "viewer creates a project": (
        lambda u, _: u["carol"].create_project(demo.TEAM_ACME, "viewer-made"),
        None,
    ),
    "a bad key": (lambda u, _: _save(u["bob"], "1BAD KEY", "v", None), None),
    "a NUL in a value": (
        lambda u, _: _save(u["bob"], "NUL_VALUE", "a\x00b", None),
        "A value holds a character the database cannot store.",
    ),
    "an undecodable value": (
        lambda u, _: _save(u["bob"], "BAD_UTF8", "bad \udcff", None, is_secret=True),
        refusals.UNDECODABLE,
    ),
    "NaN in a template": (
        lambda u, _: u["alice"].create_template(
            demo.PROJECT_STOREFRONT, "t", {"X": float("nan")}, []
        ),
        refusals.NOT_FINITE,
    ),
    "a template nested too deeply": (
        lambda u, _: u["alice"].create_template(demo.PROJECT_STOREFRONT, "t", _deep(5000), []),
        refusals.TOO_DEEP,
    ),
    "too many packages": (
        lambda u, _: u["bob"].report_dependencies(
            demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, _packages(20_001)
        ),
        "At most 20,000 packages per report (got 20001).",
    ),
    "too many health points": (
        lambda u, _: u["bob"].report_health(demo.ENV_BOB_LAPTOP, _points(5_001)),
        "At most 5,000 health points per report (got 5001).",
    ),
    "an unknown username": (
        lambda u, _: u["alice"].add_member(demo.TEAM_ACME, "nobody-here", Role.MEMBER),
        None,
    ),
    "a member added twice": (
        lambda u, _: u["alice"].add_member(demo.TEAM_ACME, "bob", Role.VIEWER),
        None,
    ),
    "member changes a role": (
        lambda u, _: u["bob"].set_member_role(demo.TEAM_ACME, demo.ALICE.id, Role.VIEWER),
        None,
    ),
    "member rolls health up": (lambda u, _: u["bob"].rollup_health(7), None),
    "zero health slots": (
        lambda u, _: u["bob"].health_sparklines(
            [demo.ENV_BOB_LAPTOP], datetime.now(UTC) - timedelta(hours=1), 0
        ),
        None,
    ),
    "a save conflict": (_save_conflict, refusals.CONFLICT),
    "a delete conflict": (_delete_conflict, refusals.CONFLICT),
    "a restore conflict": (_restore_conflict, refusals.CONFLICT),
}


async def _refused(scenario: Scenario, users: Users, name: str) -> tuple[str, str]:
    try:
        await scenario(users, name)
    except DevSyncError as exc:
        return type(exc).__name__, str(exc)
    raise AssertionError("the call was not refused")


async def test_the_same_refusal_reads_the_same_on_every_transport(
    every_transport: dict[str, Transport],
) -> None:
    told: dict[str, dict[str, tuple[str, str]]] = {}
    for name, transport in every_transport.items():
        users = {u: await transport.open(u) for u in ("alice", "bob", "carol", "mallory")}
        told[name] = {
            what: await _refused(scenario, users, name) for what, (scenario, _) in SCENARIOS.items()
        }
    first, *others = told.values()
    for other in others:
        assert other == first
    for what, (_, stated) in SCENARIOS.items():
        sentence = first[what][1]
        assert sentence.endswith("."), (what, sentence)
        assert "\n" not in sentence, (what, sentence)
        if stated is not None:
            assert sentence == stated, what


async def test_lists_are_in_the_same_order_on_every_transport(
    every_transport: dict[str, Transport],
) -> None:
    writer = await every_transport["local"].open("alice")
    for name in ("beta", "Alpha", "alpha", "Gamma", "_tools", "Zeta"):
        await writer.create_project(demo.TEAM_ACME, name)
        await writer.create_environment(demo.PROJECT_STOREFRONT, f"{name}-box")
    for key in ("b_key", "A_KEY", "a_key", "Z_KEY"):
        await _save(writer, key, "v", None)
    seen = []
    for transport in every_transport.values():
        alice = await transport.open("alice")
        seen.append(
            (
                [p.id for p in await alice.list_projects()],
                [e.id for e in await alice.list_environments(demo.PROJECT_STOREFRONT)],
                [t.id for t in await alice.list_templates(demo.PROJECT_STOREFRONT)],
                [m.user_id for m in await alice.list_members(demo.TEAM_ACME)],
                [c.id for c in await alice.list_configurations(demo.PROJECT_STOREFRONT)],
                [r.key for r in await alice.project_configuration(demo.PROJECT_STOREFRONT)],
                [r.key for r in await alice.effective_configuration(demo.ENV_BOB_LAPTOP)],
            )
        )
    first, *others = seen
    for other in others:
        assert other == first
