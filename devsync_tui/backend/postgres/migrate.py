"""Apply the DevSync schema to a PostgreSQL server the way the Supabase CLI does.

Migrations are the files ``<version>_<name>.sql`` in ``supabase/migrations``. Each runs in its
own transaction and is recorded in ``supabase_migrations.schema_migrations`` (the Supabase CLI's
table: ``version text primary key, statements text[], name text``), so a database migrated here
and later handed to ``supabase db push`` (or the other way round) agrees on what is applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from devsync_tui import locations
from devsync_tui.backend.errors import DevSyncError, InvalidInput, Unavailable

#: Seconds to wait for a server before saying it is unreachable.
CONNECT_TIMEOUT = 10

#: ``pg_advisory_lock`` key that serialises concurrent migrators on one database.
_MIGRATION_LOCK_KEY = 0x64657673796E63  # "devsync"

_MIGRATION_FILE = re.compile(r"^(?P<version>[0-9]+)_(?P<name>.+)\.sql$")

_CREATE_HISTORY = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
    version text not null primary key,
    statements text[],
    name text
);
"""


class MigrationFailed(DevSyncError):
    """A migration (or the compat file or seed) raised an error; nothing of it was kept."""


@dataclass(frozen=True)
class Migration:
    """One migration file: its version (the leading digits), name and path."""

    version: str
    name: str
    path: Path


def list_migrations(migrations_dir: Path | None = None) -> list[Migration]:
    """The migration files of ``migrations_dir`` in version order (other files are ignored)."""
    folder = migrations_dir if migrations_dir is not None else locations.migrations_dir()
    if not folder.is_dir():
        raise InvalidInput(f"The migrations folder {folder} does not exist.")
    found: list[Migration] = []
    for path in folder.iterdir():
        match = _MIGRATION_FILE.match(path.name)
        if match and path.is_file():
            found.append(Migration(match["version"], match["name"], path))
    found.sort(key=lambda m: (int(m.version), m.version))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise InvalidInput(f"Two migration files in {folder} share a version.")
    return found


def connect(conninfo: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[object, ...]]:
    """Open a connection, turning "cannot connect" into :class:`Unavailable` with one sentence."""
    try:
        return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.ProgrammingError as exc:  # malformed conninfo / URL
        raise InvalidInput(f"The database URL is not valid: {_first_line(exc)}") from None
    except psycopg.OperationalError as exc:
        reason = _first_line(exc).removeprefix("connection is bad: ")
        raise Unavailable(f"Cannot connect to the database: {reason}.") from None


def with_database(conninfo: str, dbname: str) -> str:
    """The same server and credentials as ``conninfo`` but database ``dbname``.

    URLs stay URLs (so ``psql "$URL"`` keeps working); key=value strings stay key=value.
    """
    if conninfo.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(conninfo)
        return urlunsplit(parts._replace(path="/" + dbname))
    return psycopg.conninfo.make_conninfo(conninfo, dbname=dbname)


def apply_compat(conninfo: str, compat_file: Path | None = None) -> None:
    """Apply ``sql/supabase_compat.sql`` (roles, ``auth`` schema; idempotent) in one transaction."""
    with connect(conninfo) as conn:
        _run_file(conn, _compat_path(compat_file), "the Supabase compatibility file")


def _compat_path(compat_file: Path | None) -> Path:
    return compat_file if compat_file is not None else locations.sql_dir() / "supabase_compat.sql"


def apply_migrations(
    conninfo: str,
    *,
    supabase_compat: bool,
    migrations_dir: Path | None = None,
    seed: bool = False,
    compat_file: Path | None = None,
    seed_file: Path | None = None,
) -> list[str]:
    """Apply (the compat file, then) every migration not yet recorded; return the versions applied.

    Each migration runs in its own transaction together with its record in
    ``supabase_migrations.schema_migrations``: a failing migration leaves nothing behind and
    stops the run (:class:`MigrationFailed`). Running again applies nothing. ``seed=True`` loads
    the seed file afterwards, only when at least one migration was applied in this run (a seed is
    for a new database, not for every upgrade).
    """
    migrations = list_migrations(migrations_dir)
    applied: list[str] = []
    with connect(conninfo, autocommit=True) as conn:
        # Session lock: two processes starting at once must not both apply the same migration
        # (or race each other creating the compat file's roles).
        conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
        try:
            if supabase_compat:
                _run_file(conn, _compat_path(compat_file), "the Supabase compatibility file")
            conn.execute(_CREATE_HISTORY)
            done = {
                str(row[0])
                for row in conn.execute("select version from supabase_migrations.schema_migrations")
            }
            for migration in migrations:
                if migration.version in done:
                    continue
                _apply_one(conn, migration)
                applied.append(migration.version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))
    if seed and applied:
        load_seed(conninfo, seed_file)
    return applied


