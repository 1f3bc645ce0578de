"""``devsync scan`` stores what OSV and the registries say, for everyone on the team, and
``devsync drift`` shows it: a lockfile with lodash 4.17.21 and a nested 4.17.11 against the
fake OSV and registries (tests/support: real response shapes at the HTTP boundary).
``--offline`` asks nothing, says what it could not check and keeps the last known state."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync
from tests.support.fake_osv import FakeOsv
from tests.support.fake_registry import FakeRegistry

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")
LOCK = {
    "name": "shop",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {
            "name": "shop",
            "version": "1.0.0",
            "dependencies": {"lodash": "^4.17.0", "old-helper": "1.0.0"},
        },
        "node_modules/lodash": {"version": "4.17.21"},
        "node_modules/old-helper": {"version": "1.0.0", "dependencies": {"lodash": "4.17.11"}},
        "node_modules/old-helper/node_modules/lodash": {"version": "4.17.11"},
    },
}


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    with psycopg.connect(fresh_db_url) as conn:
        # the demo seeds the facts of its vulnerable versions: these tests count the scan's
        conn.execute("delete from package_advisory_checks")
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


@pytest.fixture
def sources(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeOsv, FakeRegistry]]:
    osv = FakeOsv().start()
    registry = FakeRegistry(
        npm={
            "lodash": ({"latest": "4.17.21"}, ["4.17.11", "4.17.20", "4.17.21", "5.0.0-rc.1"]),
            "old-helper": ({"latest": "1.2.0"}, ["1.0.0", "1.2.0"]),
        }
    ).start()
    monkeypatch.setenv("DEVSYNC_OSV_URL", osv.url)
    for key, value in registry.env().items():
        monkeypatch.setenv(key, value)
    yield osv, registry
    osv.stop()
    registry.stop()


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


ADVISORIES = (
    "select package_name, version, advisory_id, aliases, severity, summary, fixed_version"
    " from package_advisories order by 1, 2"
)
FRESHNESS = (
    "select package_name, version_constraint, latest, wanted from package_freshness order by 1, 2"
)


def test_scan_stores_advisories_and_freshness_and_drift_shows_them(
    devsync: DevsyncCLI, sources: tuple[FakeOsv, FakeRegistry]
) -> None:
    folder = devsync.home / "shop"
    folder.mkdir()
    (folder / "package-lock.json").write_text(json.dumps(LOCK))
    result = devsync("scan", str(folder), *BOB)
    assert result.code == 0, result.err
    assert "1 package(s) with known vulnerabilities." in result.out
    assert _rows(devsync.db_url, ADVISORIES) == [
        (
            "lodash",
            "4.17.11",
            "GHSA-35jh-r3h4-6jhm",
            ["CVE-2021-23337"],
            "HIGH",
            "Command Injection in lodash",
            "4.17.21",
        )
    ]
    checked = _rows(devsync.db_url, "select package_name, version from package_advisory_checks")
    assert sorted(checked) == [
        ("lodash", "4.17.11"),
        ("lodash", "4.17.21"),
        ("old-helper", "1.0.0"),
    ]
    assert _rows(devsync.db_url, FRESHNESS) == [
        ("lodash", "", "4.17.21", None),
        ("lodash", "^4.17.0", "4.17.21", "4.17.21"),
        ("old-helper", "", "1.2.0", None),
        ("old-helper", "1.0.0", "1.2.0", "1.0.0"),
    ]
    # any member sees them, without asking OSV again
    carol = ("--user", "carol", "--project", "storefront", "--env", "bob-laptop")
    asked = len(sources[0].requests)
    drift = devsync("drift", "--json", *carol)
    assert drift.code == 1
    data = json.loads(drift.out)
    assert len(sources[0].requests) == asked
    vulnerable = [f for f in data["outdated_or_vulnerable"] if f["kind"] == "vulnerable"]
    assert [(f["package_name"], f["version"]) for f in vulnerable] == [("lodash", "4.17.11")]
    assert vulnerable[0]["advisories"] == [
        {
            "id": "GHSA-35jh-r3h4-6jhm",
            "aliases": ["CVE-2021-23337"],
            "severity": "HIGH",
            "summary": "Command Injection in lodash",
            "fixed_version": "4.17.21",
        }
    ]
    outdated = [f for f in data["outdated_or_vulnerable"] if f["kind"] == "outdated"]
    assert [(f["package_name"], f["latest"], f["wanted"]) for f in outdated] == [
        ("old-helper", "1.2.0", "1.0.0")
    ]
    assert [a["id"] for a in data["advisories"]] == ["GHSA-35jh-r3h4-6jhm"]
    assert {(f["package_name"], f["wanted"]) for f in data["freshness"]} >= {("lodash", "4.17.21")}
    text = devsync("drift", "--limit", "0", *carol)
    assert (
        "npm lodash  [bob-laptop]  4.17.11 vulnerable: GHSA-35jh-r3h4-6jhm "
        "(CVE-2021-23337, HIGH; fixed in 4.17.21)" in text.out
    )

    # offline, caches gone: nothing asked, what could not be checked is said, state kept
    shutil.rmtree(devsync.home / "cache")
    asked = len(sources[0].requests), len(sources[1].requests)
    offline = devsync("scan", str(folder), "--offline", *BOB)
    assert offline.code == 0, offline.err
    assert (len(sources[0].requests), len(sources[1].requests)) == asked
    assert "Offline: 3 of 3 package versions could not be checked against OSV" in offline.err
    assert "Offline: 2 of 2 packages could not be checked against their registries" in offline.err
    assert len(_rows(devsync.db_url, ADVISORIES)) == 1
    status = _rows(
        devsync.db_url,
        "select status from dependencies where package_name = 'lodash'"
        f" and resolved_version = '4.17.11' and environment_id = '{demo.ENV_BOB_LAPTOP}'",
    )
    assert status == [("vulnerable",)]


def test_scan_summary_counts_accepted_risks_as_drift_does(
    devsync: DevsyncCLI, sources: tuple[FakeOsv, FakeRegistry]
) -> None:
    # lodash 4.17.11 vulnerable (GHSA-35jh-r3h4-6jhm), old-helper 1.0.0 outdated
    folder = devsync.home / "shop"
    folder.mkdir()
    (folder / "package-lock.json").write_text(json.dumps(LOCK))
    before = devsync("scan", str(folder), *BOB)
    assert before.code == 0, before.err
    assert "2 outdated/vulnerable." in before.out
    assert "Accepted risks" not in before.out
    accepted = devsync(
        "deps", "ignore", "GHSA-35jh-r3h4-6jhm", "--until", "2999-03-01", "--reason", "x",
        "--user", "bob", "--project", "storefront",
    )  # fmt: skip
    assert accepted.code == 0, accepted.err
    after = devsync("scan", str(folder), *BOB)
    assert after.code == 0, after.err
    assert "; 1 outdated/vulnerable. Accepted risks (not counted): 1." in after.out
    drift = devsync("drift", *BOB)
    assert "Outdated / vulnerable: 1" in drift.out
    assert "Accepted risks (not counted): 1" in drift.out
    scanned = json.loads(devsync("scan", str(folder), "--json", *BOB).out)["drift"]
    assert [(f["package_name"], f["kind"]) for f in scanned["outdated_or_vulnerable"]] == [
        ("old-helper", "outdated")
    ]
    assert [(f["package_name"], f["version"]) for f in scanned["ignored"]] == [
        ("lodash", "4.17.11")
    ]
