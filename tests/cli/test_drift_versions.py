"""``devsync drift`` compares version sets, on a real lockfile: warehouse's npm v1
package-lock.json (tests/fixtures/lockfiles/third_party) nests 211 further copies of packages
(minimist at four versions, debug and ms at three). Scanned onto bob's laptop against a
baseline of one version per package (the newest), each other copy is an ``extra_version``."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import psycopg
import pytest

from devsync_tui.core.lockfiles import scan_path
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare
from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync
from tests.unit.test_lockfiles_third_party import unpack

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_nested_copies_of_a_real_lockfile_are_drift(devsync: DevsyncCLI) -> None:
    folder = devsync.home / "warehouse"
    folder.mkdir()
    lock = unpack("npm-v1-warehouse", folder)
    result = devsync("scan", str(lock), "--no-osv", "--no-registry", *BOB)
    assert result.code == 0, result.err
    # the baseline: the newest version of each package, written as the project's
    newest: dict[str, str] = {}
    pairs: set[tuple[str, str]] = set()
    newer = functools.partial(compare, PackageManager.NPM)
    for p in scan_path(lock).packages:
        assert p.version is not None
        pairs.add((p.name, p.version))
        if p.name not in newest or newer(p.version, newest[p.name]) > 0:
            newest[p.name] = p.version
    baseline = [
        {"package_manager": "npm", "package_name": n, "resolved_version": v}
        for n, v in newest.items()
    ]
    with psycopg.connect(devsync.db_url) as conn:
        conn.execute(
            "select private.store_dependencies(%s, null, %s)",
            (demo.PROJECT_STOREFRONT, json.dumps(baseline)),
        )
    check = devsync("drift", "--json", *BOB)
    assert check.code == 1
    data = json.loads(check.out)
    extra = {
        (f["package_name"], f["version"])
        for f in data["baseline_drift"]
        if f["kind"] == "extra_version"
    }
    assert extra == pairs - set(newest.items())
    assert len(extra) == 211
    assert {f["kind"] for f in data["baseline_drift"]} == {"extra_version"}
    assert ("minimist", "0.0.8") in extra
    text = devsync("drift", "--limit", "0", *BOB)
    assert "npm minimist  [bob-laptop]  0.0.8 (an extra copy; baseline 1.2.5)" in text.out
