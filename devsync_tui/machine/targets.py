"""What a machine-side action works on: names and ids turned into a project and an environment,
with the link (this checkout's, else this machine's) as the default.

How the target is found (``project`` and ``env`` each take a name or an id; names match by the
one rule of ``core/targets.py``: exact, else in any letter case, ambiguity named):

1. ``env`` given: that environment. A name is looked up in ``project`` if given, else in the
   linked project, else in every project the user can see (ambiguous → :class:`InputError`
   naming the candidates as ``project/env``). ``project/env`` is accepted as a name too, also
   with ``project`` when both name the same project (else :class:`InputError`).
2. no ``env``: the environment linked to this checkout, else this machine's environment (the
   machine-wide link; ``machine/links.py``: written by ``devsync env link`` and
   ``devsync agent``), if it belongs to ``project`` (when given). :attr:`Target.link` is then
   that link, and :func:`linked_as` says which of the two it is.
3. otherwise: with ``require_environment=False`` the target is the project defaults
   (``environment=None``) of ``project`` (or the linked project, or the user's only project);
   with ``require_environment=True`` an :class:`InputError` says to name the environment or
   link one.

An empty ``project`` or ``env`` (``--env ""``) is an :class:`InputError`, never "the default".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.core.models import Environment, Project
from devsync_tui.core.names import closest
from devsync_tui.core.targets import (
    as_uuid,
    empty_name,
    match,
    match_environments,
    match_projects,
)
from devsync_tui.machine import links
from devsync_tui.machine.connect import profile_name
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.links import Link

#: What a user who sees no project is told (rather than "one of: none").
NO_PROJECT = "No project is visible to you yet; an admin of a team must add you to it."


@dataclass(frozen=True, slots=True)
class Target:
    """What an action works on: a project, and one of its environments or its defaults;
    ``link``: the link that chose it when none was named (None otherwise)."""

    project: Project
    environment: Environment | None
    link: Link | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """``project/env`` or ``project (project defaults)`` for messages."""
        if self.environment is None:
            return f"{self.project.name} (project defaults)"
        return f"{self.project.name}/{self.environment.name}"


@dataclass(frozen=True, slots=True)
class TargetQuery:
    """The target as the user named it: the settings profile (whose links apply), and the
    project and environment as typed (names, ids, ``team/project``, ``project/env``)."""

    profile: str | None = None
    project: str | None = None
    env: str | None = None


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def _names(items: Sequence[_Named]) -> str:
    return ", ".join(sorted(item.name for item in items)) or "none"


def require_name(flag: str, value: str | None) -> None:
    """InputError when ``--flag`` was given empty (``--env ""``, ``--user ""``): it names
    nothing, and must not silently mean the default (``core.targets.empty_name``)."""
    problem = empty_name(flag, value)
    if problem is not None:
        raise InputError(problem)


def linked_as(link: Link) -> str:
    """What a link is, in words: ``the environment linked to this checkout``, or for the
    machine-wide link ``this machine's environment, linked last from /path/to/checkout``."""
    if not link.machine_wide:
        return "the environment linked to this checkout"
    return f"this machine's environment, linked last from {link.origin or 'another checkout'}"


async def link_scope(backend: Backend, profile: str | None) -> tuple[str, str]:
    """(profile, username) under which this machine's links are kept."""
    return profile_name(profile), (await backend.whoami()).username


async def find_project(backend: Backend, ref: str) -> Project:
    """A project by id, name, or ``team/name``; InputError when unknown or ambiguous."""
    projects = await backend.list_projects()
    # Teams are read only when they can matter: for `team/name`, or to name the candidates.
    teams = await backend.list_teams() if "/" in ref else []
    found = match_projects(teams, projects, ref)
    if len(found) == 1:
        return found[0]
    if not found:
        if as_uuid(ref) is not None:
            raise InputError(f"No project with id {ref} is visible to you.")
        close = _nearest(ref, [p.name for p in projects])
        hint = f"; did you mean {close!r}?" if close else "."
        raise InputError(f"No project named {ref!r} (yours: {_names(projects)}){hint}")
    slugs = {t.id: t.slug for t in teams or await backend.list_teams()}
    options = ", ".join(sorted(f"{slugs.get(p.team_id, p.team_id)}/{p.name}" for p in found))
    raise InputError(f"Project name {ref!r} is ambiguous; use one of: {options}.")


