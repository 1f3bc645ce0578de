"""Plumbing every command shares: the shared flags, options from the parsed arguments, output,
and errors mapped to exit codes.

- :func:`add_target_flags` / :func:`add_lookup_flags`: the flags data commands share.
- :func:`run_async` runs a command's coroutine and turns DevSync errors into the exit codes of
  ``exit_codes.py`` with one plain sentence on stderr (details and tracebacks go to the log).
- :func:`open_from_args` opens the Backend named by ``--profile``/``--user``
  (``machine.connect``), or the machine of ``DEVSYNC_TOKEN``/``--token-file`` for the commands
  that take one (:func:`add_token_flag`); use it as ``async with open_from_args(args) as
  backend``.
- :func:`resolve_target` turns ``--project``/``--env`` into a :class:`Target`
  (``machine.targets``, where the rules are written).
- :func:`eprint`, :func:`say` and :func:`print_json`: what a command says, on stderr and
  stdout, with text from others made safe for a terminal (``core.printable``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.core.crypto import CryptoError
from devsync_tui.core.machine_token import ENV_VAR as TOKEN_ENV_VAR
from devsync_tui.core.machine_token import MachineToken, TokenError, from_environment
from devsync_tui.core.printable import escaped, json_escaped
from devsync_tui.core.targets import NAMING_FLAGS
from devsync_tui.exit_codes import (
    EXIT_CANCELLED,
    EXIT_INPUT,
    Cancelled,
    Interrupted,
    exit_code_for,
)
from devsync_tui.logging_setup import log_exception, setup_logging
from devsync_tui.machine.connect import connected, profile_name
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.targets import Target, TargetQuery, linked_as, require_name
from devsync_tui.machine.targets import resolve_target as resolve
from devsync_tui.settings import LOCAL_PROFILE, SettingsError, load_settings

_log = logging.getLogger("devsync.cli")


def add_target_flags(
    parser: argparse.ArgumentParser,
    *,
    target: bool = True,
    json_output: bool = True,
    project_help: str = "project name or id",
    env_help: str = "environment name or id (default: this machine's)",
) -> None:
    """Flags every data command shares: which profile, identity, project and environment,
    and ``--json``.

    The first four also exist before the command (``devsync --user bob env list``); SUPPRESS
    keeps a subcommand's unset flag from overwriting the value given there with None. A command
    offers only the flags it acts on: ``target=False`` leaves out ``--project``/``--env`` (an
    action on one thing named by id), ``json_output=False`` leaves out ``--json`` (a command
    whose output is not its own, ``devsync run``); every command that offers ``--json`` prints
    one JSON document on stdout with it. ``project_help``/``env_help`` say what the two mean
    where they are not the target to act on (a filter: ``audit``, ``token list``).
    """
    keep = argparse.SUPPRESS
    parser.add_argument(
        "--profile", default=keep, help="settings profile to use (default: the default profile)"
    )
    parser.add_argument("--user", default=keep, help="local transport only: act as this demo user")
    if target:
        parser.add_argument("--project", default=keep, help=project_help)
        parser.add_argument("--env", default=keep, help=env_help)
    if json_output:
        parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_lookup_flags(parser: argparse.ArgumentParser) -> None:
    """``--no-osv`` and ``--no-registry``, shared by ``scan`` and ``agent``."""
    parser.add_argument(
        "--no-osv", action="store_true", help="do not look vulnerabilities up in OSV"
    )
    parser.add_argument(
        "--no-registry",
        action="store_true",
        help="do not ask the package registries for the latest releases (outdated status)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="ask no network: answer from the local caches, say what could not be checked and "
        "keep the last known state",
    )


def add_token_flag(parser: argparse.ArgumentParser) -> None:
    """``--token-file``: this command may act as a machine (``DEVSYNC_TOKEN`` works too). Every
    command without it refuses a token (``cli.refuse_token``)."""
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"act as the machine of the token in PATH (a file only you may read; or "
        f"{TOKEN_ENV_VAR})",
    )
    parser.set_defaults(accepts_token=True)


#: What a command that cannot act as a machine says when it is given a token.
TOKEN_NOT_HERE = (
    f"A machine token ({TOKEN_ENV_VAR}) works only with devsync run, env export, env status, "
    f"env pull, scan and agent; unset {TOKEN_ENV_VAR} to act as yourself."
)


class UsageError(InputError):
    """Bad input on the command line or in a file: exit 2 with this sentence."""


def eprint(message: str) -> None:
    """One line on stderr, prefixed like every DevSync CLI message. Text from others in it
    (names, values) shows characters a terminal would act on as escapes."""
    print(f"devsync: {escaped(message)}", file=sys.stderr, flush=True)


def say(text: str) -> None:
    """Text for a person on stdout, with text from others in it escaped like :func:`eprint`'s
    (values meant to be piped elsewhere are written as they are, not through here)."""
    print(escaped(text))


def print_json(payload: Any) -> None:
    """Machine-readable output (``--json``): one JSON document on stdout. Characters a
    terminal would act on are written as ``\\u`` escapes, which parsers read back unchanged."""
    document = json.dumps(payload, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    print(json_escaped(document))


def exit_for(exc: BaseException) -> int:
    """Print one sentence for ``exc`` and return its exit code (details to the log)."""
    if isinstance(exc, Cancelled | Interrupted):
        eprint(str(exc))
        return EXIT_CANCELLED
    if isinstance(exc, InputError):
        eprint(str(exc))
        return EXIT_INPUT
    if isinstance(exc, DevSyncError):
        log_exception(exc)
        eprint(str(exc) or type(exc).__name__)
        return exit_code_for(exc)
    if isinstance(exc, SettingsError):
        eprint(str(exc))
        return EXIT_INPUT
    if isinstance(exc, BrokenPipeError):
        # The reader of our output went away (`devsync drift | head -1`): nothing to say, and
        # nowhere to say it on stdout; exit like a process killed by SIGPIPE.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    if isinstance(exc, OSError):
        if exc.filename is None:
            log_exception(exc)
        else:  # a path the user gave that cannot be used: bad input, not a crash
            _log.info("stopped: %s", exc)
        where = f" ({exc.filename})" if exc.filename else ""
        eprint(f"{exc.strerror or exc}{where}.")
        return EXIT_INPUT
    if isinstance(exc, CryptoError):
        log_exception(exc)
        eprint(str(exc))
        return EXIT_INPUT
    raise exc


#: 128 + SIGPIPE, what a shell reports for a writer whose reader has gone.
EXIT_BROKEN_PIPE = 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the final flush at exit does not fail again (Python
    would print an "Exception ignored … BrokenPipeError" there)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (captured in tests)
        pass


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command coroutine to its exit code; errors become one sentence and a code.

    Library warnings go to the log file (not the terminal, where they would read as noise).
    """
    setup_logging()
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return exit_for(exc)


