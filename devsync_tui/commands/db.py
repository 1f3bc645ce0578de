"""``devsync db migrate``: apply DevSync's migrations to any PostgreSQL server.

For a Supabase project use ``supabase db push`` instead; this command is for a plain
PostgreSQL (``--supabase-compat`` first installs the stand-in roles and ``auth`` schema) and
for a Supabase database reached directly. It records migrations as the Supabase CLI does.
"""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres.migrate import applied_versions, apply_migrations
from devsync_tui.commands.common import UsageError, exit_for
from devsync_tui.exit_codes import EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``devsync db`` and ``devsync db migrate``."""
    parser = subparsers.add_parser("db", help="database maintenance (migrations)")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    migrate = actions.add_parser(
        "migrate",
        help="apply every migration not yet applied",
        description="Apply supabase/migrations in order, each in its own transaction, recording "
        "them in supabase_migrations.schema_migrations. Running it again applies nothing.",
    )
    migrate.add_argument("--database-url", required=True, help="postgresql://… (a superuser)")
    migrate.add_argument(
        "--supabase-compat",
        action="store_true",
        help="first apply the vanilla-Postgres stand-in for Supabase (never on a real Supabase)",
    )
    migrate.add_argument(
        "--seed",
        action="store_true",
        help="load supabase/seed.sql (the demo workspace) if this run applied migrations",
    )
    migrate.set_defaults(func=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return exit_for(exc)


def _run(args: argparse.Namespace) -> int:
    url: str = args.database_url
    if not url.strip():  # libpq would take it for "the default server on the default socket"
        raise UsageError(
            "--database-url takes a PostgreSQL URL (postgresql://…), not an empty string."
        )
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise Unavailable("The database URL is not a valid PostgreSQL connection URL.") from None
    applied = apply_migrations(url, supabase_compat=args.supabase_compat, seed=args.seed)
    if applied:
        print(f"Applied {len(applied)} migration(s): {', '.join(applied)}.")
        if args.seed:
            print("Loaded the demo workspace (seed.sql).")
    else:
        total = len(applied_versions(url))
        print(f"Nothing to apply: all {total} migration(s) are already applied.")
        if args.seed:
            print("Did not load seed.sql: it is only loaded together with new migrations.")
    return EXIT_OK
