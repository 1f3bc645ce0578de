"""``devsync audit [--team T] [--since 2026-12-01|7d] [--json]``: a team's audit log, for admins.

What the dashboard's Activity tab shows, newest first: who did what (configuration changes,
reveals, membership, machine tokens) and where. Only the team's admins may read it: anyone else
gets one sentence and exit code 3. An entry's details never hold a value, so secrets never
appear here. The team is ``--team`` (name, slug or id), else the team of ``--project`` or
``--env``, else the only team you belong to. ``--project`` keeps the entries of that project
(its environments' included), ``--env`` those of that environment; a name that matches nothing,
or a project or environment outside ``--team``, is an error (exit 2). ``--limit`` counts the
entries kept.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.commands.common import (
    UsageError,
    add_target_flags,
    flag,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
    say,
)
from devsync_tui.core import clock
from devsync_tui.core.audit_wording import describe, who
from devsync_tui.core.models import AuditEntry, Environment, Project, Role, Team
from devsync_tui.exit_codes import EXIT_OK
from devsync_tui.machine.targets import find_project

_AGO = re.compile(r"(\d{1,6})([mhdw])")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_UNITS["w"] = timedelta(weeks=1)
#: Entries read per round trip.
PAGE = 200


def since(text: str) -> datetime:
    """``--since``: a date (``2026-12-01``, midnight UTC), a date and time (ISO 8601, UTC
    unless it names a zone), or a span back from now (``30m``, ``12h``, ``7d``, ``2w``)."""
    value = text.strip()
    match = _AGO.fullmatch(value.lower())
    if match:
        return clock.now() - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since takes a date (2026-12-01) or a span back from now like 7d, 12h or 30m "
            f"(got {text!r})."
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync audit``."""
    parser = subparsers.add_parser(
        "audit",
        help="the team's audit log (admins)",
        description="A team's audit log, newest first: configuration changes, reveals, "
        "membership and machine tokens. Team admins only (others: exit 3).",
    )
    add_target_flags(
        parser,
        project_help="only this project's entries, its environments' included (name or id)",
        env_help="only this environment's entries (name, id or project/env)",
    )
    parser.add_argument(
        "--team", default=argparse.SUPPRESS, help="team name, slug or id (default: yours)"
    )
    parser.add_argument(
        "--since", metavar="WHEN", help="only entries from then on: 2026-12-01 or 7d"
    )
    parser.add_argument(
        "--limit", type=int, default=500, metavar="N", help="at most N entries (default 500)"
    )
    parser.set_defaults(func=lambda a: run_async(audit(a)))


@dataclass(frozen=True, slots=True)
class Scope:
    """Which entries are shown: the team's, of ``project`` and ``environment`` when named."""

    team: Team
    project: Project | None = None
    environment: Environment | None = None

    def keeps(self, entry: AuditEntry, project_envs: frozenset[UUID]) -> bool:
        """Whether ``entry`` is in scope; ``project_envs``: the project's environment ids (an
        entry about one of them may carry no project id)."""
        if self.environment is not None:
            return entry.environment_id == self.environment.id
        if self.project is not None:
            return entry.project_id == self.project.id or entry.environment_id in project_envs
        return True

    @property
    def label(self) -> str:
        """Where the entries are from, for the sentence that says there are none."""
        if self.environment is not None and self.project is not None:
            return f"{self.project.name}/{self.environment.name}"
        return self.project.name if self.project is not None else self.team.name


async def _scope(backend: Backend, args: argparse.Namespace) -> Scope:
    """The team, and the project and environment ``--project``/``--env`` name (never the
    linked one: without them the whole team's log is shown)."""
    project: Project | None = None
    env: Environment | None = None
    if flag(args, "env") is not None:
        target = await resolve_target(backend, args)
        project, env = target.project, target.environment
    elif flag(args, "project") is not None:
        project = await find_project(backend, str(flag(args, "project")))
    team = await _team(backend, args, project)
    if project is not None and project.team_id != team.id:
        named = f"{project.name}/{env.name}" if env is not None else project.name
        raise UsageError(f"{named} is not in team {team.name}; leave out --team or name its team.")
    return Scope(team, project, env)


