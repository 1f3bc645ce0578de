"""``devsync env export|import|diff``: configuration in and out of files, and side by side.

The rules live in ``machine/env_transfer.py``; this module reads the arguments, asks before an
import writes, and prints.

- export: ``--output`` writes atomically with mode 0600; secrets the user may not reveal are
  left out with a warning on stderr, and so are file configurations (``devsync run`` writes
  them).
- import: the whole file is checked before anything is written; the diff is shown first
  (secret values never), then, on a terminal, a question (``--yes`` skips it). A key someone
  changed meanwhile is not overwritten: theirs vs yours is shown and the exit code is 1.
- diff: exit 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devsync_tui.commands.common import UsageError, eprint, open_from_args, print_json, say
from devsync_tui.commands.env.edit import print_conflict, target_of
from devsync_tui.commands.env.reading import read_bounded
from devsync_tui.commands.prompt import ask
from devsync_tui.core.printable import escaped
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine import env_transfer
from devsync_tui.machine.env_transfer import FORMATS, ImportConflict, ImportPlan
from devsync_tui.machine.targets import Target, find_environment, find_project
from devsync_tui.machine.values import gather, write_private

__all__ = ["FORMATS", "diff", "export", "import_"]


# -- export -----------------------------------------------------------------------------------
async def export(args: argparse.Namespace) -> int:
    """``devsync env export``."""
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        effective = await gather(backend, target)
    done = env_transfer.export(effective, args.format)
    if done.withheld:
        eprint("warning: left out secrets you may not reveal: " + ", ".join(done.withheld))
    if done.files_left_out:
        eprint(
            f"note: {len(done.files_left_out)} file configuration(s) are not variables and "
            "were left out (devsync run writes them)."
        )
    if done.docker_incompatible:
        eprint(
            "note: quoted values make this file unfit for docker --env-file ("
            + ", ".join(done.docker_incompatible)
            + "); use --format docker."
        )
    if args.output:
        write_private(Path(args.output), done.text)
        eprint(f"wrote {len(done.variables)} variable(s) of {target.label} to {args.output}.")
    else:
        sys.stdout.write(done.text)
        sys.stdout.flush()
    return EXIT_OK


# -- import -----------------------------------------------------------------------------------
async def import_(args: argparse.Namespace) -> int:
    """``devsync env import FILE``."""
    raw = read_bounded(args.file, env_transfer.MAX_IMPORT_BYTES, "a .env file may hold 16 MiB")
    incoming = env_transfer.parse_import(raw, args.file, lambda line: eprint(f"warning: {line}"))
    unknown = sorted(set(args.secret) - set(incoming))
    if unknown:
        raise UsageError("--secret names keys not in the file: " + ", ".join(unknown) + ".")
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        plan = await env_transfer.plan_import(backend, target, incoming, args.secret)
        _show_plan(plan, args)
        if not plan.changes or args.dry_run:
            return EXIT_OK
        if sys.stdin.isatty() and args.file != "-" and not args.yes:
            question = f"Write {len(plan.changes)} change(s) to {target.label}? [y/N] "
            # In this thread, not another: Ctrl-C must end the question at once.
            answer = ask(escaped(question))
            if answer.strip().lower() not in {"y", "yes"}:
                eprint("nothing was written.")
                return EXIT_OK
        conflicts = await env_transfer.apply_import(backend, plan, _show_conflict)
    written = len(plan.changes) - conflicts
    summary = f"Imported {written} change(s) into {target.label}" + (
        f"; {conflicts} conflict(s) left untouched." if conflicts else "."
    )
    if args.json:
        eprint(summary)  # stdout holds the JSON document
    else:
        say(summary)
    return EXIT_PROBLEMS if conflicts else EXIT_OK


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
                "changes": [{"key": k, "change": c} for k, c in plan.changes],
            }
        )
        return
    if not plan.changes:
        say(f"{label} already has every value of {args.file}.")
        return
    say(f"Changes to {label}:")
    for key, change in plan.changes:
        row = plan.current.get(key)
        secret = key in plan.secret_keys
        if change == "add":
            shown = "(secret)" if secret else repr(plan.incoming[key])
            say(f"  + {key} = {shown}")
        elif secret:
            say(f"  ~ {key} (secret value changes)")
        else:
            say(f"  ~ {key}: {row.value if row else None!r} -> {plan.incoming[key]!r}")
    if args.dry_run:
        say("Dry run: nothing was written.")


# -- diff -------------------------------------------------------------------------------------
async def diff(args: argparse.Namespace) -> int:
    """``devsync env diff ENV_A ENV_B``."""
    async with open_from_args(args) as backend:
        project = await find_project(backend, args.project) if args.project else None
        sides: list[Target] = []
        for ref in (args.env_a, args.env_b):
            sides.append(Target(*await find_environment(backend, ref, project)))
        report = await env_transfer.compare(backend, sides[0], sides[1])
    a, b = sides[0].label, sides[1].label
    if args.json:
        print_json({"a": a, "b": b, **report.to_json()})
        return EXIT_PROBLEMS if report.differs else EXIT_OK
    for key in report.only_a:
        say(f"- {key}: only in {a}")
    for key in report.only_b:
        say(f"+ {key}: only in {b}")
    for item in report.different:
        if item.secret:
            say(f"~ {item.key}: secret values differ")
        else:
            say(f"~ {item.key}: {item.a!r} ({a}) vs {item.b!r} ({b})")
    for key in report.cannot_compare:
        say(f"? {key}: secret; cannot compare (you may not reveal it on both sides)")
    if not (report.differs or report.cannot_compare):
        say(f"{a} and {b} have the same configuration.")
    return EXIT_PROBLEMS if report.differs else EXIT_OK
