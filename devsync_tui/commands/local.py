"""``devsync local start|stop|status|url|reset|delete|demo``: the embedded PostgreSQL with the demo
workspace.

Progress lines go to stderr so that stdout stays clean for scripts (``psql "$(devsync local
url)"``). ``status`` exits 0 when the server runs and 4 when it does not.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from devsync_tui.backend.postgres import demo_large
from devsync_tui.backend.postgres import server as local
from devsync_tui.commands.common import eprint, exit_for
from devsync_tui.commands.prompt import ask
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS, EXIT_UNAVAILABLE
from devsync_tui.logging_setup import setup_logging


def register(subparsers: Any) -> None:
    """Add ``devsync local`` and its actions."""
    parser = subparsers.add_parser(
        "local",
        help="the embedded local database (demo workspace)",
        description="Manage the embedded PostgreSQL that DevSync uses when no Supabase project "
        "is configured. Its data lives under the user-data folder (override DEVSYNC_DATA_DIR).",
    )
    actions = parser.add_subparsers(dest="local_action", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="start it (first start creates the demo workspace)")
    start.set_defaults(func=_start)
    stop = actions.add_parser("stop", help="stop it")
    stop.set_defaults(func=_stop)
    status = actions.add_parser("status", help="say where it lives and whether it runs")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=_status)
    url = actions.add_parser("url", help="print a superuser connection URL (for psql)")
    url.add_argument("--start", action="store_true", help="start the database first if needed")
    url.set_defaults(func=_url)
    reset = actions.add_parser("reset", help="delete all local data and recreate the demo")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(func=_reset)
    delete = actions.add_parser(
        "delete", help="delete all local data and leave it deleted (e.g. before uninstalling)"
    )
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=_delete)
    demo = actions.add_parser(
        "demo",
        help="add the benchmark project 'monolith' (large: 200 machines, 100k dependencies, "
        "10k configurations, 1M health points)",
    )
    demo.add_argument("--size", choices=("small", "large"), default="large")
    demo.set_defaults(func=_demo)


def _progress(line: str) -> None:
    eprint(line)


def _guard(action: Any, args: argparse.Namespace) -> int:
    # The log file gets what the server module logs (the root notice among it). Without a
    # handler Python's last resort would print those warnings on stderr a second time,
    # unprefixed, beside the lines ``ensure_running`` already says.
    setup_logging()
    try:
        result: int = action(args)
        return result
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return exit_for(exc)


def _start(args: argparse.Namespace) -> int:
    def run(_args: argparse.Namespace) -> int:
        url = local.ensure_running(_progress, asked=True)
        _apply_retention(url)
        state = local.status()
        print(f"The local database is running (pid {state.pid}); data in {state.data_dir}.")
        print('Connect with: psql "$(devsync local url)"')
        return EXIT_OK

    return _guard(run, args)


def _stop(args: argparse.Namespace) -> int:
    def run(_args: argparse.Namespace) -> int:
        if local.stop():
            print("Stopped the local database.")
        else:
            print("The local database was not running.")
        return EXIT_OK

    return _guard(run, args)


def _status(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        state = local.status()
        if args.json:
            payload = {
                "data_dir": str(state.data_dir),
                "initialized": state.initialized,
                "running": state.running,
                "pid": state.pid,
                "url": state.url,
                "postgres_version": state.postgres_version,
                "migrations_applied": state.migrations_applied,
                "migrations_available": state.migrations_available,
            }
            print(json.dumps(payload, indent=2, sort_keys=True))
        else:
            print(f"data:       {state.data_dir}")
            if not state.initialized:
                print("state:      not created yet (`devsync local start` creates it)")
            elif state.running:
                print(f"state:      running (pid {state.pid}, PostgreSQL {state.postgres_version})")
                print(f"url:        {state.url}")
                print(
                    f"migrations: {state.migrations_applied} of {state.migrations_available} "
                    "applied"
                )
            else:
                print(f"state:      stopped (PostgreSQL {state.postgres_version})")
        return EXIT_OK if state.running else EXIT_UNAVAILABLE

    return _guard(run, args)


def _url(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        print(local.ensure_running(_progress, asked=True) if args.start else local.url())
        return EXIT_OK

    return _guard(run, args)


def _not_confirmed(args: argparse.Namespace, question: str, where: Path) -> int | None:
    """None when the user confirmed (``--yes``, or answered yes); else the exit code. Without
    a terminal to ask on, nothing is deleted and the exit code is 1, as ``env import`` and
    ``env pull`` do when they cannot ask (``commands/env/edit.unconfirmed``)."""
    if args.yes:
        return None
    if not sys.stdin.isatty():
        eprint(
            "Nothing was deleted: there is no terminal to confirm on; run again with --yes to "
            f"delete the local database in {where}."
        )
        return EXIT_PROBLEMS
    if ask(question).strip().lower() not in ("y", "yes"):
        print("Nothing deleted.")
        return EXIT_OK
    return None


def _reset(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        where = local.status().data_dir
        question = f"Delete every local DevSync record in {where} and recreate the demo? [y/N] "
        if (refused := _not_confirmed(args, question, where)) is not None:
            return refused
        local.reset()
        print(f"Deleted the local database in {where}.")
        local.ensure_running(_progress, asked=True)
        print("Recreated the local database with the demo workspace.")
        return EXIT_OK

    return _guard(run, args)


def _delete(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        state = local.status()
        where = state.data_dir
        if not state.initialized:
            local.reset()  # what a first start cut short may have left: no data, nothing to ask
            print(f"There is no local database in {where}.")
            return EXIT_OK
        question = f"Delete every local DevSync record in {where} for good? [y/N] "
        if (refused := _not_confirmed(args, question, where)) is not None:
            return refused
        local.reset()
        print(f"Deleted the local database in {where}.")
        print("The next `devsync local start` (or `devsync`) creates a new one with the demo.")
        return EXIT_OK

    return _guard(run, args)


def _apply_retention(url: str) -> None:
    """Health retention on the local database: raw points older than 7 days become hourly
    roll-ups (on Supabase, pg_cron or an admin's agent does this)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select public.rollup_health_checks()").fetchone()
    if row and row[0]:
        print(f"Rolled {row[0]} health points older than 7 days up into hourly points.")


def _demo(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        url = local.ensure_running(_progress)
        started = time.perf_counter()
        demo_large.generate(url, args.size, lambda step: eprint(f"adding {step}"))
        print(
            f"Project {demo_large.PROJECT_NAME!r} ({args.size}) is in team Acme "
            f"({time.perf_counter() - started:.1f} s): devsync --project {demo_large.PROJECT_NAME}"
        )
        return EXIT_OK

    return _guard(run, args)