async def _team(backend: Backend, args: argparse.Namespace, project: Project | None) -> Team:
    teams = await backend.list_teams()
    ref = flag(args, "team")
    if ref:
        found = [t for t in teams if ref in (str(t.id), t.slug, t.name)]
        found = found or [t for t in teams if t.name.casefold() == ref.casefold()]
        if len(found) == 1:
            return found[0]
        names = ", ".join(sorted(t.name for t in teams)) or "none"
        if not found:
            raise UsageError(f"No team named {ref!r} (yours: {names}).")
        raise UsageError(f"Team name {ref!r} is ambiguous; use its slug or id.")
    if project is not None:
        return next(t for t in teams if t.id == project.team_id)
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise UsageError("You belong to no team.")
    names = ", ".join(sorted(t.slug for t in teams))
    raise UsageError(f"You belong to several teams ({names}); name one with --team.")


async def _read(
    backend: Backend, scope: Scope, after: datetime | None, limit: int
) -> list[AuditEntry]:
    """Newest first, up to ``limit`` entries in ``scope``, stopping at the first older than
    ``after``."""
    project_envs: frozenset[UUID] = frozenset()
    if scope.project is not None and scope.environment is None:
        project_envs = frozenset(e.id for e in await backend.list_environments(scope.project.id))
    filtered = scope.project is not None
    entries: list[AuditEntry] = []
    before: int | None = None
    while len(entries) < limit:
        # Filtered, a page may keep few entries: read whole pages until enough are kept.
        want = PAGE if filtered else min(PAGE, limit - len(entries))
        page = await backend.audit_log(scope.team.id, limit=want, before_id=before)
        for entry in page:
            if after is not None and entry.created_at < after:
                return entries
            if scope.keeps(entry, project_envs):
                entries.append(entry)
                if len(entries) == limit:
                    return entries
        if len(page) < want:
            break
        before = page[-1].id
    return entries


async def _names(backend: Backend, team: Team) -> dict[str, str]:
    """Ids (as text) to names: the team's projects, environments (``project/env``), members."""
    names: dict[str, str] = {str(team.id): team.name}
    for project in await backend.list_projects(team.id):
        names[str(project.id)] = project.name
        for env in await backend.list_environments(project.id):
            names[str(env.id)] = f"{project.name}/{env.name}"
    for member in await backend.list_members(team.id):
        if member.username:
            names[str(member.user_id)] = member.username
    return names


async def audit(args: argparse.Namespace) -> int:
    """``devsync audit``."""
    if args.limit < 1:
        raise UsageError("--limit takes a number from 1.")
    after = since(args.since) if args.since is not None else None
    async with open_from_args(args) as backend:
        scope = await _scope(backend, args)
        team = scope.team
        if (await backend.my_roles()).get(team.id) != Role.ADMIN:
            raise PermissionDenied(f"Only admins of {team.name} may read its audit log.")
        entries = await _read(backend, scope, after, args.limit)
        names = await _names(backend, team)
    if args.json:
        print_json(
            {
                "team": team.name,
                "project": scope.project.name if scope.project else None,
                "environment": scope.environment.name if scope.environment else None,
                "entries": [_json(e, names) for e in entries],
            }
        )
        return EXIT_OK
    if not entries:
        say(f"No audit entries for {scope.label}" + (" in that time." if args.since else "."))
        return EXIT_OK
    width = max(len(who(e)) for e in entries)
    for e in entries:
        about = e.environment_id or e.project_id
        where = names.get(str(about), "") if about else ""
        when = f"{e.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        line = f"{when}  {who(e):<{width}}  {describe(e, names)}"
        say(line + (f"  [{where}]" if where else ""))
    return EXIT_OK


def _json(entry: AuditEntry, names: dict[str, str]) -> dict[str, Any]:
    scope = entry.environment_id or entry.project_id
    return {
        "id": entry.id,
        "created_at": entry.created_at.isoformat(),
        "actor": who(entry),
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "project_id": str(entry.project_id) if entry.project_id else None,
        "environment_id": str(entry.environment_id) if entry.environment_id else None,
        "where": names.get(str(scope)) if scope else None,
        "description": describe(entry, names),
        "details": entry.details,
    }
