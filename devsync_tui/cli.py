"""Entry point: ``devsync`` opens the TUI; ``devsync COMMAND`` runs a machine-side command.

Each subcommand lives in ``devsync_tui/commands/<module>`` and the module exposes
``register(subparsers) -> None``, which adds its parser(s) and sets ``func`` (a callable taking
the parsed ``argparse.Namespace`` and returning an exit code). Only the module of the command
the line names is imported: ``devsync --help`` lists every command from :data:`COMMANDS`
without importing any, and opening the dashboard imports none.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from devsync_tui import __version__
from devsync_tui.core.targets import NAMING_FLAGS, empty_name
from devsync_tui.dashboard.launch import run_tui
from devsync_tui.exit_codes import EXIT_CANCELLED, EXIT_INPUT, Cancelled, exit_code_for
from devsync_tui.logging_setup import log_exception

#: Every subcommand, in the order ``devsync --help`` lists them: its module under
#: ``devsync_tui/commands`` and its one-line help (the same as the module registers; a test
#: holds them together).
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("scan", "report this machine's dependencies from its lockfiles"),
    "drift": ("drift", "dependency drift report (exit 1 when drift is found)"),
    "env": ("env", "show and change configuration"),
    "run": ("run", "run a command with the environment's configuration"),
    "agent": ("agent", "report this machine's health and dependencies"),
    "login": ("login", "sign in to a Supabase profile (password or e-mailed code)"),
    "logout": ("login", "sign out and forget the stored session"),
    "whoami": ("login", "who you are signed in as, and your teams"),
    "audit": ("audit", "the team's audit log (admins)"),
    "token": ("token", "machine tokens for CI runners and servers: create, list, revoke"),
    "deps": ("deps", "accepted risks: ignore an advisory until a date, list, unignore"),
    "local": ("local", "the embedded local database (demo workspace)"),
    "db": ("db", "database maintenance (migrations)"),
}
#: The command modules, in the order of :data:`COMMANDS`.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for m, _help in COMMANDS.values()))


#: Top-level flags that take a value (``--user alice``), for ``_names_a_command``.
_VALUE_FLAGS = frozenset({"--profile", "--user", "--project", "--env", "--team"})


def build_parser(
    commands: Sequence[str] = COMMAND_MODULES, *, others: bool = True
) -> argparse.ArgumentParser:
    """The ``devsync`` parser. The subcommands of the modules named in ``commands`` are
    registered in full (a missing module is an error); with ``others`` every other subcommand
    is listed with its help but takes nothing (see :func:`_command_named`)."""
    parser = argparse.ArgumentParser(
        prog="devsync",
        description="DevSync keeps a team's environments in step. Without a command it opens "
        "the dashboard.",
    )
    parser.add_argument(
        "--version", action="version", version=f"devsync {__version__}", help="print the version"
    )
    parser.add_argument("--profile", help="settings profile (default: the default profile)")
    parser.add_argument("--user", help="local transport only: open as this demo user")
    parser.add_argument("--project", help="open straight on this project")
    parser.add_argument("--env", help="open straight on this environment (with --project)")
    parser.add_argument("--team", help="open straight on this team (name or slug)")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="a dashboard that neither changes nor reveals anything (a wall screen, pairing)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="open the dashboard on the last view cached on this machine, contacting nothing "
        "(read-only)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    for name, (module_name, help_) in COMMANDS.items():
        if module_name not in commands:
            if others:
                # add_help=False: `devsync env --help` goes on to the real parser of env.
                subparsers.add_parser(name, help=help_, add_help=False)
        elif module_name not in registered:
            registered.add(module_name)
            # Imported here, by name, and only the named command's module: importing all of
            # them (each imports the library below it) made `devsync --help` 0.31 s of CPU
            # instead of 0.05 s and `devsync run` 0.1 s slower (measured, whole process).
            module = importlib.import_module(f"devsync_tui.commands.{module_name}")
            module.register(subparsers)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, as argparse itself reads it (flags before it and their
    abbreviations included), from a parser whose subcommands take nothing. ``--help`` and
    usage errors before the command end here (SystemExit), exactly as with every module."""
    known, _rest = build_parser(commands=()).parse_known_args(argv)
    command: str | None = known.command
    return command


def _names_a_command(argv: Sequence[str]) -> bool:
    """True unless ``argv`` is only top-level flags with their values (``devsync --user bob``).

    Opening the dashboard then skips importing every subcommand module (a tenth of a second
    of the first frame); anything else, ``--help`` and mistakes included, is read by
    :func:`_command_named` first.
    """
    tokens = iter(argv)
    for token in tokens:
        if token in _VALUE_FLAGS:
            next(tokens, None)
        elif token.split("=", 1)[0] not in _VALUE_FLAGS:
            return True
    return False


#: Set to a machine token, it makes run, env export, scan and agent act as that machine.
TOKEN_ENV_VAR = "DEVSYNC_TOKEN"


def refuse_token(args: argparse.Namespace) -> str | None:
    """Why this command may not run with ``DEVSYNC_TOKEN`` set (None: it may). Only the
    commands registered with ``--token-file`` act as a machine; the dashboard and every other
    command would act as a person, so a token there is a mistake, said before anything runs."""
    if not os.environ.get(TOKEN_ENV_VAR) or getattr(args, "accepts_token", False):
        return None
    what = "the dashboard" if getattr(args, "func", None) is None else "this command"
    return (
        f"{TOKEN_ENV_VAR} is set, and a machine token works only with devsync run, env export, "
        f"env status, env pull, scan and agent, not with {what}; unset {TOKEN_ENV_VAR} to act "
        "as yourself."
    )


def _empty_name(args: argparse.Namespace) -> str | None:
    """Why ``--project ""`` (``--env``, ``--team``, ``--user``, ``--profile``) is refused, for
    the dashboard and every command alike: it names nothing, and must not silently mean the
    default (the commands say the same, ``commands/common.flag``)."""
    for name in NAMING_FLAGS:
        problem = empty_name(name, getattr(args, name, None))
        if problem is not None:
            return problem
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """``devsync``: parse ``argv`` and run the dashboard or the command; the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if _names_a_command(argv):
            command = _command_named(argv)
            parser = build_parser(commands=(COMMANDS[command][0],) if command else ())
        else:  # the dashboard: no subcommand at all (half a millisecond less to its start)
            parser = build_parser(commands=(), others=False)
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    refusal = refuse_token(args) or _empty_name(args)
    if refusal is not None:
        print(f"devsync: {refusal}", file=sys.stderr)
        return EXIT_INPUT
    try:
        if func is None:
            return run_tui(args)
        return func(args)
    except KeyboardInterrupt:  # Ctrl-C outside a question: maybe while a request was out
        print(
            "devsync: Interrupted; a change already sent may have been made "
            "(`devsync env history KEY` shows each version).",
            file=sys.stderr,
        )
        return EXIT_CANCELLED
    except Cancelled as exc:  # Ctrl-C at a prompt
        print(f"devsync: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # last resort: one sentence, details in the log
        code = exit_code_for(exc)
        log_exception(exc)
        message = str(exc) or type(exc).__name__
        print(f"devsync: {message}", file=sys.stderr)
        return code if code else EXIT_INPUT
