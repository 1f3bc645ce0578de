"""machine.targets as a library: empty names are refused, ``project/env`` with the same project,
and which link chose a target (``Target.link``); real PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.machine import links
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.targets import (
    TargetQuery,
    find_environment,
    find_project,
    link_scope,
    linked_as,
    resolve_target,
)
from tests.support import demo

pytestmark = pytest.mark.db

OpenAs = Callable[[str], Awaitable[Backend]]


@pytest.mark.parametrize(
    "query", [TargetQuery(env=""), TargetQuery(project=""), TargetQuery(project="x", env=" ")]
)
async def test_an_empty_name_is_refused(open_as: OpenAs, query: TargetQuery) -> None:
    bob = await open_as("bob")
    links.save(*await link_scope(bob, None), demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    with pytest.raises(InputError, match=r"^--(env|project) takes a name or an id, not an empty"):
        await resolve_target(bob, query, require_environment=False)


async def test_project_slash_env_within_the_same_project(open_as: OpenAs) -> None:
    alice = await open_as("alice")
    storefront = await find_project(alice, "storefront")
    project, env = await find_environment(alice, "storefront/ci-runner", storefront)
    assert (project.id, env.id) == (demo.PROJECT_STOREFRONT, demo.ENV_CI_RUNNER)
    with pytest.raises(InputError, match="names project 'billing-api', but --project names"):
        await find_environment(alice, "billing-api/ci-runner", storefront)


async def test_the_target_knows_which_link_chose_it(
    open_as: OpenAs, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = await open_as("bob")
    shop = home / "shop"
    (shop / ".git").mkdir(parents=True)
    other = home / "other"
    other.mkdir()
    links.save(*await link_scope(bob, None), demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, cwd=shop)
    monkeypatch.chdir(shop)
    own = await resolve_target(bob, TargetQuery())
    assert own.link is not None
    assert linked_as(own.link) == "the environment linked to this checkout"
    monkeypatch.chdir(other)
    machine = await resolve_target(bob, TargetQuery())
    assert machine == own  # the same target, chosen by another link
    assert machine.link is not None
    assert linked_as(machine.link) == (
        f"this machine's environment, linked last from {shop.resolve()}"
    )
    named = await resolve_target(bob, TargetQuery(env="bob-laptop"))
    assert (named, named.link) == (own, None)


async def test_project_slash_env_where_the_env_name_holds_a_slash(open_as: OpenAs) -> None:
    # An environment may be named "qa env/x": storefront/qa env/x is read at each "/" in turn
    # (at the last one first, for team/project/env), not only at the last.
    alice = await open_as("alice")
    made = await alice.create_environment(demo.PROJECT_STOREFRONT, "qa env/x")
    project, env = await find_environment(alice, "storefront/qa env/x", None)
    assert (project.id, env.id) == (demo.PROJECT_STOREFRONT, made.id)
    storefront = await find_project(alice, "storefront")
    assert (await find_environment(alice, "storefront/qa env/x", storefront))[1].id == made.id
    project, env = await find_environment(alice, "acme/storefront/ci-runner", None)
    assert env.id == demo.ENV_CI_RUNNER
    with pytest.raises(InputError, match="No project named 'storefront/nowhere'"):
        await find_environment(alice, "storefront/nowhere/x", None)
