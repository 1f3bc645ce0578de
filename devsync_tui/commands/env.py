"""``devsync env``: the configuration of an environment (or of the project defaults).

``list``, ``get KEY``, ``set KEY[=VALUE]``, ``unset KEY``, ``export``, ``import FILE``,
``diff ENV_A ENV_B``, ``link``, ``unlink``. Writes follow the TUI's rules: every save names the
version it edited (``Backend.save_configuration(expected_version=…)``); if the row moved on,
nothing is written, theirs and yours are printed, and the exit code is 1. Secret values are
read from stdin, ``--file`` or a hidden prompt — never needed on the command line — and are
never printed unless asked for by ``get`` (which reveals, audited, where the rules allow).
``--project-default`` works on the project defaults instead of an environment.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import TYPE_CHECKING

from devsync_tui.commands.common import (
    Target,
    UsageError,
    add_target_flags,
    eprint,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
)
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS

if TYPE_CHECKING:
    from uuid import UUID

    from devsync_tui.backend.base import Backend
    from devsync_tui.backend.errors import Conflict
    from devsync_tui.core.models import Configuration, EffectiveConfigRow

MASK = "••••••••"


def _leaf(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_: str,
    *,
    scope: bool = True,
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_, description=help_)
    add_target_flags(parser)
    if scope:
        parser.add_argument(
            "--project-default",
            action="store_true",
            help="work on the project defaults instead of an environment",
        )
    return parser


def _version(text: str) -> int:
    """A configuration version for ``--expected-version``: a whole number from 1."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("versions start at 1")
    return number


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync env`` and its actions."""
    from devsync_tui.machine import env_transfer

    env = subparsers.add_parser(
        "env", help="show and change configuration", description=__doc__.split("\n\n")[0]
    )
    sub = env.add_subparsers(dest="env_action", metavar="ACTION", required=True)

    p = _leaf(sub, "list", "the effective configuration (secrets masked)")
    p.set_defaults(func=lambda a: run_async(_list(a)))

    p = _leaf(sub, "get", "print one value (a secret is revealed where you may)")
    p.add_argument("key")
    p.set_defaults(func=lambda a: run_async(_get(a)))

    p = _leaf(sub, "set", "set a value: KEY=VALUE, or KEY with the value from stdin/--file/prompt")
    p.add_argument("assignment", metavar="KEY[=VALUE]")
    p.add_argument("--secret", action="store_true", help="store as a secret")
    p.add_argument("--plain", action="store_true", help="turn a secret into a plain value")
    p.add_argument("--file", metavar="PATH", help="read the value from PATH ('-': stdin), exactly")
    p.add_argument("--type", choices=["env_var", "file"], help="default: from the key's shape")
    p.add_argument(
        "--expected-version",
        type=_version,
        metavar="N",
        help="write only if the stored version is still N (read-modify-write)",
    )
    p.set_defaults(func=lambda a: run_async(_set(a)))

    p = _leaf(sub, "unset", "delete a key from the environment (or the project defaults)")
    p.add_argument("key")
    p.add_argument("--expected-version", type=_version, metavar="N")
    p.set_defaults(func=lambda a: run_async(_unset(a)))

    env_transfer.register_actions(sub, _leaf)

    p = _leaf(sub, "link", "make an environment this checkout's default --env", scope=False)
    p.set_defaults(func=lambda a: run_async(_link(a)))
    p = _leaf(sub, "unlink", "forget this checkout's default environment", scope=False)
    p.set_defaults(func=lambda a: run_async(_unlink(a)))


async def target_of(backend: Backend, args: argparse.Namespace, *, write: bool) -> Target:
    """The target; writes need an explicit environment or ``--project-default``."""
    if getattr(args, "project_default", False):
        if args.env:
            raise UsageError("Pass either --env or --project-default, not both.")
        target = await resolve_target(backend, args, require_environment=False)
        return Target(target.project, None)
    return await resolve_target(backend, args, require_environment=write)


# Characters a terminal acts on (escape sequences, carriage return, bidi overrides): a value
# someone else stored must not repaint or reorder the reader's screen.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """``text`` with terminal control characters shown as escapes (``\x1b``, ``\u202e``)."""
    return _UNSAFE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


def _shown(row: EffectiveConfigRow) -> str:
    if row.is_secret:
        return MASK
    value = row.value or ""
    if row.type == "file":
        return f"<file, {len(value.encode())} bytes>"
    first, _, rest = value.partition("\n")
    return safe(first.replace("\t", " ")) + (" …" if rest else "")


def _row_json(row: EffectiveConfigRow) -> dict[str, object]:
    return {
        "key": row.key,
        "value": row.value,
        "is_secret": row.is_secret,
        "type": str(row.type),
        "source": row.source,
        "version": row.version,
        "configuration_id": str(row.configuration_id),
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "updated_by": row.updated_by,
    }


async def _list(args: argparse.Namespace) -> int:
    from devsync_tui.machine.values import effective_rows

    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        rows = sorted(await effective_rows(backend, target), key=lambda r: r.key)
    if args.json:
        print_json({"target": target.label, "configuration": [_row_json(r) for r in rows]})
        return EXIT_OK
    if not rows:
        print(f"No configuration in {target.label}.")
        return EXIT_OK
    width = max(len(r.key) for r in rows)
    for row in rows:
        where = "override" if row.source == "override" else "default"
        print(f"{safe(row.key):<{width}}  {_shown(row)}  [{where}, v{row.version}]")
    return EXIT_OK


async def _get(args: argparse.Namespace) -> int:
    from devsync_tui.logging_setup import register_secret
    from devsync_tui.machine.values import effective_rows

    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        row = next((r for r in await effective_rows(backend, target) if r.key == args.key), None)
        if row is None:
            raise UsageError(f"{args.key} is not set in {target.label}.")
        value = row.value or ""
        if row.is_secret:
            value = await backend.reveal_secret(row.configuration_id)
            register_secret(value)
    if args.json:
        print_json({**_row_json(row), "value": value})
    elif sys.stdout.isatty() and _UNSAFE.search(value):
        # Raw through a pipe (scripts get the exact value); escaped on a terminal.
        eprint("the value holds terminal control characters; shown escaped (pipe it for raw).")
        sys.stdout.write(safe(value) + "\n")
    else:
        sys.stdout.write(value if value.endswith("\n") else value + "\n")
    return EXIT_OK


def print_conflict(
    key: str, exc: Conflict, *, yours: str | None, yours_secret: bool, edited: int | None
) -> None:
    """Theirs vs yours on stderr, secret values never shown."""
    current: Configuration | None = exc.current
    now = "deleted" if exc.current_version is None else f"now version {exc.current_version}"
    was = f"you edited version {edited}" if edited is not None else "you created it"
    eprint(f"{key} changed since you read it ({now}, {was}); nothing was written.")
    if current is None:
        theirs = "(deleted)" if exc.current_version is None else "(not readable)"
    elif current.is_secret:
        theirs = "(secret value, not shown)"
    else:
        theirs = repr(current.value)
    print(f"  theirs: {theirs}", file=sys.stderr)
    print(
        f"  yours:  {'(secret value, not shown)' if yours_secret else repr(yours)}", file=sys.stderr
    )


async def _set(args: argparse.Namespace) -> int:
    from devsync_tui.backend.errors import Conflict, Unavailable
    from devsync_tui.core.models import ConfigType
    from devsync_tui.machine.values import guess_type, problem_with, read_value

    key, has_value, value = args.assignment.partition("=")
    if not key:
        raise UsageError("Give a key: devsync env set KEY=VALUE (or KEY and the value on stdin).")
    if args.secret and args.plain:
        raise UsageError("Pass either --secret or --plain, not both.")
    if has_value and args.file:
        raise UsageError("Give the value either after '=' or with --file, not both.")
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        env_id = target.environment.id if target.environment else None
        current = next(
            (
                c
                for c in await backend.list_configurations(target.project.id, env_id)
                if c.key == key
            ),
            None,
        )
        # An override of a secret project default stays a secret unless --plain says not.
        inherited = (
            current is None
            and env_id is not None
            and key in await secret_defaults(backend, target.project.id)
        )
        was_secret = current.is_secret if current is not None else inherited
        secret = args.secret or (was_secret and not args.plain)
        if has_value and secret:
            eprint(
                "warning: a secret on the command line can be seen in the process list "
                "and shell history; prefer stdin or a prompt."
            )
        if not has_value:
            value = await asyncio.to_thread(read_value, key=key, secret=secret, from_file=args.file)
        type_ = (
            ConfigType(args.type)
            if args.type
            else (current.type if current is not None else guess_type(key))
        )
        problem = problem_with(key, value, type_)
        if problem:
            raise UsageError(problem[0].upper() + problem[1:] + ".")
        expected = args.expected_version
        if expected is None and current is not None:
            expected = current.version
        try:
            saved = await backend.save_configuration(
                target.project.id,
                env_id,
                key,
                value,
                is_secret=secret,
                type=type_,
                expected_version=expected,
            )
            version = saved.version
        except Conflict as exc:
            print_conflict(key, exc, yours=value, yours_secret=secret, edited=expected)
            return EXIT_PROBLEMS
        except Unavailable:
            # OutcomeUnknown, or any outage during the write: it may have been applied. Ask
            # the database instead of guessing or retrying blindly.
            await confirm_or_explain(backend, target, key, value, expected)
            version = (expected or 0) + 1
    if args.json:
        print_json({"key": key, "version": version, "is_secret": secret, "target": target.label})
    else:
        kind = "secret " if secret else ""
        print(f"Set {kind}{key} in {target.label} (version {version}).")
    return EXIT_OK


async def secret_defaults(backend: Backend, project_id: UUID) -> set[str]:
    """Keys that are secrets among the project defaults."""
    return {c.key for c in await backend.list_configurations(project_id, None) if c.is_secret}


async def confirm_or_explain(
    backend: Backend, target: Target, key: str, value: str, expected: int | None
) -> None:
    """After OutcomeUnknown: return if the save happened (once), else raise one sentence."""
    from devsync_tui.backend.errors import Unavailable

    env_id = target.environment.id if target.environment else None
    for delay in (0.5, 1.0, 2.0, None):
        try:
            done = await backend.confirm_save(
                target.project.id, env_id, key, value, expected_version=expected
            )
        except Unavailable:
            if delay is None:
                raise Unavailable(
                    f"The connection broke while saving {key}; it may or may not have been "
                    f"written. Check with `devsync env get {key}` once the backend is back."
                ) from None
            await asyncio.sleep(delay)
            continue
        if done:
            return
        raise Unavailable(
            f"The connection broke while saving {key} and the save did not happen; "
            "nothing was written."
        )
    raise AssertionError("unreachable")


async def _unset(args: argparse.Namespace) -> int:
    from devsync_tui.backend.errors import Conflict

    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        env_id = target.environment.id if target.environment else None
        rows = await backend.list_configurations(target.project.id, env_id)
        row = next((c for c in rows if c.key == args.key), None)
        if row is None:
            hint = ""
            if env_id is not None:
                defaults = await backend.list_configurations(target.project.id, None)
                if any(c.key == args.key for c in defaults):
                    hint = " (it is inherited from the project defaults: use --project-default)"
            raise UsageError(f"{args.key} is not set in {target.label}{hint}.")
        expected = args.expected_version if args.expected_version is not None else row.version
        try:
            await backend.delete_configuration(row.id, expected)
        except Conflict as exc:
            print_conflict(args.key, exc, yours="(delete)", yours_secret=False, edited=expected)
            return EXIT_PROBLEMS
    if args.json:
        print_json({"key": args.key, "deleted": True, "target": target.label})
    else:
        print(f"Unset {args.key} in {target.label}.")
    return EXIT_OK


async def _link(args: argparse.Namespace) -> int:
    from devsync_tui.commands.common import link_scope
    from devsync_tui.machine import links

    if not args.env:
        raise UsageError("Name the environment: devsync env link --env NAME [--project P].")
    async with open_from_args(args) as backend:
        target = await resolve_target(backend, args)
        assert target.environment is not None
        link = links.save(
            *await link_scope(backend, args), target.project.id, target.environment.id
        )
    if args.json:
        print_json({"checkout": link.checkout, "target": target.label})
    else:
        print(f"Linked {link.checkout} to {target.label}.")
    return EXIT_OK


async def _unlink(args: argparse.Namespace) -> int:
    from devsync_tui.commands.common import link_scope
    from devsync_tui.machine import links

    async with open_from_args(args) as backend:
        removed = links.remove(*await link_scope(backend, args))
    print("Unlinked this checkout." if removed else "This checkout was not linked.")
    return EXIT_OK
