"""``devsync scan`` marks packages older than their latest stable release ``outdated``: on the
local transport (real Postgres, in-process CLI), with the registries played by a local server
(tests/support/fake_registry.py) pointed to by the DEVSYNC_*_URL variables."""

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
from tests.support.fake_registry import FakeRegistry, PypiProject

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")

#: What the stand-in registries publish for some of the fixtures' packages; every other
#: name is unknown to them (404 / "unknown"), so its status cannot be judged.
OUTDATED = {
    ("npm", "express"),
    ("pip", "requests"),
    ("gem", "rails"),
    ("gem", "nokogiri"),
    ("cargo", "serde"),
}


def registry_contents() -> FakeRegistry:
    return FakeRegistry(
        npm={
            "express": ({"latest": "5.1.0", "next": "5.0.0-beta.3"}, ["4.22.3", "5.1.0"]),
            "lodash": ({"latest": "4.17.23"}, ["4.17.21", "4.17.23"]),  # up to date
            # A pre-release "latest" never makes an installed release outdated.
            "semver": ({"latest": "8.0.0-rc.1"}, ["7.8.6", "8.0.0-rc.1"]),
        },
        pypi={
            "requests": PypiProject(["2.31.0", "2.32.3"], "2.32.3"),
            "pytest": PypiProject(["7.4.3", "8.0.0rc1"], "7.4.3"),
        },
        gems={"rails": "7.1.3", "nokogiri": "1.16.0", "puma": "6.4.0"},
        crates={
            "serde": ("1.0.215", ["1.0.193", "1.0.215"]),
            "tokio": (None, ["2.0.0-alpha.1"]),
        },
    )


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


@pytest.fixture
def registry(devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRegistry]:
    fake = registry_contents().start()
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    yield fake
    fake.stop()


def checkout(devsync: DevsyncCLI) -> Path:
    """One folder with an npm, a Poetry, a Bundler and a Cargo project."""
    root = devsync.home / "checkout"
    shutil.copytree(FIXTURES / "npm-v3", root)
    for name in ("poetry", "bundler", "cargo"):
        shutil.copytree(FIXTURES / name, root / name)
    return root


def statuses(db_url: str, env_id: UUID | None = demo.ENV_BOB_LAPTOP) -> dict[tuple[str, str], str]:
    """(manager, name) → status as the database holds them for storefront/bob-laptop."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select package_manager, package_name, status from public.dependencies "
            "where project_id = %s and environment_id is not distinct from %s",
            (demo.PROJECT_STOREFRONT, env_id),
        ).fetchall()
    return {(manager, name): status for manager, name, status in rows}


def outdated(rows: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    return {key for key, status in rows.items() if status == "outdated"}


def test_scan_stores_outdated_statuses(devsync: DevsyncCLI, registry: FakeRegistry) -> None:
    result = devsync("scan", str(checkout(devsync)), *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert "Could not reach" not in result.err
    assert f"{len(OUTDATED)} package(s) older than their latest stable release." in result.out
    rows = statuses(devsync.db_url)
    # every package, the project's own (workspace, path) ones too, as their kind
    assert len(rows) == 75 + 11 + 17 + 8 + 3
    with psycopg.connect(devsync.db_url) as conn:
        kinds = conn.execute(
            "select package_name, kind from public.dependencies where environment_id = %s"
            " and kind <> 'registry' order by 1",
            (demo.ENV_BOB_LAPTOP,),
        ).fetchall()
    assert kinds == [
        ("acme-auth", "git"),
        ("edge-proxy", "workspace"),
        ("local-helpers", "workspace"),
        ("storefront-core", "path"),
    ]
    assert outdated(rows) == OUTDATED
    assert rows["npm", "lodash"] == "healthy"
    assert rows["npm", "semver"] == "healthy"
    assert rows["pip", "pytest"] == "healthy"
    assert rows["cargo", "tokio"] == "healthy"
    assert rows["gem", "puma"] == "healthy"
    assert "/npm/-/package/express/dist-tags" in registry.paths()


def test_dry_run_json_shows_the_statuses_it_would_report(
    devsync: DevsyncCLI, registry: FakeRegistry
) -> None:
    before = statuses(devsync.db_url)
    result = devsync("scan", str(checkout(devsync)), "--dry-run", "--json", *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["registry"] == {"online": True, "note": None}
    reported = {(p["package_manager"], p["package_name"]): p["status"] for p in data["packages"]}
    assert outdated(reported) == OUTDATED
    assert statuses(devsync.db_url) == before


def test_no_registry_asks_nothing(devsync: DevsyncCLI, registry: FakeRegistry) -> None:
    result = devsync("scan", str(checkout(devsync)), "--no-registry", *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert registry.requests == []
    assert set(statuses(devsync.db_url).values()) == {"healthy"}


class OsvStandIn(BaseHTTPRequestHandler):
    """OSV's querybatch: express 4.22.3 is vulnerable, everything else clean."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results: list[dict[str, Any]] = []
        for query in body["queries"]:
            hit = (query["package"]["name"], query["version"]) == ("express", "4.22.3")
            results.append({"vulns": [{"id": "GHSA-qw6h-vgh9-j6wx"}]} if hit else {})
        payload = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def osv(monkeypatch: pytest.MonkeyPatch, devsync: DevsyncCLI) -> Iterator[None]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), OsvStandIn)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    monkeypatch.setenv("DEVSYNC_OSV_URL", f"http://{host!s}:{port}/v1/querybatch")
    yield
    httpd.shutdown()
    httpd.server_close()


