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


def test_fix_prints_each_machines_commands_and_runs_nothing(devsync: DevsyncCLI) -> None:
    # a hostile package on bob's laptop: its name would be an option, then a command
    with psycopg.connect(devsync.db_url) as conn:
        conn.execute(
            "select private.store_dependencies(%s, %s, %s)",
            (
                demo.PROJECT_STOREFRONT,
                demo.ENV_BOB_LAPTOP,
                json.dumps(
                    [
                        {"package_manager": "npm", "package_name": "left-pad",
                         "resolved_version": "1.3.0"},
                        {"package_manager": "npm", "package_name": "$(touch pwned)",
                         "resolved_version": "1.0.0"},
                        {"package_manager": "pip", "package_name": "requests",
                         "resolved_version": "2.28.2"},
                    ]
                ),
            ),
        )  # fmt: skip
    project = ("--user", "bob", "--project", "storefront")
    result = devsync("drift", "--fix", *project, "--tool", "uv")
    assert result.code == 1
    out = result.out.splitlines()
    assert out[0] == (
        "Commands that would bring each machine of storefront (every environment) to the "
        "baseline (not run):"
    )
    laptop = out[out.index("bob-laptop:") + 1 : out.index("ci-runner:")]
    assert "  npm install express@4.19.2" in laptop
    assert "  npm uninstall left-pad" in laptop
    assert "  uv add requests==2.31.0" in laptop
    # named, as one single-quoted word of a comment line
    assert "  # skipped npm package '$(touch pwned)': a name no registry allows" in laptop
    assert all(line.startswith("  # ") for line in out if "pwned" in line)
    assert not (devsync.home / "pwned").exists()
    data = json.loads(devsync("drift", "--fix", "--json", *project).out)
    argv = [s["argv"] for s in data["fix"]["bob-laptop"]]
    assert ["pip", "install", "requests==2.31.0"] in argv
    assert "staging" in data["fix"]


def test_fix_keeps_valid_commands_and_names_each_skipped_package(devsync: DevsyncCLI) -> None:
    # ci-runner at the baseline's npm versions, but express at a hostile version and two
    # extra packages whose names no registry allows
    versions = {
        "axios": "1.6.8",
        "express": "4.18.0+evil;x",
        "lodash": "4.17.21",
        "next": "14.1.4",
        "react": "18.2.0",
        "react-dom": "18.2.0",
        "typescript": "5.3.3",
        "a b": "1.0.0",
        "-g": "1.0.0",
    }
    lock = {
        "name": "ci",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "ci", "dependencies": {"express": "*"}},
            **{f"node_modules/{n}": {"version": v} for n, v in versions.items()},
        },
    }
    folder = devsync.home / "ci"
    folder.mkdir()
    (folder / "package-lock.json").write_text(json.dumps(lock))
    ci = ("--user", "alice", "--project", "storefront", "--env", "ci-runner")
    scanned = devsync("scan", str(folder), "--no-osv", "--no-registry", *ci)
    assert scanned.code == 0, scanned.err
    data = json.loads(devsync("drift", "--json", *ci).out)
    npm = [f for f in data["baseline_drift"] if f["package_manager"] == "npm"]
    assert len(npm) == 3
    result = devsync("drift", "--fix", *ci)
    assert result.code == 1
    assert result.out.splitlines()[1:] == [
        "ci-runner:",
        "  # skipped npm package -g: a name no registry allows",
        "  # skipped npm package 'a b': a name no registry allows",
        "  npm install express@4.19.2",
        "  pip install requests==2.31.0",
    ]
    fix = json.loads(devsync("drift", "--fix", "--json", *ci).out)["fix"]["ci-runner"]
    assert [(s["argv"], s["note"]) for s in fix] == [
        ([], "skipped npm package -g: a name no registry allows"),
        ([], "skipped npm package 'a b': a name no registry allows"),
        (["npm", "install", "express@4.19.2"], None),
        (["pip", "install", "requests==2.31.0"], None),
    ]
