"""``devsync run [--watch] [--offline] -- COMMAND ...``: run a command with the configuration.

The effective configuration of the target environment (``--env``, default: this checkout's
linked environment; ``--project-default`` for the project defaults) goes into the child's
environment; secrets are revealed where the rules allow (else left out, with a warning); file
configurations are written to a private temp dir named by ``DEVSYNC_FILES_DIR`` and removed at
exit. Signals and the exit code pass through (``machine/child.py``).

``--watch`` restarts the child (SIGTERM, then SIGKILL after ``--grace`` seconds) when the
configuration it was given changes, as seen on the live change feed (with a machine token:
checked every ``--poll`` seconds); when the child ends on its own, ``devsync run`` ends with
its exit code. A changed execution-control variable (``PATH``, ``LD_PRELOAD``, …) is never
restarted into: that is said, and the child keeps running as it was started.

The command is found with this process's own ``PATH``, never with a configured one (the child
still gets the configured ``PATH``). ``DEVSYNC_TOKEN`` or ``--token-file`` runs it as that
token's machine: the token names the environment.

The values of the secrets it injects are masked in the command's output (stdout and stderr):
each becomes ``<concealed by devsync: NAME>``; ``--no-mask`` passes the output through as it
is. Where our stdout/stderr is a terminal the command gets a pseudo-terminal for it, so it
still sees a terminal (``machine/output.py``). Values shorter than 4 characters are not masked
(said at start).

A key the environment's template marks required (``core/required.py``) and the environment
lacks stops the start: it is named and the exit code is 1; ``--allow-missing`` starts anyway
(with a warning). A machine token is checked too; an offline start is not.

Every successful online start saves an encrypted snapshot of what the child got
(``core/snapshot.py``); ``--offline`` starts from it when the backend is unreachable.

Startup stays lean: nothing heavy is imported until needed, the snapshot is written after the
child has started, and the backend is closed as soon as the child runs (unless ``--watch``).
"""

from __future__ import annotations

import argparse

from devsync_tui.commands.common import (
    UsageError,
    add_target_flags,
    add_token_flag,
    eprint,
    flag,
    machine_token,
    progress,
    run_async,
)
from devsync_tui.machine.runner import Runner, RunOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync run``."""
    parser = subparsers.add_parser(
        "run",
        help="run a command with the environment's configuration",
        description=__doc__.split("\n\n")[0].replace("``", ""),
        usage="devsync run [options] -- COMMAND [ARG ...]",
    )
    # No --json: what run prints is the command's own output.
    add_target_flags(parser, json_output=False)
    parser.add_argument(
        "--project-default", action="store_true", help="use the project defaults only"
    )
    parser.add_argument(
        "--watch", action="store_true", help="restart the command when its configuration changes"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="if the backend is unreachable, use the last encrypted snapshot",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="--watch: how long a restarted command may take to stop (default 10)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        metavar="SECONDS",
        help="--watch with a machine token: how often to check for changes (default 5)",
    )
    parser.add_argument(
        "--no-mask",
        action="store_true",
        help="do not mask the injected secrets in the command's output",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="start even when a key the environment's template requires is missing",
    )
    add_token_flag(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command and its arguments")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        eprint("Give the command to run after --, e.g. devsync run -- npm start.")
        return 2
    if args.grace < 0:
        raise UsageError("--grace must not be negative.")
    if args.project_default and args.env:
        raise UsageError("Pass either --env or --project-default, not both.")
    if args.poll is not None and not 0.5 <= args.poll <= 3600:
        raise UsageError("--poll takes 0.5 to 3600 seconds.")
    token = machine_token(args)
    options = RunOptions(
        command=tuple(command),
        profile=flag(args, "profile"),
        user=flag(args, "user"),
        project=flag(args, "project"),
        env=flag(args, "env"),
        project_default=args.project_default,
        watch=args.watch,
        offline=args.offline,
        grace=args.grace,
        token=token,
        poll_seconds=args.poll,
        mask=not args.no_mask,
        allow_missing=args.allow_missing,
    )
    return run_async(Runner(options, say=eprint, progress=progress).run())
