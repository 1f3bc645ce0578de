"""``devsync scan`` on the local transport (real Postgres, in-process CLI)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    # No test may depend on osv.dev; a closed port makes OSV "unreachable" at once.
    monkeypatch.setenv("DEVSYNC_OSV_URL", "http://127.0.0.1:9/v1/querybatch")
    return cli


def stored(db_url: str, env_id: UUID | None) -> dict[str, tuple[str | None, str | None, str]]:
    """name → (resolved, constraint, status) as the database holds them."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select package_name, resolved_version, version_constraint, status "
            "from public.dependencies where project_id = %s "
            "and environment_id is not distinct from %s",
            (demo.PROJECT_STOREFRONT, env_id),
        ).fetchall()
    return {name: (version, constraint, status) for name, version, constraint, status in rows}


def copy_fixture(devsync: DevsyncCLI, name: str) -> Path:
    target = devsync.home / name
    shutil.copytree(FIXTURES / name, target)
    return target


def test_dry_run_json_prints_what_it_would_report(devsync: DevsyncCLI) -> None:
    before = stored(devsync.db_url, demo.ENV_BOB_LAPTOP)
    folder = copy_fixture(devsync, "npm-v3")
    result = devsync("scan", str(folder), "--dry-run", "--json", "--no-osv", *BOB, *BOB_LAPTOP)
    assert result.code == 0
    data = json.loads(result.out)
    assert data["dry_run"] is True
    assert data["files"] == [str(folder / "package-lock.json")]
    packages = {(p["package_name"], p["resolved_version"]): p for p in data["packages"]}
    # Every version: ms is locked at 2.1.3 (the project's) and 2.0.0 (debug's); both are
    # reported.
    assert len(data["packages"]) == len(packages) == 76
    assert packages["express", "4.22.3"] == {
        "package_manager": "npm",
        "package_name": "express",
        "version_constraint": "^4.18.2",
        "resolved_version": "4.22.3",
        "direct": True,
        "kind": "registry",
        "alias": None,
        "marker": None,
        "platforms": [],
        "status": "healthy",
    }
    assert packages["ms", "2.1.3"]["direct"] is True
    assert packages["ms", "2.0.0"]["direct"] is False
    assert packages["accepts", "1.3.8"]["direct"] is False
    assert stored(devsync.db_url, demo.ENV_BOB_LAPTOP) == before


