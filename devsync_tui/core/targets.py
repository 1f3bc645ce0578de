"""Which team, project or environment a name the user typed means: the one matching rule, for
the command line (``machine/targets.py``) and the dashboard (``devsync --team/--project/--env``).

The rule:

- an id (a UUID, in any letter case) matches that id and nothing else;
- otherwise a name matches exactly; only when nothing matches exactly does it match without
  regard to letter case (``storefront`` finds ``Storefront``; with both ``api`` and ``API``
  visible, ``api`` is ``api`` and ``Api`` is ambiguous). A team also answers to its slug;
- a project may be written ``team/project`` (the team by slug, name or id) when the whole text
  is not itself a project's name;
- more than one match is ambiguous: the command line names the candidates and stops; the
  dashboard opens on the first of them in its tree order and says which others there were
  (:func:`ambiguity`).

Also where the dashboard opens without a query (:func:`first_project`). Used by the main
screen, on live data and on the cached last view alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar
from uuid import UUID

from devsync_tui.core.models import Environment, Project, Team

#: A tree position: (team, project or None, environment or None).
TreeKey = tuple[UUID, UUID | None, UUID | None]


class _Named(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


#: The flags that name something, in the order they are checked, and what each takes.
NAMING_FLAGS: dict[str, str] = {
    "profile": "a profile's name",
    "user": "a user's name",
    "team": "a name or an id",
    "project": "a name or an id",
    "env": "a name or an id",
}


def empty_name(flag: str, value: str | None) -> str | None:
    """Why ``--flag`` given empty (``--user ""``, or only spaces) is refused: it names nothing
    and must not silently mean the default (alice, the default profile, the linked
    environment); None when ``value`` is absent or names something."""
    if value is None or value.strip():
        return None
    return f"--{flag} takes {NAMING_FLAGS.get(flag, 'a name')}, not an empty string."


def as_uuid(text: str) -> UUID | None:
    """``text`` as an id, or None when it is not one."""
    try:
        return UUID(text)
    except ValueError:
        return None


def match(
    items: Sequence[N], query: str, aliases: Callable[[N], Sequence[str]] = lambda _item: ()
) -> list[N]:
    """The items ``query`` names by the rule above (id; exact name; name in any case), in
    their given order. ``aliases`` are further names of an item (a team's slug)."""
    wanted = as_uuid(query)
    if wanted is not None:
        return [item for item in items if item.id == wanted]
    exact = [item for item in items if query in (item.name, *aliases(item))]
    if exact:
        return exact
    folded = query.casefold()
    return [
        item
        for item in items
        if folded in (name.casefold() for name in (item.name, *aliases(item)))
    ]


def _slug(team: Team) -> Sequence[str]:
    return (team.slug,)


def match_teams(teams: Sequence[Team], query: str) -> list[Team]:
    """The teams ``query`` names (id, name or slug)."""
    return match(teams, query, _slug)


def match_projects(teams: Sequence[Team], projects: Sequence[Project], query: str) -> list[Project]:
    """The projects ``query`` names: an id, a name, or ``team/name`` when no project is named
    the whole text (``teams`` are needed only then)."""
    found = match(projects, query)
    if found or "/" not in query:
        return found
    team_query, _, name = query.rpartition("/")
    team_ids = {team.id for team in match_teams(teams, team_query)}
    return match([p for p in projects if p.team_id in team_ids], name)


def match_environments(environments: Sequence[Environment], query: str) -> list[Environment]:
    """The environments ``query`` names (id or name)."""
    return match(environments, query)


def resolve_target(
    teams: Sequence[Team],
    projects: Sequence[Project],
    environments: Mapping[UUID, Sequence[Environment]],
    team_q: str | None,
    project_q: str | None,
    env_q: str | None,
) -> TreeKey | None:
    """The tree position the dashboard's queries name (the first match where several do), or
    None if nothing matches or nothing was asked."""
    chosen: Sequence[Team] = teams
    if team_q:
        chosen = match_teams(teams, team_q)
        if not chosen:
            return None
    if env_q:
        places = _environments(chosen, projects, environments, project_q, env_q)
        if not places:
            return None
        project, env = places[0]
        return (project.team_id, project.id, env.id)
    if not project_q:
        return (chosen[0].id, None, None) if team_q else None
    candidates = _projects(chosen, projects, project_q)
    if not candidates:
        return None
    return (candidates[0].team_id, candidates[0].id, None)


def ambiguity(
    teams: Sequence[Team],
    projects: Sequence[Project],
    environments: Mapping[UUID, Sequence[Environment]],
    team_q: str | None,
    project_q: str | None,
    env_q: str | None,
) -> str | None:
    """A sentence naming the candidates when a query names several (the dashboard opened the
    first of them), else None."""
    chosen: Sequence[Team] = match_teams(teams, team_q) if team_q else teams
    if team_q and len(chosen) > 1:
        return _several(team_q, [t.slug for t in chosen])
    if not chosen:
        return None
    if project_q:
        candidates = _projects(chosen, projects, project_q)
        if len(candidates) > 1:
            slugs = {t.id: t.slug for t in teams}
            return _several(
                project_q, [f"{slugs.get(p.team_id, p.team_id)}/{p.name}" for p in candidates]
            )
    if not env_q:
        return None
    places = _environments(chosen, projects, environments, project_q, env_q)
    if len(places) < 2:
        return None
    if len({project.id for project, _ in places}) == 1:
        return _several(env_q, [env.name for _, env in places])
    return _several(env_q, [f"{project.name}/{env.name}" for project, env in places])


def _projects(chosen: Sequence[Team], projects: Sequence[Project], query: str) -> list[Project]:
    """The projects of the ``chosen`` teams ``query`` names."""
    team_ids = {t.id for t in chosen}
    return match_projects(chosen, [p for p in projects if p.team_id in team_ids], query)


def _environments(
    chosen: Sequence[Team],
    projects: Sequence[Project],
    environments: Mapping[UUID, Sequence[Environment]],
    project_q: str | None,
    env_q: str,
) -> list[tuple[Project, Environment]]:
    """The environments ``env_q`` names, with their projects, as the command line finds them:

    - with ``project_q``, in the first project it names; ``env_q`` may also be ``P/E`` where P
      names that same project;
    - without it, ``P/E`` names E in project P (``team/P/E`` too), and a bare name or id is
      looked for in every project of the ``chosen`` teams, in the tree's order (teams, then
      projects, by name).

    A ``P/E`` is split only when no environment is named the whole text."""
    if project_q:
        found = _projects(chosen, projects, project_q)
        scope = found[:1]
    else:
        order = {t.id: i for i, t in enumerate(sorted(chosen, key=lambda t: t.name.lower()))}
        scope = sorted(
            (p for p in projects if p.team_id in order),
            key=lambda p: (order[p.team_id], p.name.lower()),
        )
    places = [(p, e) for p in scope for e in match_environments(environments.get(p.id, ()), env_q)]
    if places or "/" not in env_q or as_uuid(env_q) is not None:
        return places
    project_part, _, env_name = env_q.rpartition("/")
    named = _projects(chosen, projects, project_part)
    if project_q:
        named = [p for p in named if p in scope]  # P/E must name the project asked for
    return [(p, e) for p in named for e in match_environments(environments.get(p.id, ()), env_name)]


def _several(query: str, names: Sequence[str]) -> str:
    return f"“{query}” names several: {', '.join(names)}; showing the first."


def first_project(teams: Sequence[Team], projects: Sequence[Project]) -> TreeKey | None:
    """The first project of the first team by name; the team itself if it has none."""
    for team in sorted(teams, key=lambda t: t.name.lower()):
        for project in sorted(projects, key=lambda p: p.name.lower()):
            if project.team_id == team.id:
                return (team.id, project.id, None)
        return (team.id, None, None)
    return None
