"""Which environment ``devsync agent`` reports for: found (or created) and linked to the checkout.

Without ``--env`` the environment linked to the checkout is used, else one named after this host
(:func:`default_env_name`), created when the project has none of that name; one of that name
that belongs to another user is not claimed. The environment found is then linked to the
checkout (``machine/links.py``). A machine token names its environment: nothing to find, create
or link.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.core.models import Environment, Project
from devsync_tui.machine import links
from devsync_tui.machine.errors import InputError, named_refusal
from devsync_tui.machine.targets import (
    NO_PROJECT,
    TargetQuery,
    dead_link,
    environment_named,
    find_project,
    link_scope,
    machine_target,
)


def default_env_name() -> str:
    """This machine's name as an environment name (host name up to the first dot)."""
    name = socket.gethostname().split(".")[0].strip() or "machine"
    return name[:64]


async def register(
    backend: Backend, query: TargetQuery, root: Path, say: Callable[[str], None]
) -> tuple[Project, Environment]:
    """Find (or create) this machine's environment and link it to this checkout. A machine
    token names its environment: nothing to find, create or link."""
    if isinstance(backend, MachineBackend):
        target = machine_target(backend, query)
        assert target.environment is not None
        return target.project, target.environment
    scope = await link_scope(backend, query.profile)
    link = links.find(*scope, cwd=root)
    project = await _project(backend, query, link)
    environments = await backend.list_environments(project.id)
    env_ref = query.env
    env: Environment | None = None
    if env_ref is None and link is not None and link.project_id == project.id:
        env = next((e for e in environments if e.id == link.environment_id), None)
        if env is None and query.project is None:
            raise dead_link(link)  # deleted: not a new environment in its place
    if env is None:
        name = env_ref or default_env_name()
        env = environment_named(environments, name, project)
        me = await backend.whoami()
        if env is not None and env.user_id != me.user_id and env_ref is None:
            raise InputError(
                f"Environment {env.name!r} of {project.name} belongs to another user; "
                "pass --env NAME to name this machine's environment."
            )
        if env is None:
            try:
                env = await backend.create_environment(project.id, name)
            except PermissionDenied as exc:
                raise named_refusal(exc, "this project", project.name) from exc
            say(f"created environment {project.name}/{env.name}.")
    links.save(*scope, project.id, env.id, cwd=root)
    return project, env


async def _project(backend: Backend, query: TargetQuery, link: links.Link | None) -> Project:
    if query.project:
        return await find_project(backend, query.project)
    projects = await backend.list_projects()
    if link is not None:
        for project in projects:
            if project.id == link.project_id:
                return project
        # Its project is gone or no longer mine (the team left): never another project's
        # environment in its place, with this checkout's packages and key names.
        raise dead_link(link)
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise InputError(NO_PROJECT)
    names = ", ".join(sorted(p.name for p in projects))
    raise InputError(f"Which project is this machine for? Pass --project (one of: {names}).")
