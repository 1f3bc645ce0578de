"""Where ``devsync --team/--project/--env`` opens (core.targets)."""

from __future__ import annotations

from uuid import UUID

from devsync_tui.core.models import Environment, Project, Team
from devsync_tui.core.targets import first_project, resolve_target

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
