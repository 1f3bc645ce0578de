"""Backend contract: ``open_workspace``, the dashboard's opening view in one round trip.

It must answer exactly what the separate reads it replaces answer (same transports as
test_contract.py, real PostgreSQL, demo users), secrets masked, each answer handed out once.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.call_keys import call_key
from devsync_tui.core.models import EffectiveConfigRow, Team
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db


async def separate_reads(backend: Backend) -> dict[object, object]:
    """What the dashboard read before, one call at a time, by call key."""
    answers: dict[object, object] = {
        call_key("whoami", (), {}): await backend.whoami(),
        call_key("my_roles", (), {}): await backend.my_roles(),
        call_key("list_teams", (), {}): await backend.list_teams(),
        call_key("list_projects", (), {}): await backend.list_projects(),
    }
    for project in await backend.list_projects():
        key = call_key("list_environments", (project.id,), {})
        answers[key] = await backend.list_environments(project.id)
    for team in await backend.list_teams():
        answers[call_key("list_members", (team.id,), {})] = await backend.list_members(team.id)
    return answers


def rows_of(answers: dict[object, object], name: str, scope: UUID) -> list[EffectiveConfigRow]:
    found = answers[call_key(name, (scope,), {})]
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize("who", ["alice", "carol", "mallory"])
async def test_opening_answers_what_the_separate_reads_do(transport: Transport, who: str) -> None:
    backend = await transport.open(who)
    if transport.fake is not None:
        transport.fake.requests.clear()
    opening = await backend.open_workspace()
    assert opening is not None
    if transport.fake is not None:  # one HTTP request, nothing before or after it
        assert [r.path for r in transport.fake.requests] == ["/rest/v1/rpc/open_workspace"]
    expected = await separate_reads(backend)
    tree = {k: v for k, v in opening.answers.items() if k[0] in {k2[0] for k2 in expected}}
    assert tree == expected
    assert (opening.identity, opening.roles) == (await backend.whoami(), await backend.my_roles())
    views = {k: v for k, v in opening.answers.items() if k not in expected}
    if who == "mallory":  # in no team: nothing to open
        assert views == {}
        assert expected[call_key("list_teams", (), {})] == []
        return
    # No project named: the first project (by name) of the first team (by name): billing-api
    assert list(views) == [call_key("project_configuration", (demo.PROJECT_BILLING,), {})]
    got = rows_of(opening.answers, "project_configuration", demo.PROJECT_BILLING)
    assert got == await backend.project_configuration(demo.PROJECT_BILLING)
    assert all(row.value is None for row in got if row.is_secret)
    assert any(row.is_secret for row in got)
    assert all(row.updated_by for row in got)


@pytest.mark.parametrize(
    ("project", "environment", "scope"),
    [
        ("storefront", None, ("project_configuration", demo.PROJECT_STOREFRONT)),
        ("STOREFRONT", None, ("project_configuration", demo.PROJECT_STOREFRONT)),
        ("acme/storefront", None, ("project_configuration", demo.PROJECT_STOREFRONT)),
        (str(demo.PROJECT_STOREFRONT), None, ("project_configuration", demo.PROJECT_STOREFRONT)),
        ("storefront", "bob-laptop", ("effective_configuration", demo.ENV_BOB_LAPTOP)),
        (
            "storefront",
            str(demo.ENV_STAGING).upper(),
            ("effective_configuration", demo.ENV_STAGING),
        ),
    ],
)
async def test_opening_of_a_named_scope(
    transport: Transport, project: str, environment: str | None, scope: tuple[str, UUID]
) -> None:
    backend = await transport.open("carol")  # a viewer: every secret masked
    opening = await backend.open_workspace(project, environment)
    assert opening is not None
    name, scope_id = scope
    got = rows_of(opening.answers, name, scope_id)
    if name == "effective_configuration":
        assert got == await backend.effective_configuration(scope_id)
    else:
        assert got == await backend.project_configuration(scope_id)
    assert got
    assert all(row.value is None for row in got if row.is_secret)
    if name == "effective_configuration":  # and its template, for the required keys
        env = next(
            e for e in await backend.list_environments(demo.PROJECT_STOREFRONT) if e.id == scope_id
        )
        templates = {k: v for k, v in opening.answers.items() if k[0] == "template"}
        if env.template_id is None:
            assert templates == {}
        else:
            assert templates == {
                call_key("template", (env.template_id,), {}): await backend.template(
                    env.template_id
                )
            }


async def test_nothing_matches_then_no_rows(transport: Transport) -> None:
    backend = await transport.open("alice")
    opening = await backend.open_workspace("no-such-project", "nor-env")
    assert opening is not None
    assert not [k for k in opening.answers if "configuration" in k[0]]
    assert opening.answers[call_key("list_teams", (), {})]  # the tree is there all the same


async def test_each_answer_is_handed_out_once(transport: Transport) -> None:
    backend = await transport.open("alice")

    async def teams_of(b: Backend) -> list[Team]:
        return await b.list_teams()

    assert backend.answer_now(teams_of) is None  # nothing opened yet
    await backend.open_workspace("storefront")

    async def storefront_rows(b: Backend) -> list[EffectiveConfigRow]:
        return await b.project_configuration(demo.PROJECT_STOREFRONT)

    async def billing_rows(b: Backend) -> list[EffectiveConfigRow]:
        return await b.project_configuration(demo.PROJECT_BILLING)

    assert backend.answer_now(teams_of) == await backend.list_teams()
    assert backend.answer_now(teams_of) is None  # used up: the next read is live
    assert backend.answer_now(billing_rows) is None  # not opened: read it from the database
    assert backend.answer_now(storefront_rows) == await storefront_rows(backend)
    assert backend.answer_now(storefront_rows) is None
