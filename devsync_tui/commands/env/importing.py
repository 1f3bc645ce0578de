"""``devsync env import FILE``: the plan first, then (asked, or ``--yes``) the writes.

The rules live in ``machine/env_import.py``. Here: the whole file is checked before anything
is written; the plan is printed (values of secrets and of credential-like keys never); an
inherited key with another value needs ``--override``; then, on a terminal, a question —
without one, nothing is written unless ``--yes``. Ctrl-C at the question writes nothing;
Ctrl-C during the writes says exactly which keys were written. A key someone changed meanwhile
is not overwritten: theirs vs yours is shown and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from devsync_tui.commands.common import (
    UsageError,
    eprint,
    open_from_args,
    print_json,
    run_async,
    say,
)
from devsync_tui.commands.env.edit import print_conflict, shown_value, target_of, unconfirmed
from devsync_tui.commands.env.reading import read_bounded
from devsync_tui.commands.prompt import ask
from devsync_tui.core.printable import escaped
from devsync_tui.exit_codes import (
    CANCELLED,
    EXIT_CANCELLED,
    EXIT_DENIED,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_PROBLEMS,
    Cancelled,
)
from devsync_tui.machine import env_transfer
from devsync_tui.machine.env_import import (
    ImportConflict,
    ImportInterrupted,
    ImportPlan,
    apply_import,
    plan_import,
)


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    leaf: Callable[..., argparse.ArgumentParser],
) -> None:
    """Add ``devsync env import`` (``leaf`` makes a parser with the shared flags)."""
    p = leaf(sub, "import", "set the keys of a .env file, showing the changes first")
    p.add_argument("file", metavar="FILE", help="a .env file ('-': stdin; then --yes is needed)")
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    p.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="KEY",
        help="store this key as a secret (repeatable)",
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="do not store credential-like keys (*_TOKEN, *_KEY, …) as secrets by their look",
    )
    p.add_argument(
        "--override",
        action="store_true",
        help="let inherited keys with other values become overrides of the environment",
    )
    p.add_argument("--yes", "-y", action="store_true", help="write without asking")
    p.set_defaults(func=lambda a: run_async(import_(a)))


def _ask(question: str) -> bool:
    """A yes/no question on the terminal; Ctrl-D is a no; Ctrl-C raises ``Cancelled`` at once
    (``commands/prompt.py``)."""
    try:
        answer = ask(escaped(question), eof_cancels=False)
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


async def import_(args: argparse.Namespace) -> int:
    """``devsync env import FILE``."""
    raw = read_bounded(args.file, env_transfer.MAX_IMPORT_BYTES, "a .env file may hold 16 MiB")
    incoming = env_transfer.parse_import(raw, args.file, lambda line: eprint(f"warning: {line}"))
    unknown = sorted(set(args.secret) - set(incoming))
    if unknown:
        raise UsageError("--secret names keys not in the file: " + ", ".join(unknown) + ".")
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        plan = await plan_import(backend, target, incoming, args.secret, plain=args.plain)
        _show_plan(plan, args)
        # What the real run refuses before its first write, --dry-run refuses too (same
        # sentence, same exit code): only the writes and the question are left out.
        refusal = _refusal(plan, args)
        if refusal is not None:
            code, sentence = refusal
            eprint(sentence)
            return code
        if not plan.changes or args.dry_run:
            return EXIT_OK
        if not args.yes:
            if args.file == "-" or not sys.stdin.isatty():
                eprint(unconfirmed(len(plan.changes)))
                return EXIT_PROBLEMS
            try:
                yes = _ask(f"Write {len(plan.changes)} change(s) to {target.label}? [y/N] ")
            except Cancelled:
                eprint(CANCELLED)
                return EXIT_CANCELLED
            if not yes:
                eprint(CANCELLED)
                return EXIT_OK
        try:
            conflicts = await apply_import(backend, plan, _show_conflict)
        except ImportInterrupted as stop:
            eprint(_interrupted(stop, target.label))
            return EXIT_CANCELLED
    written = len(plan.changes) - conflicts
    summary = f"Imported {written} change(s) into {target.label}" + (
        f"; {conflicts} conflict(s) left untouched." if conflicts else "."
    )
    if args.json:
        eprint(summary)  # stdout holds the JSON document
    else:
        say(summary)
    return EXIT_PROBLEMS if conflicts else EXIT_OK


def _refusal(plan: ImportPlan, args: argparse.Namespace) -> tuple[int, str] | None:
    """Why the import may not write (exit code, sentence), checked before anything is written;
    None when it may go on."""
    label = plan.target.label
    if plan.refused:
        return EXIT_DENIED, (
            f"Only team admins may set or change {_names(plan.refused)}: "
            f"{'it decides' if len(plan.refused) == 1 else 'they decide'} which programs "
            "run. Nothing was written."
        )
    if plan.changes and not plan.may_write:
        if plan.target.environment is None:
            whose = f"the project defaults of {plan.target.project.name} (admins and members may)"
        else:
            whose = f"the configuration of {label} (its owner and the team's admins may)"
        return EXIT_DENIED, f"You may not change {whose}; nothing was written."
    if plan.overrides and not args.override:
        one = len(plan.overrides) == 1
        return EXIT_INPUT, (
            f"{_names(plan.overrides)} {'is' if one else 'are'} inherited from the project "
            f"defaults with another value; importing would make "
            f"{'it an override' if one else 'them overrides'} of {label}. Pass --override to "
            "do so; nothing was written."
        )
    return None


def _names(keys: list[str]) -> str:
    return ", ".join(escaped(k) for k in keys)


def _interrupted(stop: ImportInterrupted, label: str) -> str:
    parts = [f"Interrupted. Written to {label}: {_names(stop.written) or 'none'}."]
    if stop.uncertain:
        parts.append(
            f"{stop.uncertain} had not answered; it may or may not have been written "
            f"(check with devsync env get {stop.uncertain})."
        )
    parts.append(f"Not written: {_names(stop.not_written) or 'none'}.")
    return " ".join(parts)


def _show_conflict(conflict: ImportConflict) -> None:
    print_conflict(
        conflict.key,
        conflict.error,
        yours=conflict.yours,
        yours_secret=conflict.secret,
        edited=conflict.edited,
    )


def _show_plan(plan: ImportPlan, args: argparse.Namespace) -> None:
    label = plan.target.label
    if args.json:
        print_json(
            {
                "target": label,
                "dry_run": args.dry_run,
                "changes": [
                    {"key": k, "change": c, "secret": k in plan.secret_keys}
                    for k, c in plan.changes
                ],
                "unchanged_inherited": plan.unchanged_inherited,
            }
        )
        return
    if plan.unchanged_inherited:
        say(
            f"{len(plan.unchanged_inherited)} key(s) equal what {label} inherits from the "
            "project defaults: no change."
        )
    if not plan.changes:
        say(f"{label} already has every value of {args.file}.")
        return
    say(f"Changes to {label}:")
    for key, change in plan.changes:
        hidden = key in plan.hidden
        kind = "secret" if key in plan.secret_keys else "plain"
        new = f"({kind}, not shown)" if hidden else shown_value(plan.incoming[key])
        if change == "add":
            say(f"  + {key} = {new}")
        elif change == "override":
            base = plan.inherited[key]
            old = "(not shown)" if hidden else shown_value(base.value)
            say(f"  ! {key}: inherited {old} -> override {new}")
        elif hidden:
            row = plan.current.get(key)
            turned = row is not None and not row.is_secret and kind == "secret"
            say(f"  ~ {key} ({kind} value changes" + ("; a secret from now on)" if turned else ")"))
        else:
            row = plan.current.get(key)
            say(f"  ~ {key}: {shown_value(row.value if row else None)} -> {new}")
    if args.dry_run:
        say("Dry run: nothing was written.")
