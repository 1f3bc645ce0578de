"""``devsync token create|list|revoke``: machine tokens, for CI runners and servers.

A machine token acts as one environment's machine (``DEVSYNC_TOKEN`` or ``--token-file`` with
``devsync run``, ``env export``, ``scan`` and ``agent``): it reads that environment's effective
configuration and reveals its secrets, and reports its dependencies, health and status.

- create (admins of the team; the environment's owner for their own environment): prints the
  token once, alone on stdout (``--json``: ``{"id", "token"}``); only its hash is stored.
- list: the tokens you may see (admins: the team's; an owner: their environment's), never a
  token; ``--project``/``--env`` keep those of that project or environment.
- revoke (admins; the token's creator): the machine's next request is refused. The id names
  the token: ``--project``/``--env`` do not apply (refused). ``--json``: the token as ``list``
  shows it, with ``already_revoked``.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.commands.common import (
    UsageError,
    add_target_flags,
    eprint,
    flag,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
    say,
)
from devsync_tui.core import clock
from devsync_tui.core.machine_token import TokenError, parse_lifetime
from devsync_tui.core.models import Environment, MachineTokenInfo, Project
from devsync_tui.machine.targets import find_project

#: How long a token lives unless ``--expires`` says otherwise.
DEFAULT_LIFETIME = "90d"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync token`` and its actions."""
    token = subparsers.add_parser(
        "token",
        help="machine tokens for CI runners and servers: create, list, revoke",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    sub = token.add_subparsers(dest="token_action", metavar="ACTION", required=True)

    p = sub.add_parser("create", help="a new token for one environment (shown once)")
    add_target_flags(p)
    p.add_argument("--name", help="what the token is for (default: the environment and date)")
    p.add_argument(
        "--expires",
        default=DEFAULT_LIFETIME,
        metavar="LIFETIME",
        help=f"12h, 30d, 8w or never (default {DEFAULT_LIFETIME})",
    )
    p.set_defaults(func=lambda a: run_async(create(a)))

    p = sub.add_parser("list", help="the tokens you may see, never a token itself")
    add_target_flags(
        p,
        project_help="only this project's tokens (name or id)",
        env_help="only this environment's tokens (name or id)",
    )
    p.set_defaults(func=lambda a: run_async(list_(a)))

    p = sub.add_parser("revoke", help="refuse a token from now on")
    add_target_flags(p, target=False)
    p.add_argument("id", metavar="ID", help="the token's id (devsync token list)")
    p.set_defaults(func=lambda a: run_async(revoke(a)))


def _when(moment: datetime | None, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else never


async def create(args: argparse.Namespace) -> int:
    """``devsync token create``."""
    try:
        lifetime = parse_lifetime(args.expires)
    except TokenError as exc:
        raise UsageError(str(exc)) from None
    async with open_from_args(args) as backend:
        target = await resolve_target(backend, args)
        env = target.environment
        assert env is not None  # resolve_target requires one
        now = clock.now()
        name = args.name if args.name is not None else f"{env.name} {now:%Y-%m-%d}"
        expires_at = None if lifetime is None else now + lifetime
        made = await backend.create_machine_token(env.id, name, expires_at)
    if args.json:
        print_json({"id": str(made.id), "token": made.token})
    else:
        # stdout holds the token alone (`devsync token create … > file`); the rest is for people
        print(made.token, flush=True)
        eprint(
            f"machine token {name!r} for {target.label} (id {made.id}), expires "
            f"{_when(expires_at)}. It is shown only this once: keep it where the machine reads "
            "it (DEVSYNC_TOKEN, or a file only you can read: chmod 600 FILE, --token-file)."
        )
    return 0


def _state(token: MachineTokenInfo) -> str:
    return token.state(clock.now())


def _row_json(t: MachineTokenInfo) -> dict[str, object]:
    return {
        "id": str(t.id),
        "name": t.name,
        "project_id": str(t.project_id),
        "environment_id": str(t.environment_id),
        "environment": t.environment_name,
        "state": _state(t),
        "created_by": t.created_by_username,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "revoked_by": t.revoked_by_username,
    }


async def list_(args: argparse.Namespace) -> int:
    """``devsync token list``."""
    async with open_from_args(args) as backend:
        project, env = await _filter(backend, args)
        tokens = await backend.list_machine_tokens(project.id if project else None)
    if env is not None:
        tokens = [t for t in tokens if t.environment_id == env.id]
    if args.json:
        print_json([_row_json(t) for t in tokens])
        return 0
    if not tokens:
        where = "" if project is None else f" of {project.name}"
        where += f"/{env.name}" if env is not None else ""
        say(f"No machine tokens{where} you may see.")
        return 0
    for t in tokens:
        by = f" by {t.created_by_username}" if t.created_by_username else ""
        say(
            f"{t.id}  {t.name!r}  {t.environment_name}  {_state(t)}  "
            f"expires {_when(t.expires_at)}  last used {clock.ago(t.last_used_at)}  "
            f"created {_when(t.created_at)}{by}"
        )
    return 0


async def _filter(
    backend: Backend, args: argparse.Namespace
) -> tuple[Project | None, Environment | None]:
    """What ``token list`` keeps: the project and environment ``--project``/``--env`` name
    (an unknown one is an InputError); None for each not given. Never the linked environment:
    without ``--env`` the list is every token you may see."""
    if flag(args, "env") is not None:
        target = await resolve_target(backend, args)
        return target.project, target.environment
    project_ref = flag(args, "project")
    return (await find_project(backend, project_ref) if project_ref else None), None


async def revoke(args: argparse.Namespace) -> int:
    """``devsync token revoke ID``."""
    if flag(args, "project") is not None or flag(args, "env") is not None:
        # Given before the command (devsync --env X token revoke ID): the id alone names it.
        raise UsageError(
            "token revoke takes the token's id only; --project and --env do not apply."
        )
    try:
        token_id = UUID(args.id)
    except ValueError:
        raise UsageError(
            f"{args.id!r} is not a token id (devsync token list shows them)."
        ) from None
    async with open_from_args(args) as backend:
        before = {t.id: t for t in await backend.list_machine_tokens()}.get(token_id)
        revoked = await backend.revoke_machine_token(token_id)
    already = before is not None and before.revoked_at is not None
    if args.json:
        print_json({**_row_json(revoked), "already_revoked": already})
    elif already:
        eprint(f"token {revoked.name!r} was already revoked ({_when(revoked.revoked_at)}).")
    else:
        eprint(
            f"revoked token {revoked.name!r} of {revoked.environment_name}; its machine is "
            "refused from its next request."
        )
    return 0
