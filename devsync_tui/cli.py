"""Entry point: ``devsync`` opens the TUI; ``devsync COMMAND`` runs a machine-side command.

Each subcommand lives in ``devsync_tui/commands/<name>.py`` and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (a callable taking
the parsed ``argparse.Namespace`` and returning an exit code). Modules import their heavy
dependencies inside the handler so that ``devsync --help`` and the TUI start stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from devsync_tui.exit_codes import EXIT_INPUT, exit_code_for

#: Subcommand modules, in the order ``devsync --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "scan",
    "drift",
    "env",
    "run",
    "agent",
    "login",
    "local",
    "db",
)


def add_target_flags(parser: argparse.ArgumentParser) -> None:
    """Flags every data command shares: which profile, identity, project and environment.

    The first four also exist before the command (``devsync --user bob env list``); SUPPRESS
    keeps a subcommand's unset flag from overwriting the value given there with None.
    """
    keep = argparse.SUPPRESS
    parser.add_argument(
        "--profile", default=keep, help="settings profile to use (default: the default profile)"
    )
    parser.add_argument("--user", default=keep, help="local transport only: act as this demo user")
    parser.add_argument("--project", default=keep, help="project name or id")
    parser.add_argument(
        "--env", default=keep, help="environment name or id (default: this machine's)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


#: Top-level flags that take a value (``--user alice``), for ``_names_a_command``.
_VALUE_FLAGS = frozenset({"--profile", "--user", "--project", "--env", "--team"})


def build_parser(commands: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devsync",
        description="DevSync keeps a team's environments in step. Without a command it opens "
        "the dashboard.",
    )
    parser.add_argument("--profile", help="settings profile (default: the default profile)")
    parser.add_argument("--user", help="local transport only: open as this demo user")
    parser.add_argument("--project", help="open straight on this project")
    parser.add_argument("--env", help="open straight on this environment (with --project)")
    parser.add_argument("--team", help="open straight on this team (name or slug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        try:
            module = importlib.import_module(f"devsync_tui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"devsync_tui.commands.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def _names_a_command(argv: Sequence[str]) -> bool:
    """True unless ``argv`` is only top-level flags with their values (``devsync --user bob``).

    Opening the dashboard then skips importing every subcommand module (a tenth of a second
    of the first frame); anything else, ``--help`` and mistakes included, gets the full parser.
    """
    tokens = iter(argv)
    for token in tokens:
        if token in _VALUE_FLAGS:
            next(tokens, None)
        elif token.split("=", 1)[0] not in _VALUE_FLAGS:
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser() if _names_a_command(argv) else build_parser(commands=())
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    try:
        if func is None:
            from devsync_tui.dashboard.launch import run_tui

            return run_tui(args)
        return func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: one sentence, details in the log
        code = exit_code_for(exc)
        from devsync_tui.logging_setup import log_exception

        log_exception(exc)
        message = str(exc) or type(exc).__name__
        print(f"devsync: {message}", file=sys.stderr)
        return code if code else EXIT_INPUT
