"""A TLS or proxy setting that httpx cannot use (``SSL_CERT_FILE`` naming no CA bundle) makes
OSV and the registries unreachable, as a DNS failure does: ``scan`` and ``agent`` keep the last
known state and go on (exit 0), and the sentence names the variable and what is wrong — never
"No such file or directory." with exit 2 (local transport, real Postgres)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

NPM_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "npm-v3"
BOB = ("--user", "bob")
WHY = "SSL_CERT_FILE names /nonexistent.pem, which does not exist"


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent.pem")
    repo = cli.home / "repo"
    (repo / ".git").mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(NPM_FIXTURE / name, repo / name)
    monkeypatch.chdir(repo)
    return cli


def test_scan_names_the_setting_and_goes_on(devsync: DevsyncCLI) -> None:
    result = devsync("scan", *BOB, "--project", "storefront", "--env", "bob-laptop", "--dry-run")
    assert result.code == 0, result.err
    assert f"devsync: OSV is unreachable ({WHY}); kept the last known state" in result.err
    assert f"Could not reach the npm registry (http://127.0.0.1:9): {WHY}; keeping" in result.err
    assert "No such file or directory" not in result.err
    assert "Dry run: nothing was reported for storefront/bob-laptop." in result.out


def test_the_agent_reports_its_dependencies_as_when_offline(devsync: DevsyncCLI) -> None:
    result = devsync("agent", "--once", "--json", *BOB, "--project", "storefront")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["failed"] == []
    assert report["dependencies"] > 0
    # Why OSV did not answer is said (once), not only logged.
    assert result.err.count(f"OSV is unreachable ({WHY})") == 1, result.err
    with psycopg.connect(devsync.db_url) as conn:
        (stored,) = conn.execute(
            "select count(*) from dependencies d join environments e on e.id = d.environment_id"
            " where e.user_id = %s and e.project_id = %s and e.name = %s",
            (demo.BOB.id, demo.PROJECT_STOREFRONT, report["target"].split("/", 1)[1]),
        ).fetchone()
    assert stored == report["dependencies"]
