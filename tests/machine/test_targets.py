"""machine.targets: names and ids to a project and environment, with this checkout's link as
the default; real PostgreSQL, called as a library."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import psycopg
import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.machine import links
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.targets import (
    TargetQuery,
    find_environment,
    find_project,
    link_scope,
    only_project,
    resolve_target,
)
from tests.support import demo

pytestmark = pytest.mark.db

OpenAs = Callable[[str], Awaitable[Backend]]


def _add_project(db_url: str, name: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into public.projects (team_id, name) values (%s, %s)", (demo.TEAM_ACME, name)
        )


async def test_projects_by_name_in_any_case_by_team_and_by_id(open_as: OpenAs) -> None:
    alice = await open_as("alice")
    assert (await find_project(alice, "STOREFRONT")).id == demo.PROJECT_STOREFRONT
    assert (await find_project(alice, "acme/Billing-API")).id == demo.PROJECT_BILLING
    assert (await find_project(alice, str(demo.PROJECT_BILLING))).id == demo.PROJECT_BILLING
    with pytest.raises(InputError, match=r"No project named 'shop' \(yours: billing-api, store"):
        await find_project(alice, "shop")
    with pytest.raises(InputError, match="No project with id"):
        await find_project(alice, "00000000-0000-4000-c000-00000000ffff")


async def test_an_exact_name_wins_and_ambiguity_is_named(
    open_as: OpenAs, fresh_db_url: str
) -> None:
    _add_project(fresh_db_url, "Storefront")
    alice = await open_as("alice")
    assert (await find_project(alice, "storefront")).id == demo.PROJECT_STOREFRONT
    assert (await find_project(alice, "Storefront")).id != demo.PROJECT_STOREFRONT
    with pytest.raises(InputError) as ambiguous:
        await find_project(alice, "STOREFRONT")
    assert str(ambiguous.value) == (
        "Project name 'STOREFRONT' is ambiguous; use one of: acme/Storefront, acme/storefront."
    )


async def test_environments_by_name_path_and_id(open_as: OpenAs) -> None:
    alice = await open_as("alice")
    project, env = await find_environment(alice, "CI-Runner", None)
    assert (project.id, env.id) == (demo.PROJECT_STOREFRONT, demo.ENV_CI_RUNNER)
    project, env = await find_environment(alice, "Storefront/ci-runner", None)
    assert env.id == demo.ENV_CI_RUNNER
    project, env = await find_environment(alice, str(demo.ENV_CI_RUNNER).upper(), None)
    assert env.id == demo.ENV_CI_RUNNER
    storefront = await find_project(alice, "storefront")
    with pytest.raises(InputError, match="No environment 'nope' in project storefront"):
        await find_environment(alice, "nope", storefront)


async def test_an_unknown_name_lists_what_there_is_and_the_nearest(open_as: OpenAs) -> None:
    alice = await open_as("alice")
    storefront = await find_project(alice, "storefront")
    with pytest.raises(InputError) as typo:
        await find_environment(alice, "stagin", storefront)
    assert str(typo.value) == (
        "No environment 'stagin' in project storefront is visible to you (its environments: "
        "bob-laptop, ci-runner, staging); did you mean 'staging'?"
    )
    with pytest.raises(InputError) as anywhere:
        await find_environment(alice, "CI-RUNER", None)
    assert str(anywhere.value) == (
        "No environment 'CI-RUNER' is visible to you (visible: billing-api/alice-mbp, "
        "storefront/bob-laptop, storefront/ci-runner, storefront/staging); did you mean "
        "'ci-runner'?"
    )
    with pytest.raises(InputError) as far:
        await find_environment(alice, "production", storefront)
    assert str(far.value).endswith("(its environments: bob-laptop, ci-runner, staging).")
    with pytest.raises(InputError) as by_id:
        await find_environment(alice, "00000000-0000-4000-d000-00000000ffff", storefront)
    assert str(by_id.value) == (
        "No environment with id 00000000-0000-4000-d000-00000000ffff in project storefront "
        "is visible to you."
    )
    with pytest.raises(InputError) as project:
        await find_project(alice, "store")
    assert str(project.value) == (
        "No project named 'store' (yours: billing-api, storefront); did you mean 'storefront'?"
    )


async def test_the_link_is_the_default_target(open_as: OpenAs) -> None:
    bob = await open_as("bob")
    with pytest.raises(InputError, match="No environment is linked to this checkout"):
        await resolve_target(bob, TargetQuery())
    scope = await link_scope(bob, None)
    links.save(*scope, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    target = await resolve_target(bob, TargetQuery())
    assert target.label == "storefront/bob-laptop"
    # --project of another project: its defaults, not the link.
    other = await resolve_target(bob, TargetQuery(project="billing-api"), require_environment=False)
    assert other.label == "billing-api (project defaults)"


async def test_which_project_when_none_is_named(open_as: OpenAs) -> None:
    with pytest.raises(InputError, match=r"Which project\? Pass --project \(one of: billing"):
        await only_project(await open_as("alice"))
    with pytest.raises(InputError, match="No project is visible to you yet"):
        await only_project(await open_as("mallory"))
