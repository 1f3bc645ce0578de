"""Plumbing every data command shares: open the backend, pick the target, map errors to exits.

- :func:`run_async` runs a command's coroutine and turns DevSync errors into the exit codes of
  ``exit_codes.py`` with one plain sentence on stderr (details and tracebacks go to the log).
- :func:`open_from_args` opens the Backend named by ``--profile``/``--user`` (settings +
  ``backend.factory.open_backend``); use it as ``async with open_from_args(args) as backend``.
- :func:`resolve_target` turns ``--project``/``--env`` into a :class:`Target`.

How the target is found (``--project`` and ``--env`` each take a name or an id):

1. ``--env`` given: that environment. A name is looked up in ``--project`` if given, else in
   the linked project, else in every project I can see (ambiguous → exit 2, naming the
   candidates as ``project/env``). ``project/env`` is accepted as a name too.
2. no ``--env``: the environment linked to this checkout/machine (``machine/links.py``:
   written by ``devsync env link`` and ``devsync agent``), if it belongs to ``--project``
   (when that is given).
3. otherwise: with ``require_environment=False`` the target is the project defaults
   (``environment=None``) of ``--project`` (or the linked project, or my only project); with
   ``require_environment=True`` exit 2 saying to pass ``--env`` or run ``devsync env link``.

Heavy imports (psycopg, supabase, the backend) happen inside the functions so that commands
that never reach the backend (``--help``, ``run --offline``) stay fast.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from devsync_tui.exit_codes import EXIT_INPUT, exit_code_for

if TYPE_CHECKING:
    from devsync_tui.backend.base import Backend
    from devsync_tui.core.models import Environment, Project

_log = logging.getLogger("devsync.cli")


def add_target_flags(parser: argparse.ArgumentParser) -> None:
    """The shared ``--profile --user --project --env --json`` flags (see ``cli.py``)."""
    from devsync_tui.cli import add_target_flags as _add

    _add(parser)


def add_lookup_flags(parser: argparse.ArgumentParser) -> None:
    """``--no-osv`` and ``--no-registry``, shared by ``scan`` and ``agent``."""
    parser.add_argument(
        "--no-osv", action="store_true", help="do not look vulnerabilities up in OSV"
    )
    parser.add_argument(
        "--no-registry",
        action="store_true",
        help="do not ask the package registries for the latest releases (outdated status)",
    )


#: What a user who sees no project is told (rather than "one of: none").
NO_PROJECT = "No project is visible to you yet; an admin of a team must add you to it."


class UsageError(Exception):
    """Bad input on the command line or in a file: exit 2 with this sentence."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a command works on: a project, and one of its environments or its defaults."""

    project: Project
    environment: Environment | None

    @property
    def label(self) -> str:
        """``project/env`` or ``project (defaults)`` for messages."""
        if self.environment is None:
            return f"{self.project.name} (project defaults)"
        return f"{self.project.name}/{self.environment.name}"


def eprint(message: str) -> None:
    """One line on stderr, prefixed like every DevSync CLI message."""
    print(f"devsync: {message}", file=sys.stderr, flush=True)


def print_json(payload: Any) -> None:
    """Machine-readable output (``--json``): one JSON document on stdout."""
    print(json.dumps(payload, indent=2, sort_keys=True, default=str, ensure_ascii=False))


def _log_details(exc: BaseException) -> None:
    from devsync_tui.logging_setup import log_exception

    log_exception(exc)


