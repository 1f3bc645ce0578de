"""Refused writes say precisely what is wrong, on a real database (local transport) and in the
Supabase mapping of the same PostgreSQL errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devsync_tui.backend.errors import InvalidInput, NotFound
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.supabase.errors import map_postgrest_error
from devsync_tui.core.models import Role
from devsync_tui.core.wording import count, with_article
from tests.support import demo

pytestmark = pytest.mark.db

LONG = "x" * 300


@pytest.fixture
async def alice(fresh_db_url: str) -> AsyncIterator[PostgresBackend]:
    backend = PostgresBackend(fresh_db_url, "alice", embedded=False)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


async def _refusal(call: object) -> str:
    with pytest.raises(InvalidInput) as info:
        await call  # type: ignore[misc]
    return str(info.value)


async def test_member_refusals_name_the_user(alice: PostgresBackend) -> None:
    with pytest.raises(NotFound) as info:
        await alice.add_member(demo.TEAM_ACME, "nosuchuser", Role.MEMBER)
    assert str(info.value) == 'No user is named "nosuchuser".'
    sentence = await _refusal(alice.add_member(demo.TEAM_ACME, "bob", Role.VIEWER))
    assert sentence == '"bob" is already a member of this team.'


async def test_too_long_names_give_the_limit(alice: PostgresBackend) -> None:
    env = (await alice.list_environments(demo.PROJECT_STOREFRONT))[0]
    templates = await alice.list_templates(demo.PROJECT_STOREFRONT)
    assert await _refusal(alice.create_environment(demo.PROJECT_STOREFRONT, LONG)) == (
        "An environment name must have 1 to 200 characters."
    )
    assert await _refusal(alice.rename_environment(env.id, LONG)) == (
        "An environment name must have 1 to 200 characters."
    )
    assert await _refusal(alice.create_project(demo.TEAM_ACME, LONG)) == (
        "A project name must have 1 to 200 characters."
    )
    assert await _refusal(alice.update_project(demo.PROJECT_STOREFRONT, name=LONG)) == (
        "A project name must have 1 to 200 characters."
    )
    assert await _refusal(alice.rename_team(demo.TEAM_ACME, LONG)) == (
        "A team name must have 1 to 200 characters."
    )
    assert await _refusal(alice.create_template(demo.PROJECT_STOREFRONT, LONG, {}, [])) == (
        "A template name must have 1 to 200 characters."
    )
    # Nothing was half-written.
    assert await alice.list_templates(demo.PROJECT_STOREFRONT) == templates
    assert all(e.name != LONG for e in await alice.list_environments(demo.PROJECT_STOREFRONT))


async def test_taken_names_say_what_and_where(alice: PostgresBackend) -> None:
    envs = await alice.list_environments(demo.PROJECT_STOREFRONT)
    first, second = envs[0], envs[1]
    assert await _refusal(alice.rename_environment(first.id, second.name)) == (
        "An environment with that name already exists in this project."
    )
    assert await _refusal(alice.update_project(demo.PROJECT_BILLING, name="storefront")) == (
        "A project with that name already exists in this team."
    )
    assert await _refusal(alice.create_team("Other", "acme")) == (
        'A team with slug "acme" already exists.'
    )


@pytest.mark.parametrize(
    ("code", "message", "sentence"),
    [
        (
            "23514",
            'new row for relation "environments" violates check constraint '
            '"environments_name_check"',
            "An environment name must have 1 to 200 characters.",
        ),
        (
            "23505",
            'duplicate key value violates unique constraint "environments_project_id_name_key"',
            "An environment with that name already exists in this project.",
        ),
        (
            "23514",
            'new row for relation "teams" violates check constraint "teams_name_printable"',
            "Names and labels may not contain control characters (escape sequences, line breaks).",
        ),
        (
            "23505",
            '"bob" is already a member of this team',
            '"bob" is already a member of this team.',
        ),
        # A check DevSync has no sentence for: PostgreSQL's message is not passed on (it may
        # name internals), on the Supabase transport as on the local one.
        ("23514", "some other check", "A value is not allowed here."),
    ],
)
def test_supabase_maps_the_same_constraints(code: str, message: str, sentence: str) -> None:
    mapped = map_postgrest_error(code, message, None)
    assert isinstance(mapped, InvalidInput)
    assert str(mapped) == sentence


def test_counts_and_articles() -> None:
    assert count(1, "line") == "1 line"
    assert count(2, "line") == "2 lines"
    assert count(0, "env") == "0 envs"
    assert count(1234, "package") == "1,234 packages"
    assert count(2, "entry", "entries") == "2 entries"
    assert with_article("environment") == "an environment"
    assert with_article("team") == "a team"
    assert with_article("env template") == "an env template"