async def find_environment(
    backend: Backend, ref: str, project: Project | None
) -> tuple[Project, Environment]:
    """An environment by id or name in ``project`` or, without one, in any visible project
    (where ``project/env`` names it too)."""
    projects = [project] if project is not None else await backend.list_projects()
    by_id = {p.id: p for p in projects}
    environments = [e for p in projects for e in await backend.list_environments(p.id)]
    found = match_environments(environments, ref)
    splits = _splits(ref) if not found and as_uuid(ref) is None else []
    if splits:
        return await _find_split(backend, ref, splits, project)
    if len(found) == 1:
        return by_id[found[0].project_id], found[0]
    if not found:
        raise InputError(_no_environment(ref, project, environments, by_id))
    if project is not None:
        options = ", ".join(sorted(e.name for e in found))
        raise InputError(
            f"Environment {ref!r} of {project.name} is ambiguous; use one of: {options}."
        )
    options = ", ".join(sorted(f"{by_id[e.project_id].name}/{e.name}" for e in found))
    # --project helps only when the candidates are in several projects.
    hint = "pass --project or " if len({e.project_id for e in found}) > 1 else ""
    raise InputError(f"Environment {ref!r} is ambiguous; {hint}use one of: {options}.")


#: Names listed at most in a "no such environment" message (the rest are counted).
LISTED = 20


def _no_environment(
    ref: str,
    project: Project | None,
    environments: Sequence[Environment],
    projects: dict[UUID, Project],
) -> str:
    """The sentence for an environment ``ref`` that names none of ``environments``: which
    there are (``project/env`` when looking in every project) and the nearest name, if one is
    close enough to be a typo."""
    if as_uuid(ref) is not None:
        where = f" in project {project.name}" if project is not None else ""
        return f"No environment with id {ref}{where} is visible to you."
    if project is not None:
        names = sorted(e.name for e in environments)
        listed = f"its environments: {_listed(names)}" if names else "it has none"
        head = f"No environment {ref!r} in project {project.name} is visible to you ({listed})"
    else:
        names = sorted(f"{projects[e.project_id].name}/{e.name}" for e in environments)
        listed = f"visible: {_listed(names)}" if names else "none is"
        head = f"No environment {ref!r} is visible to you ({listed})"
    close = _nearest(ref, [e.name for e in environments])
    return f"{head}; did you mean {close!r}?" if close else f"{head}."


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def _nearest(ref: str, names: Sequence[str]) -> str | None:
    """The one name ``ref`` most likely meant (``core.names.closest``), or None."""
    close = closest(ref, names, limit=1)
    return close[0] if close else None


def _splits(ref: str) -> list[tuple[str, str]]:
    """The ways ``project/env`` can be read: at the last ``/`` first (``team/project/env``),
    then at each earlier one (an environment name may hold a ``/`` itself)."""
    cuts = [i for i, char in enumerate(ref) if char == "/" and 0 < i < len(ref) - 1]
    return [(ref[:i], ref[i + 1 :]) for i in reversed(cuts)]


async def _find_split(
    backend: Backend, ref: str, splits: list[tuple[str, str]], project: Project | None
) -> tuple[Project, Environment]:
    """``ref`` read as ``project/env`` (see :func:`_splits`): the first reading that names an
    environment; else the error of the first reading."""
    first: InputError | None = None
    for project_ref, name in splits:
        try:
            if project is None:
                return await find_environment(
                    backend, name, await find_project(backend, project_ref)
                )
            if await _names_project(backend, project_ref, project):
                return await find_environment(backend, name, project)
            raise InputError(
                f"Environment {ref!r} names project {project_ref!r}, but --project names "
                f"{project.name}; name the project once, or the same project in both."
            )
        except InputError as exc:
            first = first or exc
    assert first is not None
    raise first


async def _names_project(backend: Backend, ref: str, project: Project) -> bool:
    """Whether ``ref`` (name, id or ``team/name``) can name ``project`` (one of the projects
    it matches by the name rule)."""
    projects = await backend.list_projects()
    teams = await backend.list_teams() if "/" in ref else []
    return any(p.id == project.id for p in match_projects(teams, projects, ref))


