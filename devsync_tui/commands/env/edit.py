"""``devsync env list|get|set|unset|link|unlink``: read and change single values.

Registered by ``commands/env/__init__.py`` (which says the rules every write follows).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
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
from devsync_tui.core.credentials import credential_name
from devsync_tui.core.models import ConfigType, Configuration, EffectiveConfigRow
from devsync_tui.core.names import closest
from devsync_tui.core.printable import escaped, has_hostile
from devsync_tui.core.wording import quoted, shortened
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.logging_setup import register_secret
from devsync_tui.machine import links
from devsync_tui.machine.targets import Target, link_scope
from devsync_tui.machine.values import (
    confirm_or_explain,
    effective_rows,
    guess_type,
    problem_with,
    secret_by_look,
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
    return escaped(shortened(first.replace("\t", " "))) + (" …" if rest else "")


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
        rows = await effective_rows(backend, target)
        row = next((r for r in rows if r.key == args.key), None)
        if row is None:
            sentence = f"{args.key} is not set in {target.label}"
            raise not_found(args.key, sentence, [r.key for r in rows])
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


def unconfirmed(changes: int, *, as_json: bool = False) -> str:
    """What a write that wants a yes says where it cannot ask (no terminal, or ``--json``,
    which never asks): nothing is written, and the command exits 1 (``EXIT_PROBLEMS``: the
    changes were found and shown, not made), as README says for ``env import``."""
    why = "--json never asks" if as_json else "there is no terminal to confirm on"
    return f"Nothing was written: {why}; run again with --yes to write these {changes} change(s)."


def not_found(
    key: str, sentence: str, own: Iterable[str], defaults: Iterable[str] = ()
) -> UsageError:
    """``sentence`` (``KEY is not set in storefront/staging``) as an error, with a hint: the
    project defaults hold the key (``--project-default``), or the key meant is probably
    another one (``did you mean LOG_LEVEL?``: another letter case, or a close spelling), of
    the scope's own keys ``own`` first, else of the project defaults ``defaults``."""
    defaults = set(defaults)
    inherited = " (it is inherited from the project defaults: use --project-default)"
    if key in defaults:
        return UsageError(f"{sentence}{inherited}.")
    guess = closest(key, own)
    if guess:
        return UsageError(f"{sentence}; did you mean {_either(guess)}?")
    guess = closest(key, defaults)
    if guess:
        default = "a project default" if len(guess) == 1 else "project defaults"
        return UsageError(
            f"{sentence}; did you mean {_either(guess)} ({default}: use --project-default)?"
        )
    return UsageError(f"{sentence}.")


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


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
        theirs = shown_value(current.value)
    mine = "(secret value, not shown)" if yours_secret else shown_value(yours)
    print(f"  theirs: {escaped(theirs)}", file=sys.stderr)
    print(f"  yours:  {escaped(mine)}", file=sys.stderr)


def conflict_json(key: str, target: Target, exc: Conflict, edited: int | None) -> dict[str, object]:
    """``--json`` after a conflict (exit 1, nothing written): the document a script reads
    instead of the sentences on stderr; no value, theirs or yours."""
    return {
        "key": key,
        "target": target.label,
        "written": False,
        "conflict": {"current_version": exc.current_version, "expected_version": edited},
    }


def shown_value(value: str | None) -> str:
    """A plain value in a conflict or a change list: quoted, a long one shortened
    (``core.wording.quoted``)."""
    return repr(value) if value is None else quoted(value)


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
        rows = await backend.list_configurations(target.project.id, env_id)
        current = next((c for c in rows if c.key == key), None)
        # An override keeps the secrecy of the project default it overrides, as an existing
        # key keeps its own, unless --secret or --plain says otherwise.
        base = current
        if base is None and env_id is not None:
            defaults = await backend.list_configurations(target.project.id, None)
            base = next((c for c in defaults if c.key == key), None)
        type_ = (
            ConfigType(args.type)
            if args.type
            else (current.type if current is not None else guess_type(key))
        )
        # A variable new to the configuration, with no flag: the rule of env import (a name
        # or value like a credential's makes a secret). Its name is known before the value.
        by_look = (
            base is None
            and not (args.secret or args.plain)
            and type_ is ConfigType.ENV_VAR
            and secret_by_look(key, *((value,) if has_value else ()))
        )
        secret = args.secret or by_look or (base is not None and base.is_secret and not args.plain)
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
        if not secret and base is None and not args.plain and type_ is ConfigType.ENV_VAR:
            # The value read may itself look like a credential (a URL with a password).
            by_look = secret = secret_by_look(key, value)
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
            if args.json:
                print_json(conflict_json(key, target, exc, expected))
            return EXIT_PROBLEMS
        except Unavailable:
            # OutcomeUnknown, or any outage during the write: it may have been applied. Ask
            # the database instead of guessing or retrying blindly.
            await confirm_or_explain(backend, target, key, value, expected)
            version = (expected or 0) + 1
    if by_look:
        why = "name" if credential_name(key) else "value (a URL with a password)"
        eprint(
            f"note: {key} was stored as a secret because its {why} looks like a credential's; "
            "--plain stores a plain value."
        )
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
            defaults = (
                await backend.list_configurations(target.project.id, None)
                if env_id is not None
                else []
            )
            raise not_found(
                args.key,
                f"{args.key} is not set in {target.label}",
                [c.key for c in rows],
                [c.key for c in defaults],
            )
        expected = args.expected_version if args.expected_version is not None else row.version
        try:
            await backend.delete_configuration(row.id, expected)
        except Conflict as exc:
            print_conflict(args.key, exc, yours="(delete)", yours_secret=False, edited=expected)
            if args.json:
                print_json(conflict_json(args.key, target, exc, expected))
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
    """``devsync env unlink``: forgets this checkout's link, whatever it names, so
    ``--project``/``--env`` (shared flags, ``commands/common.add_target_flags``) would mean
    nothing and are refused rather than ignored."""
    refuse_flags(args, "env unlink", "it forgets this checkout's link, whichever it names")
    async with open_from_args(args) as backend:
        removed = links.remove(*await link_scope(backend, flag(args, "profile")))
    if args.json:
        print_json({"checkout": str(links.checkout_root()), "unlinked": removed})
    else:
        say("Unlinked this checkout." if removed else "This checkout was not linked.")
    return EXIT_OK


def refuse_flags(args: argparse.Namespace, command: str, why: str, *names: str) -> None:
    """UsageError (exit 2, one sentence) when a shared flag that means nothing for
    ``command`` was given: ``names`` (default ``project`` and ``env``)."""
    given = [
        f"--{name}" for name in names or ("project", "env") if getattr(args, name, None) is not None
    ]
    if given:
        raise UsageError(
            f"{' and '.join(given)} {'means' if len(given) == 1 else 'mean'} nothing for "
            f"devsync {command}: {why}."
        )
