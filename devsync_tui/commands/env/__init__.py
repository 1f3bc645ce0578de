"""``devsync env``: the configuration of an environment (or of the project defaults).

``list``, ``get KEY``, ``set KEY[=VALUE]``, ``unset KEY``, ``link``, ``unlink`` (``edit.py``);
``export``, ``diff ENV_A ENV_B`` (``transfer.py``), ``import FILE`` (``importing.py``),
``history KEY``, ``restore KEY --version N`` (``history.py``), ``owner USER`` (``owner.py``).
Writes follow the dashboard's rules: every save names the version it edited
(``Backend.save_configuration(expected_version=…)``); if the row moved on, nothing is written,
theirs and yours are printed, and the exit code is 1. Secret values are read from stdin,
``--file`` or a hidden prompt — never needed on the command line — and are never printed
unless asked for by ``get`` (which reveals, audited, where the rules allow).
``--project-default`` works on the project defaults instead of an environment.
"""

from __future__ import annotations

import argparse

from devsync_tui.commands.common import add_target_flags, add_token_flag, run_async
from devsync_tui.commands.env import edit, history, importing, owner, status, transfer


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
    env = subparsers.add_parser(
        "env",
        help="show and change configuration",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    sub = env.add_subparsers(dest="env_action", metavar="ACTION", required=True)

    p = _leaf(sub, "list", "the effective configuration (secrets masked)")
    p.set_defaults(func=lambda a: run_async(edit.list_(a)))

    p = _leaf(sub, "get", "print one value (a secret is revealed where you may)")
    p.add_argument("key")
    p.set_defaults(func=lambda a: run_async(edit.get(a)))

    p = _leaf(sub, "set", "set a value: KEY=VALUE, or KEY with the value from stdin/--file/prompt")
    p.add_argument("assignment", metavar="KEY[=VALUE]")
    p.add_argument(
        "--secret",
        action="store_true",
        help="store as a secret (a key new to the configuration whose name looks like a "
        "credential's, *_TOKEN, *_KEY, *PASSWORD*, …, is one without it, as env import does; "
        "an existing key keeps its secrecy)",
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="store as a plain value: a secret becomes plain, and a new credential-like key "
        "is not made a secret",
    )
    p.add_argument("--file", metavar="PATH", help="read the value from PATH ('-': stdin), exactly")
    p.add_argument("--type", choices=["env_var", "file"], help="default: from the key's shape")
    p.add_argument(
        "--expected-version",
        type=_version,
        metavar="N",
        help="write only if the stored version is still N (read-modify-write)",
    )
    p.set_defaults(func=lambda a: run_async(edit.set_(a)))

    p = _leaf(sub, "unset", "delete a key from the environment (or the project defaults)")
    p.add_argument("key")
    p.add_argument("--expected-version", type=_version, metavar="N")
    p.set_defaults(func=lambda a: run_async(edit.unset(a)))

    p = _leaf(sub, "export", "the effective configuration as a dotenv/json/shell/docker file")
    p.add_argument("--format", choices=transfer.FORMATS, help="default: dotenv (json with --json)")
    p.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write here instead of stdout, atomically and 0600 (an existing file too); "
        "a link is kept and its file written; a FIFO or device (/dev/stdout) is written "
        "through",
    )
    add_token_flag(p)
    p.set_defaults(func=lambda a: run_async(transfer.export(a)))

    importing.register(sub, _leaf)
    history.register(sub, _leaf)

    p = _leaf(sub, "diff", "keys missing or different between two environments", scope=False)
    p.add_argument("env_a", metavar="ENV_A")
    p.add_argument("env_b", metavar="ENV_B")
    p.set_defaults(func=lambda a: run_async(transfer.diff(a)))

    p = _leaf(sub, "link", "make an environment this checkout's default --env", scope=False)
    p.add_argument(
        "--file",
        action="append",
        default=None,
        metavar="PATH",
        help="a dotenv file the checkout uses besides .env and .env.local (repeatable)",
    )
    p.set_defaults(func=lambda a: run_async(edit.link(a)))

    p = _leaf(sub, "status", "what this checkout runs against the configuration", scope=False)
    p.add_argument("path", metavar="PATH", nargs="?", help="the checkout (default: here)")
    add_token_flag(p)
    p.set_defaults(func=lambda a: run_async(status.status(a)))

    p = _leaf(sub, "pull", "write the synced values into this checkout's files", scope=False)
    p.add_argument("path", metavar="PATH", nargs="?", help="the checkout (default: here)")
    p.add_argument(
        "--file", default=".env", metavar="NAME", help="where keys the checkout lacks go (.env)"
    )
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before writing")
    add_token_flag(p)
    p.set_defaults(func=lambda a: run_async(status.pull(a)))
    p = _leaf(sub, "unlink", "forget this checkout's default environment", scope=False)
    p.set_defaults(func=lambda a: run_async(edit.unlink(a)))

    owner.register(sub, _leaf)
