"""What the dashboard reads to open: the tree's data, and a project's or environment's
configuration rows. One definition for the main screen, answered at once by the opening read
or by the cached last view (``backend.answer_now``); it imports no UI."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.core.models import EffectiveConfigRow, Environment, Project, Role, Team


@dataclass(frozen=True, slots=True)
class WorkspaceData:
    teams: tuple[Team, ...]
    projects: tuple[Project, ...]
    environments: dict[UUID, tuple[Environment, ...]]
    usernames: dict[UUID, str]
    roles: dict[UUID, Role]


async def read_workspace(backend: Backend) -> WorkspaceData:
    """Teams, projects, environments and member names: what the tree shows."""
    teams = await backend.list_teams()
    roles = await backend.my_roles()
    projects = await backend.list_projects()
    environments: dict[UUID, tuple[Environment, ...]] = {}
    for project in projects:
        environments[project.id] = tuple(await backend.list_environments(project.id))
    usernames: dict[UUID, str] = {}
    for team in teams:
        for member in await backend.list_members(team.id):
            if member.username:
                usernames[member.user_id] = member.username
    return WorkspaceData(tuple(teams), tuple(projects), environments, usernames, roles)


async def read_rows(
    backend: Backend, project_id: UUID, environment_id: UUID | None
) -> tuple[EffectiveConfigRow, ...]:
    """An environment's effective configuration, or (None) the project's defaults, by key."""
    if environment_id is not None:
        rows = await backend.effective_configuration(environment_id)
    else:
        rows = await backend.project_configuration(project_id)
    return tuple(sorted(rows, key=lambda r: r.key.lower()))