def exit_for(exc: BaseException) -> int:
    """Print one sentence for ``exc`` and return its exit code (details to the log)."""
    from devsync_tui.backend.errors import DevSyncError

    if isinstance(exc, UsageError):
        eprint(str(exc))
        return EXIT_INPUT
    if isinstance(exc, DevSyncError):
        _log_details(exc)
        eprint(str(exc) or type(exc).__name__)
        return exit_code_for(exc)
    from devsync_tui.settings import SettingsError

    if isinstance(exc, SettingsError):
        eprint(str(exc))
        return EXIT_INPUT
    if isinstance(exc, BrokenPipeError):
        # The reader of our output went away (`devsync drift | head -1`): nothing to say, and
        # nowhere to say it on stdout; exit like a process killed by SIGPIPE.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    if isinstance(exc, OSError):
        _log_details(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        eprint(f"{exc.strerror or exc}{where}.")
        return EXIT_INPUT
    from devsync_tui.core.crypto import CryptoError

    if isinstance(exc, CryptoError):
        _log_details(exc)
        eprint(str(exc))
        return EXIT_INPUT
    raise exc


#: 128 + SIGPIPE, what a shell reports for a writer whose reader has gone.
EXIT_BROKEN_PIPE = 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the final flush at exit does not fail again (Python
    would print an "Exception ignored … BrokenPipeError" there)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (captured in tests)
        pass


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command coroutine to its exit code; errors become one sentence and a code.

    Library warnings go to the log file (not the terminal, where they would read as noise).
    """
    from devsync_tui.logging_setup import setup_logging

    setup_logging()
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return exit_for(exc)


def _progress(message: str) -> None:
    # Starting the embedded database can take seconds; say so, but only to a person.
    if sys.stderr.isatty():
        eprint(message)
    _log.info("%s", message)


@asynccontextmanager
async def open_from_args(args: argparse.Namespace) -> AsyncIterator[Backend]:
    """The connected Backend for ``--profile``/``--user``; closed when the block ends."""
    from devsync_tui import settings as settings_module
    from devsync_tui.backend.factory import open_backend

    settings = settings_module.load_settings()
    opened = open_backend(
        settings,
        profile=getattr(args, "profile", None),
        user=getattr(args, "user", None),
        progress=_progress,
    )
    backend: Backend = await opened if inspect.isawaitable(opened) else opened
    try:
        yield backend
    finally:
        try:
            await backend.close()
        except Exception:  # closing must not hide the command's own outcome
            _log.exception("closing the backend failed")


def profile_name(args: argparse.Namespace) -> str:
    """The active profile's name (``--profile``, ``DEVSYNC_PROFILE``, … as settings decide)."""
    from devsync_tui import settings as settings_module

    return settings_module.load_settings().active_profile_name(getattr(args, "profile", None))


async def link_scope(backend: Backend, args: argparse.Namespace) -> tuple[str, str]:
    """(profile, username) under which this machine's links are kept."""
    return profile_name(args), (await backend.whoami()).username


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _names(items: Sequence[Any]) -> str:
    return ", ".join(sorted(item.name for item in items)) or "none"


async def find_project(backend: Backend, ref: str) -> Project:
    """A project by id, name, or ``team-slug/name``; UsageError when unknown or ambiguous."""
    projects = await backend.list_projects()
    wanted = _as_uuid(ref)
    if wanted is not None:
        for project in projects:
            if project.id == wanted:
                return project
        raise UsageError(f"No project with id {ref} is visible to you.")
    team_slug, _, name = ref.rpartition("/")
    matches = [p for p in projects if p.name == name]
    if team_slug:
        teams = {t.id: t.slug for t in await backend.list_teams()}
        matches = [p for p in matches if teams.get(p.team_id) == team_slug]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(f"No project named {ref!r} (yours: {_names(projects)}).")
    teams = {t.id: t.slug for t in await backend.list_teams()}
    options = ", ".join(sorted(f"{teams.get(p.team_id, p.team_id)}/{p.name}" for p in matches))
    raise UsageError(f"Project name {ref!r} is ambiguous; use one of: {options}.")


async def find_environment(
    backend: Backend, ref: str, project: Project | None
) -> tuple[Project, Environment]:
    """An environment by id or name, in ``project`` or, without one, in any visible project."""
    if project is None and "/" in ref and _as_uuid(ref) is None:
        project_ref, _, ref = ref.rpartition("/")
        project = await find_project(backend, project_ref)
    projects = [project] if project is not None else await backend.list_projects()
    wanted = _as_uuid(ref)
    found: list[tuple[Project, Environment]] = []
    for candidate in projects:
        for env in await backend.list_environments(candidate.id):
            if (wanted is not None and env.id == wanted) or env.name == ref:
                found.append((candidate, env))
    if len(found) == 1:
        return found[0]
    if not found:
        where = f" in project {project.name}" if project is not None else ""
        raise UsageError(f"No environment {ref!r}{where} is visible to you.")
    options = ", ".join(sorted(f"{p.name}/{e.name}" for p, e in found))
    raise UsageError(f"Environment {ref!r} is ambiguous; pass --project or use one of: {options}.")


async def _linked(backend: Backend, args: argparse.Namespace) -> tuple[Project, Environment] | None:
    from devsync_tui.machine import links

    link = links.find(*await link_scope(backend, args))
    if link is None:
        return None
    projects = {p.id: p for p in await backend.list_projects()}
    project = projects.get(link.project_id)
    if project is not None:
        for env in await backend.list_environments(project.id):
            if env.id == link.environment_id:
                return project, env
    raise UsageError(
        "The environment linked to this checkout no longer exists or is not visible to you; "
        "pass --env or run `devsync env link --env NAME`."
    )


async def resolve_target(
    backend: Backend, args: argparse.Namespace, *, require_environment: bool = True
) -> Target:
    """The project and environment a command works on (see the module docstring)."""
    project_ref: str | None = getattr(args, "project", None)
    env_ref: str | None = getattr(args, "env", None)
    project = await find_project(backend, project_ref) if project_ref else None
    if env_ref:
        linked = None
        if project is None and _as_uuid(env_ref) is None and "/" not in env_ref:
            try:
                linked = await _linked(backend, args)
            except UsageError:
                linked = None
        if linked is not None:
            try:
                return Target(*await find_environment(backend, env_ref, linked[0]))
            except UsageError:
                pass  # not in the linked project: look everywhere
        return Target(*await find_environment(backend, env_ref, project))
    linked = await _linked(backend, args)
    if linked is not None and (project is None or linked[0].id == project.id):
        return Target(*linked)
    if require_environment:
        raise UsageError(
            "No environment is linked to this checkout; pass --env NAME "
            "or run `devsync env link --project P --env NAME`."
        )
    if project is None:
        projects = await backend.list_projects()
        if not projects:
            raise UsageError(NO_PROJECT)
        if len(projects) != 1:
            raise UsageError(f"Which project? Pass --project (one of: {_names(projects)}).")
        project = projects[0]
    return Target(project, None)
