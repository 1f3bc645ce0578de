"""Which team, project or environment a name means (core.targets): the one matching rule,
and where ``devsync --team/--project/--env`` opens."""

from __future__ import annotations

from uuid import UUID

from devsync_tui.core.models import Environment, Project, Team
from devsync_tui.core.targets import (
    ambiguity,
    first_project,
    match_environments,
    match_projects,
    match_teams,
    resolve_target,
)

OWNER = UUID(int=99)
ZETA = Team(id=UUID(int=1), name="Zeta", slug="zeta", owner_id=OWNER)
ACME = Team(id=UUID(int=2), name="Acme", slug="acme", owner_id=OWNER)
SHOP = Project(id=UUID(int=10), team_id=ACME.id, name="storefront")
API = Project(id=UUID(int=11), team_id=ZETA.id, name="api")


def _env(n: int, project: Project, name: str) -> Environment:
    return Environment(id=UUID(int=n), project_id=project.id, user_id=OWNER, name=name)


LAPTOP = _env(20, SHOP, "bob-laptop")
ENVS = {SHOP.id: (LAPTOP,), API.id: ()}


def test_names_slugs_and_ids_all_work_case_blind() -> None:
    teams, projects = (ZETA, ACME), (SHOP, API)
    assert resolve_target(teams, projects, ENVS, "ACME", None, None) == (ACME.id, None, None)
    assert resolve_target(teams, projects, ENVS, None, "StoreFront", None) == (
        ACME.id,
        SHOP.id,
        None,
    )
    assert resolve_target(teams, projects, ENVS, None, str(SHOP.id), "bob-laptop") == (
        ACME.id,
        SHOP.id,
        LAPTOP.id,
    )


def test_nothing_matching_or_nothing_asked_is_none() -> None:
    teams, projects = (ZETA, ACME), (SHOP, API)
    assert resolve_target(teams, projects, ENVS, None, None, None) is None
    assert resolve_target(teams, projects, ENVS, "nope", None, None) is None
    assert resolve_target(teams, projects, ENVS, "zeta", "storefront", None) is None
    assert resolve_target(teams, projects, ENVS, None, "storefront", "staging") is None


def test_first_project_is_by_name() -> None:
    assert first_project((ZETA, ACME), (API, SHOP)) == (ACME.id, SHOP.id, None)
    empty = Team(id=UUID(int=3), name="Aaa", slug="aaa", owner_id=OWNER)
    assert first_project((ZETA, empty), (API,)) == (empty.id, None, None)
    assert first_project((), ()) is None


# -- the one matching rule (core.targets.match), the same for the CLI and the dashboard --------
UPPER_API = Project(id=UUID(int=12), team_id=ACME.id, name="API")
LOWER_API = Project(id=UUID(int=13), team_id=ZETA.id, name="api")


def test_exact_name_wins_over_a_match_in_another_case() -> None:
    projects = (UPPER_API, LOWER_API)
    assert match_projects((ZETA, ACME), projects, "api") == [LOWER_API]
    assert match_projects((ZETA, ACME), projects, "API") == [UPPER_API]
    # Neither exact: both match, in the order given (the CLI names them; see machine.targets).
    assert match_projects((ZETA, ACME), projects, "Api") == [UPPER_API, LOWER_API]


def test_ids_match_in_any_case_and_only_as_ids() -> None:
    assert match_projects((), (SHOP, API), str(SHOP.id).upper()) == [SHOP]
    named_like_an_id = Project(id=UUID(int=14), team_id=ACME.id, name=str(API.id))
    assert match_projects((), (API, named_like_an_id), str(API.id)) == [API]


def test_team_slash_project_names_the_team_by_slug_name_or_id() -> None:
    teams, projects = (ZETA, ACME), (UPPER_API, LOWER_API)
    assert match_projects(teams, projects, "acme/api") == [UPPER_API]
    assert match_projects(teams, projects, "Zeta/API") == [LOWER_API]
    assert match_projects(teams, projects, f"{ZETA.id}/api") == [LOWER_API]
    assert match_projects(teams, projects, "nobody/api") == []
    # A project whose own name holds a slash is found by that name first.
    slashed = Project(id=UUID(int=15), team_id=ACME.id, name="acme/api")
    assert match_projects(teams, (*projects, slashed), "acme/api") == [slashed]