def progress(message: str) -> None:
    """A slow step (starting the embedded database can take seconds): said only to a person."""
    if sys.stderr.isatty():
        eprint(message)
    _log.info("%s", message)


def flag(args: argparse.Namespace, name: str) -> str | None:
    """A shared flag's value: the target flags are absent from ``args`` when never given.
    ``--project ""``, ``--env ""``, ``--team ""``, ``--user ""`` and ``--profile ""`` are bad
    input (InputError): given empty they name nothing, rather than silently mean the default."""
    value: str | None = getattr(args, name, None)
    if name in NAMING_FLAGS:
        require_name(name, value)
    return value


def check_names(args: argparse.Namespace) -> None:
    """InputError when a naming flag (``--project``, ``--env``, ``--team``, ``--user``,
    ``--profile``) was given empty (see :func:`flag`)."""
    for name in NAMING_FLAGS:
        flag(args, name)


def machine_token(args: argparse.Namespace) -> MachineToken | None:
    """The token this invocation acts with (``--token-file``, else ``DEVSYNC_TOKEN``), or None;
    a command that takes none refuses one (UsageError)."""
    if not getattr(args, "accepts_token", False):
        if os.environ.get(TOKEN_ENV_VAR):
            raise UsageError(TOKEN_NOT_HERE)
        return None
    try:
        token = from_environment(os.environ, flag(args, "token_file"))
    except TokenError as exc:
        raise UsageError(str(exc)) from None
    if token is not None:
        _require_token_project(args, token)
    return token