def test_vulnerable_wins_over_outdated(
    devsync: DevsyncCLI, registry: FakeRegistry, osv: None
) -> None:
    result = devsync("scan", str(checkout(devsync)), *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert "1 package(s) with known vulnerabilities." in result.out
    rows = statuses(devsync.db_url)
    assert rows["npm", "express"] == "vulnerable"
    assert outdated(rows) == OUTDATED - {("npm", "express")}


def test_offline_keeps_the_last_known_statuses(devsync: DevsyncCLI, registry: FakeRegistry) -> None:
    folder = checkout(devsync)
    assert devsync("scan", str(folder), *BOB, *BOB_LAPTOP).code == 0
    online = statuses(devsync.db_url)
    asked = len(registry.requests)
    registry.stop()

    # The registries gone, their answers still fresh in the cache: nothing is asked, nothing
    # changes, nothing to say.
    cached = devsync("scan", str(folder), *BOB, *BOB_LAPTOP)
    assert cached.code == 0, cached.err
    assert "Could not reach" not in cached.err
    assert statuses(devsync.db_url) == online
    assert len(registry.requests) == asked

    # The cache gone too: one sentence per run, and the stored statuses are kept.
    shutil.rmtree(devsync.home / "cache")
    offline = devsync("scan", str(folder), *BOB, *BOB_LAPTOP)
    assert offline.code == 0, offline.err
    assert "Traceback" not in offline.err
    lines = [line for line in offline.err.splitlines() if "Could not reach" in line]
    assert len(lines) == 1
    assert "the npm registry" in lines[0]
    assert "keeping the last known state" in lines[0]
    assert statuses(devsync.db_url) == online
    assert statuses(devsync.db_url)["npm", "express"] == "outdated"


def test_an_upgrade_clears_outdated(devsync: DevsyncCLI, registry: FakeRegistry) -> None:
    folder = checkout(devsync)
    assert devsync("scan", str(folder), *BOB, *BOB_LAPTOP).code == 0
    assert statuses(devsync.db_url)["cargo", "serde"] == "outdated"
    lock = folder / "cargo" / "Cargo.lock"
    text = lock.read_text()
    assert 'name = "serde"\nversion = "1.0.193"' in text
    lock.write_text(
        text.replace('name = "serde"\nversion = "1.0.193"', 'name = "serde"\nversion = "1.0.215"')
    )
    assert devsync("scan", str(folder), *BOB, *BOB_LAPTOP).code == 0
    assert statuses(devsync.db_url)["cargo", "serde"] == "healthy"
