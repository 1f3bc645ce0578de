"""``devsync env export|import|diff``: configuration in and out of files, and side by side.

The rules live in ``machine/env_transfer.py``; this module reads the arguments, asks before an
import writes, and prints.

- export: ``--output`` writes atomically with mode 0600, keeps a link (its file is written)
  and writes through a FIFO or a device (``/dev/stdout``); secrets the user may not reveal are
  left out with a warning on stderr, and so are file configurations (``devsync run`` writes
  them). ``--json`` is ``--format json``; with another ``--format`` it is an error.
- import: ``importing.py``.
- diff: exit 1 when anything differs; ``--env`` is refused (the two environments are its
  arguments), ``--project`` says where to find them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devsync_tui.commands.common import UsageError, eprint, open_from_args, print_json, say
from devsync_tui.commands.env.edit import refuse_flags, shown_value, target_of
from devsync_tui.core.private_file import refuse_folder
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine import env_transfer
from devsync_tui.machine.env_transfer import FORMATS
from devsync_tui.machine.targets import Target, find_environment, find_project
from devsync_tui.machine.values import gather, write_private

__all__ = ["FORMATS", "diff", "export"]


# -- export -----------------------------------------------------------------------------------
async def export(args: argparse.Namespace) -> int:
    """``devsync env export``."""
    format_ = _format_of(args)
    if args.output:
        refuse_folder(Path(args.output))  # before any secret is revealed
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        effective = await gather(backend, target)
    done = env_transfer.export(effective, format_)
    if done.withheld:
        eprint("warning: left out secrets you may not reveal: " + ", ".join(done.withheld))
    if done.files_left_out:
        eprint(
            f"note: {len(done.files_left_out)} file configuration(s) are not variables and "
            "were left out (devsync run writes them)."
        )
    if done.docker_refused:
        # No format carries these to docker: recommending --format docker would only be
        # refused with this very sentence.
        eprint(f"note: this file is not for docker --env-file: {done.docker_refused}.")
    elif done.docker_incompatible:
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


def _format_of(args: argparse.Namespace) -> str:
    """The format export writes: ``--format``, else json with ``--json``, else dotenv.
    UsageError when ``--json`` meets another ``--format``."""
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json asks for --format json, not {args.format}; give only one.")
    return args.format or ("json" if args.json else "dotenv")


# -- diff -------------------------------------------------------------------------------------
async def diff(args: argparse.Namespace) -> int:
    """``devsync env diff ENV_A ENV_B``."""
    refuse_flags(args, "env diff", "name the two environments as ENV_A ENV_B", "env")
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
            say(f"~ {item.key}: {shown_value(item.a)} ({a}) vs {shown_value(item.b)} ({b})")
    for key in report.cannot_compare:
        say(f"? {key}: secret; cannot compare (you may not reveal it on both sides)")
    if not (report.differs or report.cannot_compare):
        say(f"{a} and {b} have the same configuration.")
    return EXIT_PROBLEMS if report.differs else EXIT_OK
