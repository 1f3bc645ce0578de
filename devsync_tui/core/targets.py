"""Where the dashboard opens: ``--team`` / ``--project`` / ``--env`` resolved against what the
user can see, else the first project (teams and projects in name order).

Shared by the main screen and the warm start, which reads the opening view ahead of the UI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from devsync_tui.core.models import Environment, Project, Team

#: A tree position: (team, project or None, environment or None).
TreeKey = tuple[UUID, UUID | None, UUID | None]


def _match(name: str, ident: object, query: str) -> bool:
    return query.lower() in (name.lower(), str(ident))


def resolve_target(
    teams: Sequence[Team],
    projects: Sequence[Project],
    environments: Mapping[UUID, Sequence[Environment]],
    team_q: str | None,
    project_q: str | None,
    env_q: str | None,
) -> TreeKey | None:
    """The tree position the queries (names, slugs or ids) name, or None if nothing matches
    or nothing was asked."""
    chosen: Sequence[Team] = teams
    if team_q:
        chosen = [t for t in teams if team_q.lower() in (t.name.lower(), t.slug, str(t.id))]
        if not chosen:
            return None
    team_ids = {t.id for t in chosen}
    if not project_q:
        return (chosen[0].id, None, None) if team_q and chosen else None
    for project in projects:
        if project.team_id in team_ids and _match(project.name, project.id, project_q):
            if not env_q:
                return (project.team_id, project.id, None)
            for env in environments.get(project.id, ()):
                if _match(env.name, env.id, env_q):
                    return (project.team_id, project.id, env.id)
            return None
    return None


def first_project(teams: Sequence[Team], projects: Sequence[Project]) -> TreeKey | None:
    """The first project of the first team by name; the team itself if it has none."""
    for team in sorted(teams, key=lambda t: t.name.lower()):
        for project in sorted(projects, key=lambda p: p.name.lower()):
            if project.team_id == team.id:
                return (team.id, project.id, None)
        return (team.id, None, None)
    return None
