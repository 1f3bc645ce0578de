"""What the dashboard reads to open: the tree's data, and a project's or environment's
configuration rows. One definition for the main screen, answered at once by the opening read
or by the cached last view (``backend.answer_now``); it imports no UI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.core.models import (
    EffectiveConfigRow,
    Environment,
    EnvStatus,
    Project,
    Role,
    Team,
)


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


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def tree_document(document: Mapping[str, Any], data: WorkspaceData) -> dict[str, Any]:
    """``document`` (an ``open_workspace`` answer) with the tree as ``data`` has it now: the
    teams, projects, environments and roles read since (a renamed team, a new environment),
    the members' names brought up to date. What a cached last view keeps, so that the tree it
    shows again is the one the user last saw, not the one DevSync opened with."""
    teams = [
        {
            "id": str(t.id), "name": t.name, "slug": t.slug, "owner_id": str(t.owner_id),
            "created_at": _when(t.created_at), "updated_at": _when(t.updated_at),
        }
        for t in data.teams
    ]  # fmt: skip
    projects = [
        {
            "id": str(p.id), "team_id": str(p.team_id), "name": p.name,
            "description": p.description, "repository_url": p.repository_url,
            "created_at": _when(p.created_at), "updated_at": _when(p.updated_at),
        }
        for p in data.projects
    ]  # fmt: skip
    environments = [
        {
            "id": str(e.id), "project_id": str(e.project_id), "user_id": str(e.user_id),
            "name": e.name, "status": EnvStatus(e.status).value,
            "template_id": None if e.template_id is None else str(e.template_id),
            "last_sync_at": _when(e.last_sync_at), "created_at": _when(e.created_at),
        }
        for envs in data.environments.values()
        for e in envs
    ]  # fmt: skip
    roles = [{"team_id": str(team), "role": role.value} for team, role in data.roles.items()]
    team_ids = {str(t.id) for t in data.teams}
    members = []
    for row in document.get("members") or ():
        if str(row.get("team_id")) not in team_ids:
            continue  # a team left since
        name = data.usernames.get(UUID(str(row["user_id"])))
        members.append({**row, "username": name} if name and "profiles" not in row else row)
    return {
        **document,
        "teams": teams,
        "projects": projects,
        "environments": environments,
        "roles": roles,
        "members": members,
    }