def test_scan_reports_environment_in_one_go(devsync: DevsyncCLI) -> None:
    folder = copy_fixture(devsync, "npm-v3")
    result = devsync("scan", str(folder), "--no-osv", *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert "Reported 76 package versions for storefront/bob-laptop." in result.out
    assert "Drift:" in result.out
    rows = stored(devsync.db_url, demo.ENV_BOB_LAPTOP)
    assert len(rows) == 75  # by name: ms is stored at two versions
    with psycopg.connect(devsync.db_url) as conn:
        ms = conn.execute(
            "select resolved_version from public.dependencies where environment_id = %s"
            " and package_name = 'ms' order by 1",
            (demo.ENV_BOB_LAPTOP,),
        ).fetchall()
    assert ms == [("2.0.0",), ("2.1.3",)]
    assert rows["express"] == ("4.22.3", "^4.18.2", "healthy")
    assert "next" not in rows  # replaced, not merged
    # The baseline is untouched.
    assert stored(devsync.db_url, None)["express"][0] == "4.19.2"


def test_scan_json_has_the_drift_report(devsync: DevsyncCLI) -> None:
    folder = copy_fixture(devsync, "npm-v3")
    result = devsync("scan", str(folder), "--json", "--no-osv", *BOB, *BOB_LAPTOP)
    data = json.loads(result.out)
    assert data["stored"] == 76
    assert data["target"] == "storefront/bob-laptop"
    drift = data["drift"]
    kinds = {(f["kind"], f["package_name"]) for f in drift["baseline_drift"]}
    assert ("differs", "express") in kinds
    assert ("missing", "react") in kinds
    assert ("extra", "accepts") in kinds


def test_baseline_then_same_env_has_no_drift(devsync: DevsyncCLI) -> None:
    folder = copy_fixture(devsync, "poetry")
    baseline_args = ("--baseline", "--no-osv", *BOB, "--project", "storefront")
    assert devsync("scan", str(folder), *baseline_args).code == 0
    baseline = stored(devsync.db_url, None)
    assert baseline["requests"] == ("2.31.0", "^2.31", "healthy")
    assert "react" not in baseline
    assert devsync("scan", str(folder), "--no-osv", *BOB, *BOB_LAPTOP).code == 0
    check = devsync("drift", *BOB, *BOB_LAPTOP)
    assert check.code == 0, check.out
    assert "No drift." in check.out


def test_malformed_lockfile_reports_nothing(devsync: DevsyncCLI) -> None:
    before = stored(devsync.db_url, demo.ENV_BOB_LAPTOP)
    folder = copy_fixture(devsync, "npm-v3")
    (folder / "svc").mkdir()
    (folder / "svc" / "Gemfile.lock").write_text("GEM\n  specs:\n    rails 7.1.2\n")
    result = devsync("scan", str(folder), "--no-osv", *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert f"{folder / 'svc' / 'Gemfile.lock'}:3: unexpected line" in result.err
    assert "Traceback" not in result.err
    assert stored(devsync.db_url, demo.ENV_BOB_LAPTOP) == before


def test_empty_folder_is_an_input_error(devsync: DevsyncCLI) -> None:
    (devsync.home / "empty").mkdir()
    result = devsync("scan", str(devsync.home / "empty"), *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert "No lockfiles" in result.err


def test_links_out_of_the_folder_are_named_when_nothing_else_is_found(
    devsync: DevsyncCLI,
) -> None:
    secret = devsync.home / "secret"
    secret.mkdir()
    (secret / "requirements.txt").write_text("requests==2.31.0\n")
    folder = devsync.home / "only-links"
    folder.mkdir()
    (folder / "requirements.txt").symlink_to("../secret/requirements.txt")
    (folder / "requirements-x.txt").symlink_to("/etc/passwd")
    (folder / "package-lock.json").symlink_to("/elsewhere/package-lock.json")
    for extra in ((), ("--dry-run",)):
        result = devsync("scan", str(folder), "--no-osv", *extra, *BOB, *BOB_LAPTOP)
        assert result.code == 2
        lines = result.err.splitlines()
        skipped = [line for line in lines if "a link to somewhere outside" in line]
        assert len(skipped) == 3
        for name in ("requirements.txt", "requirements-x.txt", "package-lock.json"):
            assert any(f"Skipped {folder / name}:" in line for line in skipped)
        (last,) = [i for i, line in enumerate(lines) if "No lockfiles" in line]
        assert all(lines.index(line) < last for line in skipped)
        assert "root:" not in result.err


def test_viewer_may_not_report(devsync: DevsyncCLI) -> None:
    before = stored(devsync.db_url, None)
    folder = copy_fixture(devsync, "cargo")
    carol = ("--user", "carol", "--project", "storefront")
    result = devsync("scan", str(folder), "--baseline", "--no-osv", *carol)
    assert result.code == 3
    assert stored(devsync.db_url, None) == before


class OsvStandIn(BaseHTTPRequestHandler):
    """Answers querybatch: every version of ``lodash`` below 4.17.21 is vulnerable."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results: list[dict[str, Any]] = []
        for query in body["queries"]:
            name, version = query["package"]["name"], query["version"]
            hit = name == "lodash" and version != "4.17.21"
            results.append({"vulns": [{"id": "GHSA-35jh-r3h4-6jhm"}]} if hit else {})
        payload = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def osv_server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), OsvStandIn)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_osv_status_and_offline_keeps_last_known(
    devsync: DevsyncCLI, osv_server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_fixture(devsync, "npm-v3")  # lodash 4.17.23: OSV says vulnerable here
    host, port = osv_server.server_address[:2]
    monkeypatch.setenv("DEVSYNC_OSV_URL", f"http://{host!s}:{port}/v1/querybatch")
    online = devsync("scan", str(folder), *BOB, *BOB_LAPTOP)
    assert online.code == 0, online.err
    assert "1 package(s) with known vulnerabilities" in online.out
    assert stored(devsync.db_url, demo.ENV_BOB_LAPTOP)["lodash"][2] == "vulnerable"

    # OSV gone and its cache emptied: the stored status of the same version is kept.
    shutil.rmtree(devsync.home / "cache")
    monkeypatch.setenv("DEVSYNC_OSV_URL", "http://127.0.0.1:9/v1/querybatch")
    offline = devsync("scan", str(folder), *BOB, *BOB_LAPTOP)
    assert offline.code == 0
    assert "OSV is unreachable" in offline.err
    rows = stored(devsync.db_url, demo.ENV_BOB_LAPTOP)
    assert rows["lodash"][2] == "vulnerable"
    assert rows["express"][2] == "healthy"


def test_dry_run_checks_the_target_as_the_real_run_does(devsync: DevsyncCLI) -> None:
    folder = copy_fixture(devsync, "npm-v3")
    dry = devsync("scan", str(folder), "--dry-run", "--no-osv", *BOB, *BOB_LAPTOP)
    assert dry.code == 0, dry.err
    assert dry.out.endswith("Dry run: nothing was reported for storefront/bob-laptop.\n")
    for target in (("--project", "nope"), ("--project", "storefront", "--env", "nope")):
        real = devsync("scan", str(folder), "--no-osv", *BOB, *target)
        refused = devsync("scan", str(folder), "--dry-run", "--no-osv", *BOB, *target)
        assert (real.code, refused.code) == (2, 2), (real.err, refused.err)
        assert refused.err == real.err


def test_an_include_of_the_environment_is_refused_without_showing_it(devsync: DevsyncCLI) -> None:
    folder = devsync.home / "hostile"
    folder.mkdir()
    (folder / "requirements.txt").write_text("-r /proc/self/environ\n")
    result = devsync("scan", str(folder), "--dry-run", "--no-osv", *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert f"{folder / 'requirements.txt'}:1: -r names a file outside {folder}" in result.err
    environ = Path("/proc/self/environ").read_bytes().split(b"\0")
    for item in environ:
        value = item.partition(b"=")[2].decode("utf-8", "replace")
        if len(value) >= 6:
            assert value not in result.err
            assert value not in result.out


def test_a_file_of_any_name_and_links_out_of_the_folder(devsync: DevsyncCLI) -> None:
    folder = copy_fixture(devsync, "cargo")
    (folder / "Cargo.lock").rename(folder / "crates.lock")
    (folder / "outside-link.lock").symlink_to("/etc/hostname")
    named = devsync(
        "scan", str(folder / "crates.lock"), "--dry-run", "--json", "--no-osv", *BOB, *BOB_LAPTOP
    )
    assert named.code == 0, named.err
    data = json.loads(named.out)
    assert data["files"] == [str(folder / "crates.lock")]
    rand = sorted(p["resolved_version"] for p in data["packages"] if p["package_name"] == "rand")
    assert rand == ["0.7.3", "0.8.5"]
    workspace = {p["package_name"] for p in data["packages"] if p["kind"] == "workspace"}
    assert workspace == {"edge-proxy", "local-helpers"}
    walked = devsync("scan", str(folder), "--dry-run", "--no-osv", *BOB, *BOB_LAPTOP)
    assert walked.code == 0, walked.err
    assert f"Skipped {folder / 'outside-link.lock'}: a link to somewhere outside" in walked.err


@pytest.mark.parametrize("where", ["after", "before"])
def test_baseline_and_env_together_are_refused(devsync: DevsyncCLI, where: str) -> None:
    folder = copy_fixture(devsync, "npm-v3")
    before = stored(devsync.db_url, None)
    args = ("scan", str(folder), "--baseline", *BOB, "--project", "storefront")
    if where == "after":
        result = devsync(*args, "--env", "staging")
    else:  # devsync --env staging scan --baseline: the same contradiction
        result = devsync("--env", "staging", *args)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "devsync: Pass either --env or --baseline, not both: the baseline is the project's, "
        "not an environment's (--project names it).\n"
    )
    assert stored(devsync.db_url, None) == before
