"""``devsync env list|get|set|unset|link|unlink``: read and change single values.

Registered by ``commands/env/__init__.py`` (which says the rules every write follows).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import Conflict, Unavailable
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.commands.common import (
    UsageError,
    eprint,
    flag,
    open_from_args,
    print_json,
    resolve_target,
    say,
    scope_sentence,
)
from devsync_tui.commands.env.reading import read_value
from devsync_tui.core.models import ConfigType, Configuration, EffectiveConfigRow
from devsync_tui.core.printable import escaped, has_hostile
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.logging_setup import register_secret
from devsync_tui.machine import links
from devsync_tui.machine.targets import Target, link_scope
from devsync_tui.machine.values import (
    confirm_or_explain,
    effective_rows,
    guess_type,
    problem_with,
    secret_defaults,
)

MASK = "••••••••"


async def target_of(backend: Backend, args: argparse.Namespace, *, write: bool) -> Target:
    """The target; writes need an explicit environment or ``--project-default``."""
    if getattr(args, "project_default", False):
        if args.env:
            raise UsageError("Pass either --env or --project-default, not both.")
        if isinstance(backend, MachineBackend):
            raise UsageError(
                "A machine token acts for its environment only; --project-default is not its."
            )
        target = await resolve_target(backend, args, require_environment=False)
        return Target(target.project, None)
    return await resolve_target(backend, args, require_environment=write)


def _shown(row: EffectiveConfigRow) -> str:
    if row.is_secret:
        return MASK
    value = row.value or ""
    if row.type == "file":
        return f"<file, {len(value.encode())} bytes>"
    first, _, rest = value.partition("\n")
    return escaped(first.replace("\t", " ")) + (" …" if rest else "")


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


async def list_(args: argparse.Namespace) -> int:
    """``devsync env list``."""
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        rows = sorted(await effective_rows(backend, target), key=lambda r: r.key)
        scope = scope_sentence(args, backend, target)
    if args.json:
        print_json({"target": target.label, "configuration": [_row_json(r) for r in rows]})
        return EXIT_OK
    if not rows:
        say(f"No configuration in {scope}.")
        return EXIT_OK
    say(f"{scope} ({len(rows)} key{'s' if len(rows) != 1 else ''}):")
    width = max(len(r.key) for r in rows)
    for row in rows:
        where = "override" if row.source == "override" else "default"
        say(f"{escaped(row.key):<{width}}  {_shown(row)}  [{where}, v{row.version}]")
    return EXIT_OK


async def get(args: argparse.Namespace) -> int:
    """``devsync env get KEY``."""
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
    elif sys.stdout.isatty() and has_hostile(value):
        # Raw through a pipe (scripts get the exact value); escaped on a terminal.
        eprint("the value holds terminal control characters; shown escaped (pipe it for raw).")
        sys.stdout.write(escaped(value) + "\n")
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


async def set_(args: argparse.Namespace) -> int:
    """``devsync env set KEY[=VALUE]``."""
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
        if not has_value and args.file is None and sys.stdin.isatty():
            # A prompt, in this thread: Ctrl-C must end it at once (commands/prompt.py).
            value = read_value(key=key, secret=secret, from_file=None)
        elif not has_value:
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
        say(f"Set {kind}{key} in {target.label} (version {version}).")
    return EXIT_OK


async def unset(args: argparse.Namespace) -> int:
    """``devsync env unset KEY``."""
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
        say(f"Unset {args.key} in {target.label}.")
    return EXIT_OK


async def link(args: argparse.Namespace) -> int:
    """``devsync env link``: this checkout's default environment."""
    if not args.env:
        raise UsageError("Name the environment: devsync env link --env NAME [--project P].")
    async with open_from_args(args) as backend:
        target = await resolve_target(backend, args)
        assert target.environment is not None
        scope = await link_scope(backend, flag(args, "profile"))
        files = _link_files(args.file)
        saved = links.save(*scope, target.project.id, target.environment.id, files=files)
    if args.json:
        print_json({"checkout": saved.checkout, "target": target.label})
    else:
        say(f"Linked {saved.checkout} to {target.label}.")
    return EXIT_OK


def _link_files(given: list[str] | None) -> tuple[str, ...] | None:
    """``--file`` paths as the link keeps them: relative to the checkout, inside it."""
    if given is None:
        return None
    root = links.checkout_root()
    out: list[str] = []
    for name in given:
        path = (Path(name) if Path(name).is_absolute() else Path.cwd() / name).resolve()
        if path != root and root not in path.parents:
            raise UsageError(f"{name} is outside the checkout {root}.")
        out.append(str(path.relative_to(root)))
    return tuple(dict.fromkeys(out))


async def unlink(args: argparse.Namespace) -> int:
    """``devsync env unlink``."""
    async with open_from_args(args) as backend:
        removed = links.remove(*await link_scope(backend, flag(args, "profile")))
    print("Unlinked this checkout." if removed else "This checkout was not linked.")
    return EXIT_OK