def environment_named(
    environments: Sequence[Environment], name: str, project: Project
) -> Environment | None:
    """The one of ``project``'s ``environments`` that ``name`` names, None when none does;
    InputError when several do (``Laptop`` with both ``laptop`` and ``LAPTOP``)."""
    found = match_environments(environments, name)
    if len(found) > 1:
        options = ", ".join(sorted(e.name for e in found))
        raise InputError(
            f"Environment {name!r} of {project.name} is ambiguous; use one of: {options}."
        )
    return found[0] if found else None


async def linked_target(backend: Backend, profile: str | None) -> Target | None:
    """The environment linked to this checkout, else this machine's, as a Target with its
    ``link``; None when there is no link."""
    link = links.find(*await link_scope(backend, profile))
    if link is None:
        return None
    projects = {p.id: p for p in await backend.list_projects()}
    project = projects.get(link.project_id)
    if project is not None:
        for env in await backend.list_environments(project.id):
            if env.id == link.environment_id:
                return Target(project, env, link)
    raise dead_link(link)


def dead_link(link: Link) -> InputError:
    """The refusal for a link whose environment is gone or no longer visible (deleted, or its
    team left): never silently another project's or a new environment instead."""
    what = linked_as(link)
    return InputError(
        f"{what[0].upper()}{what[1:]} no longer exists or is not visible to you; "
        "pass --env or run `devsync env link --env NAME`."
    )


async def linked_environment(
    backend: Backend, profile: str | None
) -> tuple[Project, Environment] | None:
    """The environment linked to this checkout (or machine), None when there is no link."""
    target = await linked_target(backend, profile)
    if target is None or target.environment is None:
        return None
    return target.project, target.environment


def machine_target(backend: MachineBackend, query: TargetQuery) -> Target:
    """A machine's one environment. There is no choice to make: a project or environment
    named anyway must be the token's (name or id, by the one name rule), else InputError."""
    require_name("project", query.project)
    require_name("env", query.env)
    m = backend.machine
    project, env = m.project, m.environment
    env_ref, project_ref = query.env, query.project
    if env_ref and "/" in env_ref and as_uuid(env_ref) is None:
        project_ref, _, env_ref = env_ref.rpartition("/")
    team_ref, _, name_ref = (project_ref or "").rpartition("/")
    names_project = bool(match([project], project_ref or "")) or (
        bool(team_ref)
        and team_ref.casefold() in (m.team_slug.casefold(), m.team_name.casefold())
        and bool(match([project], name_ref))
    )
    if project_ref and not names_project:
        raise InputError(
            f"This machine token is for {m.label}; it cannot act for project {project_ref!r}."
        )
    if env_ref and not match_environments([env], env_ref):
        raise InputError(
            f"This machine token is for {m.label}; it cannot act for environment {env_ref!r}."
        )
    return Target(project, env)


async def resolve_target(
    backend: Backend, query: TargetQuery, *, require_environment: bool = True
) -> Target:
    """The project and environment ``query`` names (see the module docstring); a machine's
    is its token's (:func:`machine_target`)."""
    if isinstance(backend, MachineBackend):
        return machine_target(backend, query)
    require_name("project", query.project)
    require_name("env", query.env)
    project = await find_project(backend, query.project) if query.project else None
    if query.env:
        linked = None
        if project is None and as_uuid(query.env) is None and "/" not in query.env:
            try:
                linked = await linked_environment(backend, query.profile)
            except InputError:
                linked = None
        if linked is not None:
            try:
                return Target(*await find_environment(backend, query.env, linked[0]))
            except InputError:
                pass  # not in the linked project: look everywhere
        return Target(*await find_environment(backend, query.env, project))
    link_target = await linked_target(backend, query.profile)
    if link_target is not None and (project is None or link_target.project.id == project.id):
        return link_target
    if require_environment:
        raise InputError(
            "No environment is linked to this checkout; pass --env NAME "
            "or run `devsync env link --project P --env NAME`."
        )
    if project is None:
        project = await only_project(backend)
    return Target(project, None)


async def only_project(backend: Backend) -> Project:
    """The user's one project; InputError when there are none or several."""
    projects = await backend.list_projects()
    if not projects:
        raise InputError(NO_PROJECT)
    if len(projects) != 1:
        raise InputError(f"Which project? Pass --project (one of: {_names(projects)}).")
    return projects[0]