def applied_versions(conninfo: str) -> list[str]:
    """Versions recorded in ``supabase_migrations.schema_migrations`` (empty if none), in order."""
    with connect(conninfo) as conn:
        exists = conn.execute(
            "select to_regclass('supabase_migrations.schema_migrations') is not null"
        ).fetchone()
        if not exists or not exists[0]:
            return []
        rows = conn.execute(
            "select version from supabase_migrations.schema_migrations order by version"
        ).fetchall()
        return [str(row[0]) for row in rows]


def load_seed(conninfo: str, seed_file: Path | None = None) -> None:
    """Load ``supabase/seed.sql`` (the demo workspace) in one transaction."""
    path = seed_file if seed_file is not None else locations.seed_file()
    with connect(conninfo) as conn:
        _run_file(conn, path, "the seed file")


def _apply_one(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> None:
    text = _read(migration.path, f"migration {migration.path.name}")
    try:
        with conn.transaction():
            conn.execute(text.encode())  # bytes: sent verbatim
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, statements, name)"
                " values (%s, %s, %s)",
                (migration.version, list(split_statements(text)), migration.name),
            )
    except psycopg.Error as exc:
        raise MigrationFailed(
            f"Migration {migration.path.name} failed and was rolled back: {_first_line(exc)}"
        ) from None


def _run_file(conn: psycopg.Connection[tuple[object, ...]], path: Path, what: str) -> None:
    text = _read(path, what)
    try:
        with conn.transaction():
            conn.execute(text.encode())  # bytes: sent verbatim
    except psycopg.Error as exc:
        raise MigrationFailed(
            f"Applying {what} ({path.name}) failed and was rolled back: {_first_line(exc)}"
        ) from None


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"Cannot find {what}: {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read {what} ({path}): {exc}.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def drop_database(conninfo: str, dbname: str) -> None:
    """Drop ``dbname`` (if present) even while others are connected (PostgreSQL 13+)."""
    with connect(conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )


def split_statements(text: str) -> Iterator[str]:
    """Split a SQL script into statements, as the Supabase CLI records them.

    Understands ``--`` and ``/* */`` comments, quoted strings and identifiers, and dollar
    quoting, so semicolons inside function bodies do not split. Empty statements are skipped.
    """
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif ch in ("'", '"'):
            i = _skip_quoted(text, i, ch)
        elif ch == "$":
            tag = re.match(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$", text[i:])
            if tag and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                end = text.find(tag.group(0), i + len(tag.group(0)))
                i = n if end < 0 else end + len(tag.group(0))
            else:
                i += 1
        elif ch == ";":
            statement = text[start:i].strip()
            if _has_code(statement):
                yield statement
            i += 1
            start = i
        else:
            i += 1
    tail = text[start:].strip()
    if _has_code(tail):
        yield tail


def _skip_block_comment(text: str, i: int) -> int:
    depth = 0
    n = len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_quoted(text: str, i: int, quote: str) -> int:
    i += 1
    n = len(text)
    # E'' strings allow backslash escapes; standard strings only doubled quotes.
    escapes = quote == "'" and i >= 2 and text[i - 2] in "eE"
    while i < n:
        ch = text[i]
        if escapes and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _has_code(statement: str) -> bool:
    stripped = re.sub(r"--[^\n]*", "", statement)
    stripped = re.sub(r"/\*.*?\*/", "", stripped, flags=re.DOTALL)
    return bool(stripped.strip())