def _require_token_project(args: argparse.Namespace, token: MachineToken) -> None:
    """UsageError when no project is configured for ``token``: no ``--profile``, no
    ``DEVSYNC_PROFILE``, no ``default_profile`` in the settings and neither ``SUPABASE_URL`` nor
    ``DEVSYNC_DATABASE_URL``. The built-in local profile that is left would start, and on a
    fresh CI runner create, the embedded database, which knows no such token ("not valid").
    A local profile the user chose (``--profile local``, ``DEVSYNC_DATABASE_URL``, a local
    default profile) is used as before."""
    settings = load_settings()
    if flag(args, "profile") or settings.env_profile or settings.default_profile:
        return
    if settings.active_profile_name() != LOCAL_PROFILE:
        return  # SUPABASE_URL/SUPABASE_ANON_KEY, or DEVSYNC_DATABASE_URL
    raise UsageError(
        f"No Supabase project is set for the machine token in {token.source}: set "
        "SUPABASE_URL and SUPABASE_ANON_KEY, or name a profile with --profile "
        f"(--profile {LOCAL_PROFILE} for the local database)."
    )


@asynccontextmanager
async def open_from_args(args: argparse.Namespace) -> AsyncIterator[Backend]:
    """The connected Backend for ``--profile``/``--user`` (or the token's machine); closed when
    the block ends."""
    check_names(args)  # an empty name is refused before anything connects
    async with connected(
        flag(args, "profile"), flag(args, "user"), progress=progress, token=machine_token(args)
    ) as backend:
        yield backend


def target_query(args: argparse.Namespace) -> TargetQuery:
    """``--profile``, ``--project`` and ``--env`` as the target resolver takes them."""
    return TargetQuery(flag(args, "profile"), flag(args, "project"), flag(args, "env"))


def profile_of(args: argparse.Namespace) -> str:
    """The active profile's name (``--profile``, ``DEVSYNC_PROFILE``, … as settings decide)."""
    return profile_name(flag(args, "profile"))


def from_link(args: argparse.Namespace, backend: Backend, target: Target) -> bool:
    """Whether ``target``'s environment came from a link (this checkout's or this machine's; no
    ``--env`` given), so that a command can say so (:func:`link_words`)."""
    return (
        target.environment is not None
        and target.link is not None
        and flag(args, "env") is None
        and not isinstance(backend, MachineBackend)
    )


def link_words(target: Target) -> str:
    """Which link chose ``target``: ``the environment linked to this checkout``, or ``this
    machine's environment, linked last from /path/to/checkout`` (the machine-wide link)."""
    assert target.link is not None
    return linked_as(target.link)


def scope_sentence(args: argparse.Namespace, backend: Backend, target: Target) -> str:
    """What a configuration command works on, in words: ``storefront/bob-laptop (the
    environment linked to this checkout): its overrides over the project defaults`` (or
    ``(this machine's environment, linked last from /path)`` where the checkout has no link)."""
    if target.environment is None:
        return f"{target.project.name}: the project defaults"
    linked = f" ({link_words(target)})" if from_link(args, backend, target) else ""
    return f"{target.label}{linked}: its overrides over the project defaults"


async def resolve_target(
    backend: Backend, args: argparse.Namespace, *, require_environment: bool = True
) -> Target:
    """The project and environment ``--project``/``--env`` (or the link) name."""
    try:
        return await resolve(backend, target_query(args), require_environment=require_environment)
    except InputError as exc:
        # `--project P` alone, where the command takes the project's defaults too: say how.
        if (
            require_environment
            and getattr(args, "project", None)
            and not getattr(args, "env", None)
            and hasattr(args, "project_default")
            and str(exc).startswith("No environment is linked to this checkout")
        ):
            raise InputError(
                f"{str(exc).rstrip('.')}; for the project defaults of {args.project}, "
                "add --project-default."
            ) from None
        raise