def test_teams_answer_to_their_slug_and_environments_to_their_name() -> None:
    assert match_teams((ZETA, ACME), "ACME") == [ACME]
    assert match_teams((ZETA, ACME), "zeta") == [ZETA]
    assert match_environments((LAPTOP,), "BOB-Laptop") == [LAPTOP]
    assert match_environments((LAPTOP,), "laptop") == []


def test_the_dashboard_follows_the_same_rule() -> None:
    teams, projects = (ZETA, ACME), (UPPER_API, LOWER_API, SHOP)
    envs = {SHOP.id: (LAPTOP,)}
    assert resolve_target(teams, projects, envs, None, "api", None) == (ZETA.id, LOWER_API.id, None)
    assert resolve_target(teams, projects, envs, None, "API", None) == (ACME.id, UPPER_API.id, None)
    # Ambiguous: the dashboard opens on the first candidate in the order it was given.
    assert resolve_target(teams, projects, envs, None, "Api", None) == (
        ACME.id,
        UPPER_API.id,
        None,
    )
    assert ambiguity(teams, projects, envs, None, "Api", None) == (
        f"“Api” names several: {ACME.slug}/API, {ZETA.slug}/api; showing the first."
    )
    assert ambiguity(teams, projects, envs, None, "api", None) is None
    assert ambiguity(teams, projects, envs, "acme", "Storefront", "BOB-LAPTOP") is None
    assert resolve_target(teams, projects, envs, None, "zeta/API", None) == (
        ZETA.id,
        LOWER_API.id,
        None,
    )
    assert resolve_target(teams, projects, envs, "acme", "Storefront", "BOB-LAPTOP") == (
        ACME.id,
        SHOP.id,
        LAPTOP.id,
    )


def test_an_environment_alone_or_as_project_slash_env() -> None:
    """The dashboard takes ``--env`` as the data commands do: ``P/E`` names E in P (``team/P/E``
    too), and a bare name is looked for in every project, in the tree's order."""
    staging_api = _env(30, API, "staging")
    staging_shop = _env(31, SHOP, "staging")
    envs = {SHOP.id: (LAPTOP, staging_shop), API.id: (staging_api,)}
    teams, projects = (ZETA, ACME), (SHOP, API)
    shop_laptop = (ACME.id, SHOP.id, LAPTOP.id)
    assert resolve_target(teams, projects, envs, None, None, "bob-laptop") == shop_laptop
    assert resolve_target(teams, projects, envs, None, None, "storefront/bob-laptop") == shop_laptop
    assert resolve_target(teams, projects, envs, None, None, "acme/storefront/bob-laptop") == (
        shop_laptop
    )
    assert resolve_target(teams, projects, envs, None, None, str(LAPTOP.id)) == shop_laptop
    # With --project P, --env P/E is accepted for that same project only.
    assert resolve_target(teams, projects, envs, None, "storefront", "storefront/bob-laptop") == (
        shop_laptop
    )
    assert resolve_target(teams, projects, envs, None, "api", "storefront/bob-laptop") is None
    # A bare name in two projects: the first in the tree (Acme before Zeta), the other named.
    assert resolve_target(teams, projects, envs, None, None, "staging") == (
        ACME.id, SHOP.id, staging_shop.id,
    )  # fmt: skip
    assert ambiguity(teams, projects, envs, None, None, "staging") == (
        "“staging” names several: storefront/staging, api/staging; showing the first."
    )
    assert resolve_target(teams, projects, envs, "zeta", None, "staging") == (
        ZETA.id, API.id, staging_api.id,
    )  # fmt: skip
    assert ambiguity(teams, projects, envs, None, None, "api/staging") is None
    assert resolve_target(teams, projects, envs, None, None, "nowhere") is None
