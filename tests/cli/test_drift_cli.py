"""``devsync drift`` on the demo workspace (local transport, real Postgres): the three
signals, exit 1 on drift (a CI gate), JSON output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_environment_report_text(devsync: DevsyncCLI) -> None:
    result = devsync("drift", *BOB, "--project", "storefront", "--env", "bob-laptop")
    assert result.code == 1
    out = result.out
    assert "Drift for storefront/bob-laptop" in out
    assert "npm express  [bob-laptop]  missing (baseline 4.19.2)" in out
    assert "npm left-pad  [bob-laptop]  1.3.0 (not in the baseline)" in out
    assert "npm next  [bob-laptop]  13.5.6 does not satisfy ^14.1.0" in out
    assert "npm lodash  [bob-laptop]  4.17.20 vulnerable" in out
    assert out.rstrip().endswith("Drift found.")


def test_project_report_json_covers_every_environment(devsync: DevsyncCLI) -> None:
    result = devsync("drift", "--json", *BOB, "--project", "storefront")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["target"] == "storefront (project defaults)"
    assert data["environments"] == 3
    assert data["drift"] is True
    violations = {(f["environment"], f["package_name"]) for f in data["constraint_violations"]}
    assert ("ci-runner", "typescript") in violations
    assert ("bob-laptop", "next") in violations
    fresh = {
        (f["environment"], f["package_name"], f["kind"]) for f in data["outdated_or_vulnerable"]
    }
    assert ("staging", "axios", "outdated") in fresh
    assert ("bob-laptop", "requests", "vulnerable") in fresh


def test_limit_trims_text_but_not_json(devsync: DevsyncCLI) -> None:
    result = devsync("drift", *BOB, "--project", "storefront", "--limit", "1")
    assert result.code == 1
    assert "more (see --json)" in result.out


def test_outsider_sees_no_project(devsync: DevsyncCLI) -> None:
    result = devsync("drift", "--user", "mallory", "--project", "storefront")
    assert result.code == 2
    assert "No project named 'storefront'" in result.err


def test_a_reader_that_goes_away_ends_the_report_quietly(devsync: DevsyncCLI) -> None:
    # `devsync drift | head -1`: the reader closes the pipe; no "Broken pipe." sentence, no
    # "Exception ignored" from the final flush, and the exit code a shell shows for SIGPIPE.
    proc = devsync.popen(
        "--user", "alice", "drift", "--project", "storefront",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_tools_of_two_ecosystems_both_apply(devsync: DevsyncCLI) -> None:
    result = devsync(
        "drift", "--fix", *BOB, "--project", "storefront", "--tool", "yarn", "--tool", "uv",
        "--tool", "yarn",
    )  # fmt: skip
    assert result.code == 1, result.err
    assert "  yarn add express@4.19.2" in result.out
    assert "  uv add requests==2.31.0" in result.out
    assert "npm " not in result.out
    assert "pip " not in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--fix", "--tool", "yarn", "--tool", "pnpm"),
            "--tool yarn and --tool pnpm are both for npm; give one tool per ecosystem.",
        ),
        (("--tool", "yarn"), "--tool goes with --fix: it says which tool the fix commands use."),
        (("--limit", "-1"), "--limit takes 0 (list every finding) or a positive number."),
        (
            ("--fix", "--limit", "5"),
            "--limit counts the findings listed; --fix lists commands instead.",
        ),
    ],
)
def test_flags_that_mean_nothing_are_refused(
    devsync: DevsyncCLI, args: tuple[str, ...], message: str
) -> None:
    result = devsync("drift", *BOB, "--project", "storefront", *args)
    assert (result.code, result.err, result.out) == (2, f"devsync: {message}\n", "")
