"""The cached last view keeps the tree as the dashboard last read it (a team renamed, an
environment created since DevSync connected), not the one it opened with."""

from __future__ import annotations

from uuid import uuid4

from devsync_tui.backend.opening import opening_from_document, places_from_document
from devsync_tui.core.models import Environment, EnvStatus, Project, Role, Team
from devsync_tui.dashboard import last_view
from devsync_tui.dashboard.workspace import WorkspaceData, tree_document

ME, TEAM, PROJECT, OLD_ENV = uuid4(), uuid4(), uuid4(), uuid4()


def _opening_document() -> dict[str, object]:
    return {
        "me": {"id": str(ME), "username": "alice"},
        "roles": [{"team_id": str(TEAM), "role": "admin"}],
        "teams": [{"id": str(TEAM), "name": "Old name", "slug": "acme", "owner_id": str(ME)}],
        "projects": [{"id": str(PROJECT), "team_id": str(TEAM), "name": "storefront"}],
        "environments": [
            {"id": str(OLD_ENV), "project_id": str(PROJECT), "user_id": str(ME), "name": "dev"}
        ],
        "members": [
            {"team_id": str(TEAM), "user_id": str(ME), "role": "admin", "username": "alice"}
        ],
    }


def _now() -> WorkspaceData:
    team = Team(TEAM, "New name", "acme", ME)
    project = Project(PROJECT, TEAM, "storefront")
    envs = (
        Environment(OLD_ENV, PROJECT, ME, "dev"),
        Environment(uuid4(), PROJECT, ME, "made-later", EnvStatus.ACTIVE),
    )
    return WorkspaceData((team,), (project,), {PROJECT: envs}, {ME: "alice"}, {TEAM: Role.ADMIN})


def test_the_tree_document_is_the_tree_now() -> None:
    document = tree_document(_opening_document(), _now())
    teams, projects, environments = places_from_document(document)
    assert [t.name for t in teams] == ["New name"]
    assert [p.name for p in projects] == ["storefront"]
    assert [e.name for e in environments[PROJECT]] == ["dev", "made-later"]
    assert environments[PROJECT][1].status is EnvStatus.ACTIVE
    opening = opening_from_document(document)  # still an opening a cached view can start from
    assert opening.roles == {TEAM: Role.ADMIN}


def test_the_cached_view_keeps_the_tree_it_is_given() -> None:
    view = last_view.of_view(
        _opening_document(), "LOCAL", PROJECT, None, (), ((), None), None, tree=_now()
    )
    assert view is not None
    teams, _projects, environments = places_from_document(view.document)
    assert [t.name for t in teams] == ["New name"]
    assert "made-later" in [e.name for e in environments[PROJECT]]
