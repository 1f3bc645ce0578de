"""``devsync agent``: registration, health points, dependency re-scans, status, SIGTERM and
outages, on the local transport with real Postgres."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from devsync_tui.machine.registration import default_env_name
from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
ALICE = ("--user", "alice")
NPM_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "npm-v3"


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _query(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def _env(url: str, name: str) -> tuple[Any, ...]:
    rows = _query(
        url,
        "select id, user_id, status, last_sync_at from environments where name = %s",
        name,
    )
    assert len(rows) == 1, rows
    return rows[0]


def _metrics(url: str, env_id: Any) -> dict[str, int]:
    rows = _query(
        url,
        "select metric_type, count(*) from health_checks where environment_id = %s group by 1",
        env_id,
    )
    return dict(rows)


def _checkout(devsync: DevsyncCLI) -> Path:
    repo = devsync.home / "repo"
    (repo / ".git").mkdir(parents=True)
    shutil.copy(NPM_FIXTURE / "package.json", repo / "package.json")
    shutil.copy(NPM_FIXTURE / "package-lock.json", repo / "package-lock.json")
    return repo


def test_once_registers_this_machine_and_reports(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _checkout(devsync)
    monkeypatch.chdir(repo)
    result = devsync("agent", "--once", "--json", *BOB, "--project", "storefront")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    name = default_env_name()
    assert report["target"] == f"storefront/{name}"
    assert report["status"] == "active"
    assert report["dependencies"] > 0
    assert f"created environment storefront/{name}" in result.err
    env_id, owner, status, last_sync = _env(devsync.db_url, name)
    assert owner == demo.BOB.id
    assert status == "active"
    assert last_sync is not None
    assert _metrics(devsync.db_url, env_id) == {"cpu": 1, "memory": 1, "disk": 1, "ping": 1}
    packages = _query(
        devsync.db_url,
        "select package_name, resolved_version from dependencies where environment_id = %s",
        env_id,
    )
    assert len(packages) == report["dependencies"]
    assert ("express", None) not in packages
    # Claimed: the checkout is now linked, so env commands find the machine by default.
    assert devsync("env", "set", "FROM_LINK=1", *BOB).code == 0
    got = devsync("env", "get", "FROM_LINK", *BOB, "--project", "storefront", "--env", name)
    assert got.out == "1\n"
    # A second round reuses the environment (no second one).
    again = devsync("agent", "--once", "--json", *BOB)
    assert again.code == 0
    assert "created environment" not in again.err
    assert json.loads(again.out)["dependencies"] is None  # lockfiles unchanged: no re-scan
    assert _metrics(devsync.db_url, env_id)["cpu"] == 2


def test_broken_lockfile_sets_error_and_uploads_nothing(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _checkout(devsync)
    (repo / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {\n  oops\n')
    monkeypatch.chdir(repo)
    before = _query(
        devsync.db_url,
        "select count(*) from dependencies where environment_id = %s",
        demo.ENV_BOB_LAPTOP,
    )
    result = devsync("agent", "--once", *BOB, "--project", "storefront", "--env", "bob-laptop")
    # --once is for cron and CI: a report that failed must not look like a good one.
    assert result.code == 1
    assert "dependencies not reported: " in result.err
    assert "package-lock.json" in result.err
    assert "Traceback" not in result.err
    assert result.out.splitlines()[-1].endswith("; status error; not reported: dependencies.")
    assert _env(devsync.db_url, "bob-laptop")[2] == "error"
    as_json = devsync(
        "agent", "--once", "--json", *BOB, "--project", "storefront", "--env", "bob-laptop"
    )
    assert as_json.code == 1
    report = json.loads(as_json.out)
    assert report["status"] == "error"
    assert report["failed"] == ["dependencies"]
    assert len(report["errors"]) == 1
    assert "package-lock.json" in report["errors"][0]
    after = _query(
        devsync.db_url,
        "select count(*) from dependencies where environment_id = %s",
        demo.ENV_BOB_LAPTOP,
    )
    assert after == before


def test_a_report_the_database_refuses_fails_once_for_a_machine_too(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = devsync(
        "token", "create", *BOB, "--project", "storefront", "--env", "bob-laptop", "--json"
    )
    assert made.code == 0, made.err
    monkeypatch.setenv("DEVSYNC_TOKEN", json.loads(made.out)["token"])
    repo = devsync.home / "repo"
    repo.mkdir()
    # A name no package may have (1 to 512 characters): the report is refused as a whole.
    (repo / "requirements.txt").write_text("a" * 600 + "==1.0\n")
    monkeypatch.chdir(repo)
    result = devsync("agent", "--once", "--json", "--offline")
    assert result.code == 1, result.err
    assert "dependencies not reported: " in result.err
    report = json.loads(result.out)
    assert report["failed"] == ["dependencies"]
    assert report["points_stored"] >= 4  # the rest of the cycle was stored
    (repo / "requirements.txt").write_text("requests==2.31.0\n")
    good = devsync("agent", "--once", "--offline")
    assert good.code == 0, good.err
    assert good.out.splitlines()[-1].endswith("; status active.")


def test_someone_elses_machine_name_is_not_taken_over(devsync: DevsyncCLI) -> None:
    name = default_env_name()
    created = devsync("agent", "--once", "--user", "alice", "--project", "storefront", "--no-scan")
    assert created.code == 0
    taken = devsync("agent", "--once", *BOB, "--project", "storefront", "--no-scan")
    assert taken.code == 2
    assert "belongs to another user" in taken.err
    assert _env(devsync.db_url, name)[1] == demo.ALICE.id


def test_viewer_cannot_report(devsync: DevsyncCLI) -> None:
    result = devsync("agent", "--once", "--user", "carol", "--project", "storefront", "--no-scan")
    assert result.code == 3
    # The refusal names what was refused, not "this environment" / "this project".
    assert result.err == "devsync: You may not create environments in storefront.\n"
    named = devsync(
        "agent", "--once", "--user", "carol", "--project", "storefront", "--env", "staging",
        "--no-scan",
    )  # fmt: skip
    assert named.code == 3
    assert named.err == "devsync: You may not report health for storefront/staging.\n"


@pytest.mark.parametrize("where", ["missing", "a file"])
def test_a_path_that_is_no_folder_is_refused_and_nothing_is_linked(
    devsync: DevsyncCLI, where: str
) -> None:
    path = devsync.home / "nowhere"
    if where == "a file":
        path.write_text("not a folder\n")
    before = _metrics(devsync.db_url, demo.ENV_STAGING)
    result = devsync(
        "agent", "--once", "--offline", "--path", str(path), *ALICE, "--project", "storefront",
        "--env", "staging",
    )  # fmt: skip
    assert result.code == 2
    assert result.err == f"devsync: {path} is not a folder.\n"
    assert result.out == ""
    assert not (devsync.home / "state" / "links.json").exists()
    assert _metrics(devsync.db_url, demo.ENV_STAGING) == before
    # Nothing became the default: a command without --env still has no environment.
    unlinked = devsync("token", "create", *ALICE, "--project", "storefront")
    assert unlinked.code == 2
    assert "No environment is linked" in unlinked.err
    assert devsync("agent", "--once", "--path", "", *ALICE).code == 2


def test_unreachable_backend_once_exits_4(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = devsync("agent", "--once", *BOB, "--project", "storefront", "--no-scan")
    assert result.code == 4
    assert result.err.startswith("devsync: ")


def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _set_connections(server_url: str, db: str, allowed: bool) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("alter database {} with allow_connections {}").format(
                sql.Identifier(db), sql.SQL("true" if allowed else "false")
            )
        )
        if not allowed:
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (db,),
            )


def test_agent_survives_an_outage_and_stops_on_sigterm(
    devsync: DevsyncCLI, pg_superuser_url: str
) -> None:
    db = psycopg.conninfo.conninfo_to_dict(devsync.db_url)["dbname"]
    env = demo.ENV_BOB_LAPTOP
    # The database is away when the agent starts (a server that boots before its database):
    # the agent says so, samples into its buffer, and stores it all once it is back. (An
    # outage mid-run shorter than the pool's read retries, ~9 s, is absorbed without a word.)
    _set_connections(pg_superuser_url, db, allowed=False)
    down_from = time.time()
    proc = devsync.popen(
        "agent", "--interval", "0.3", "--no-scan", *BOB, "--project", "storefront",
        "--env", "bob-laptop", stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        time.sleep(3.0)
        down_to = time.time()
        _set_connections(pg_superuser_url, db, allowed=True)

        def outage_points_stored() -> bool:
            rows = _query(
                devsync.db_url,
                "select count(*) from health_checks where environment_id = %s "
                "and metric_type = 'cpu' and recorded_at between to_timestamp(%s) "
                "and to_timestamp(%s)",
                env, down_from + 0.5, down_to - 0.5,
            )  # fmt: skip
            return rows[0][0] >= 3

        _wait_for(outage_points_stored)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        _set_connections(pg_superuser_url, db, allowed=True)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "backend unreachable" in err
    assert "reachable again" in err
    assert "Traceback" not in err
    assert _env(devsync.db_url, "bob-laptop")[2] == "offline"


def test_rescan_keeps_what_is_known_about_unchanged_versions(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _checkout(devsync)
    monkeypatch.chdir(repo)
    args = ("agent", "--once", "--json", *BOB, "--project", "storefront", "--env", "bob-laptop")
    assert devsync(*args).code == 0
    rows = _query(
        devsync.db_url,
        "select package_name from dependencies where environment_id = %s "
        "and resolved_version is not null order by package_name limit 2",
        demo.ENV_BOB_LAPTOP,
    )
    flagged, other = rows[0][0], rows[1][0]
    with psycopg.connect(devsync.db_url, autocommit=True) as conn:
        conn.execute(
            "update dependencies set status = 'vulnerable' where environment_id = %s "
            "and package_name in (%s, %s)",
            (demo.ENV_BOB_LAPTOP, flagged, other),
        )
    lock = repo / "package-lock.json"
    data = json.loads(lock.read_text())
    data["packages"][f"node_modules/{other}"]["version"] = "0.0.0-changed"
    lock.write_text(json.dumps(data))
    result = devsync(*args)
    assert json.loads(result.out)["dependencies"] > 0  # re-scanned: the lockfile changed
    status = dict(
        _query(
            devsync.db_url,
            "select package_name, status from dependencies where environment_id = %s",
            demo.ENV_BOB_LAPTOP,
        )
    )
    assert status[flagged] == "vulnerable"  # same version: still known vulnerable
    assert status[other] == "healthy"  # a new version is not known to be vulnerable


def test_sigterm_during_an_outage_exits_promptly(
    devsync: DevsyncCLI, pg_superuser_url: str
) -> None:
    db = psycopg.conninfo.conninfo_to_dict(devsync.db_url)["dbname"]
    proc = devsync.popen(
        "agent", "--interval", "0.3", "--no-scan", *BOB, "--project", "storefront",
        "--env", "bob-laptop", "--json", stderr=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for(lambda: _metrics(devsync.db_url, demo.ENV_BOB_LAPTOP).get("ping", 0) >= 2)
        _set_connections(pg_superuser_url, db, allowed=False)
        time.sleep(1.0)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        # What was buffered in the outage cannot be stored: lost, said, and exit 1.
        assert proc.wait(timeout=30) == 1
        assert time.monotonic() - started < 15
    finally:
        _set_connections(pg_superuser_url, db, allowed=True)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err
    report = json.loads(proc.stdout.read().decode() if proc.stdout else "")
    assert report["points_buffered"] > 0
    lost = err.strip().splitlines()[-1]
    unsent = report["points_buffered"]
    assert lost == (
        f"devsync: stopped; {unsent} measurements lost: {unsent} still buffered (the backend "
        "was unreachable)."
    )


def test_an_admins_agent_applies_health_retention(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raw points older than 7 days become hourly roll-ups when an admin's agent runs; a
    member's agent leaves them alone (retention is for admins, PERMISSIONS.md)."""
    old = "date_trunc('hour', now()) - interval '9 days'"
    _query(
        devsync.db_url,
        "with ins as (insert into health_checks (environment_id, metric_type, value, recorded_at) "
        f"select %s, 'cpu', jsonb_build_object('percent', g), {old} + g * interval '5 minutes' "
        "from generate_series(0, 5) g returning 1) select count(*) from ins",
        demo.ENV_BOB_LAPTOP,
    )
    count_old = (
        "select count(*) from health_checks where environment_id = %s "
        f"and recorded_at < {old} + interval '1 hour'"
    )
    monkeypatch.chdir(devsync.home)
    bob = devsync("agent", "--once", "--no-scan", *BOB, "--project", "storefront")
    assert bob.code == 0, bob.err
    assert _query(devsync.db_url, count_old, demo.ENV_BOB_LAPTOP) == [(6,)]
    alice = devsync(
        "agent",
        "--once",
        "--no-scan",
        "--user",
        "alice",
        "--project",
        "storefront",
        "--env",
        "ci-runner",
    )
    assert alice.code == 0, alice.err
    assert _query(devsync.db_url, count_old, demo.ENV_BOB_LAPTOP) == [(1,)]


def test_a_user_in_no_team_is_told_so(devsync: DevsyncCLI) -> None:
    result = devsync("agent", "--once", "--no-scan", "--user", "mallory")
    assert result.code == 2
    assert "No project is visible to you yet" in result.err
    assert "none" not in result.err
