"""``devsync env owner USER``: give an environment to a member or admin of its team.

Whose machine an environment is decides who, besides the admins, may change its overrides and
reveal its secrets. Only the team's admins may hand it over (exit 3 otherwise); the new owner
must be a member or an admin of the team, not a viewer (viewers never write) nor someone
outside it (exit 2). Audited in the team's log (``environment.owner``); the environment's
configuration is not touched.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.commands.common import UsageError, open_from_args, print_json, run_async, say
from devsync_tui.commands.env.edit import target_of
from devsync_tui.core.models import Role, TeamMember
from devsync_tui.exit_codes import EXIT_OK

#: What an admin may not do, said before the database is asked (the database says the same).
NOT_ADMIN = "Only an admin of the team can change who owns an environment."


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    leaf: Callable[..., argparse.ArgumentParser],
) -> None:
    """Add ``devsync env owner``."""
    p = leaf(
        sub,
        "owner",
        "give the environment to a member or admin of its team (admins only)",
        scope=False,
    )
    p.add_argument("new_owner", metavar="USER", help="the new owner's username")
    p.set_defaults(func=lambda a: run_async(owner(a)))


def _member(members: list[TeamMember], name: str) -> TeamMember | None:
    """The member named ``name``: exactly, else in any letter case when that is one."""
    exact = [m for m in members if m.username == name]
    if exact:
        return exact[0]
    folded = [m for m in members if (m.username or "").casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


async def owner(args: argparse.Namespace) -> int:
    """``devsync env owner USER``."""
    name = args.new_owner.strip()
    if not name:
        raise UsageError("Name the new owner: a username of the team (e.g. bob).")
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        environment = target.environment
        assert environment is not None  # write=True: an environment was named or linked
        team_id = target.project.team_id
        roles = await backend.my_roles()
        if roles.get(team_id) != Role.ADMIN:
            raise PermissionDenied(NOT_ADMIN)
        members = await backend.list_members(team_id)
        member = _member(members, name)
        if member is None:
            raise UsageError(
                f"{name} is not in this project's team; an environment can belong only to a "
                "member or an admin of its team."
            )
        if member.role == Role.VIEWER:
            raise UsageError(
                f"{member.username} is a viewer of the team; an environment can belong only "
                "to a member or an admin (viewers do not write)."
            )
        before = next((m for m in members if m.user_id == environment.user_id), None)
        changed = environment.user_id != member.user_id
        stored = await backend.set_environment_owner(environment.id, member.user_id)
    previous = before.username if before is not None else None
    if args.json:
        print_json(
            {
                "project": target.project.name,
                "environment": stored.name,
                "environment_id": str(stored.id),
                "owner": member.username,
                "owner_id": str(stored.user_id),
                "previous_owner": previous,
                "changed": changed,
            }
        )
        return EXIT_OK
    label = f"{target.project.name}/{stored.name}"
    if changed:
        say(f"{label} now belongs to {member.username}.")
    else:
        say(f"{label} already belongs to {member.username}; nothing was changed.")
    return EXIT_OK
