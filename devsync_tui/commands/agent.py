"""``devsync agent [--interval 60] [--once]``: keep this machine's environment true.

Registers (or claims) this machine's environment — ``--env NAME``, else the one linked to this
checkout, else one named after the host, created if missing — and links it to the checkout so
``devsync run``/``env`` find it. Then, every interval: cpu/memory/disk and ping into
health_checks, dependencies re-scanned when a lockfile under ``--path`` changed, status and
last sync time. It keeps going when the backend goes away (bounded buffer, backoff) and exits
cleanly on SIGTERM. ``--once`` does one round and exits (for cron and CI): 0 when everything was
stored; 1 when the dependencies or configuration states were not (a lockfile or dotenv file that
does not parse, a report the database refused), its last line naming what was not reported;
3 when not permitted; 4 when the backend was unreachable. Stopped, the long-running agent exits
0, or 1 when measurements were lost (said on stderr with how many). ``--json`` prints what the
run did as one JSON document on stdout when it ends (``--once`` or stopped). ``--path`` must be
a folder (exit 2 otherwise, nothing linked). With ``DEVSYNC_TOKEN`` or ``--token-file`` it runs
as that token's machine, for the environment the token names.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from devsync_tui.commands.common import (
    UsageError,
    add_lookup_flags,
    add_target_flags,
    add_token_flag,
    eprint,
    flag,
    machine_token,
    print_json,
    progress,
    run_async,
    say,
)
from devsync_tui.machine.agent import Agent, AgentOptions
from devsync_tui.machine.links import checkout_root


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync agent``."""
    parser = subparsers.add_parser(
        "agent",
        help="report this machine's health and dependencies",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    add_target_flags(parser)
    parser.add_argument(
        "--interval", type=float, default=60.0, metavar="SECONDS", help="default 60"
    )
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.add_argument(
        "--path",
        default=None,
        metavar="DIR",
        help="the checkout: where to look for lockfiles and dotenv files, linked to the "
        "environment (default: the checkout here)",
    )
    parser.add_argument("--no-scan", action="store_true", help="do not report dependencies")
    add_lookup_flags(parser)
    add_token_flag(parser)
    parser.add_argument(
        "--buffer",
        type=int,
        default=10_000,
        metavar="N",
        help="measurements kept while the backend is away (oldest dropped; default 10000)",
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise UsageError("--interval must be a positive number of seconds.")
    if args.buffer < 1:
        raise UsageError("--buffer must be at least 1.")
    if args.path is not None and not args.path.strip():
        raise UsageError("--path takes a folder, not an empty string.")
    options = AgentOptions(
        path=Path(args.path) if args.path is not None else checkout_root(),
        interval=args.interval,
        once=args.once,
        scan=not args.no_scan,
        use_osv=not args.no_osv,
        use_registry=not args.no_registry,
        offline=args.offline,
        buffer=args.buffer,
        profile=flag(args, "profile"),
        user=flag(args, "user"),
        project=flag(args, "project"),
        env=flag(args, "env"),
        token=machine_token(args),
    )

    async def go() -> int:
        agent = Agent(options, say=eprint, progress=progress)
        code = await agent.run()
        report = agent.report
        if args.json:
            print_json(vars(report))
        elif args.once:
            deps = (
                f", {report.dependencies} dependencies" if report.dependencies is not None else ""
            )
            if report.config_states is not None:
                deps += f", {report.config_states} configuration states"
            failed = f"; not reported: {', '.join(report.failed)}" if report.failed else ""
            say(
                f"{report.target}: stored {report.points_stored} measurements{deps}; "
                f"status {report.status}{failed}."
            )
        return code

    return run_async(go())
