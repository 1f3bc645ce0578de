"""A 1 MiB value is one short line wherever ``devsync env`` shows values to a person: import's
changes, pull's plan, diff, list, history, a conflict; its first 60 characters and its length.
Secrets stay masked; ``--json`` and ``get`` keep whole values (local transport, real Postgres)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")
ALICE_STAGING = ("--user", "alice", "--project", "storefront", "--env", "staging")
BIG = "a" * 1_048_576
SHOWN = f"'{'a' * 60}'… (1,048,576 characters)"


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _short(text: str) -> bool:
    return max((len(line) for line in text.splitlines()), default=0) < 300


def _import_big(devsync: DevsyncCLI) -> None:
    path = devsync.home / "big.env"
    path.write_text(f"BIG={BIG}\nBIG_TOKEN={BIG}\n")
    result = devsync("env", "import", str(path), "--yes", *BOB)
    assert result.code == 0, result.err[:300]
    assert f"  + BIG = {SHOWN}\n" in result.out
    assert "  + BIG_TOKEN = (secret, not shown)\n" in result.out  # masked, as ever
    assert _short(result.out + result.err)


def test_import_list_and_get(devsync: DevsyncCLI) -> None:
    _import_big(devsync)
    listed = devsync("env", "list", *BOB)
    assert f"{'a' * 60}… (1,048,576 characters)  [override, v1]" in listed.out
    assert _short(listed.out)
    # Whole where a program reads it.
    assert devsync("env", "get", "BIG", *BOB).out == BIG + "\n"
    rows = json.loads(devsync("env", "list", "--json", *BOB).out)["configuration"]
    assert next(r for r in rows if r["key"] == "BIG")["value"] == BIG


def test_import_change_diff_and_conflict(devsync: DevsyncCLI) -> None:
    _import_big(devsync)
    path = devsync.home / "changed.env"
    path.write_text(f"BIG=b{BIG[1:]}\n")
    changed = devsync("env", "import", str(path), "--dry-run", *BOB)
    assert f"  ~ BIG: {SHOWN} -> 'b{'a' * 59}'… (1,048,576 characters)\n" in changed.out
    assert devsync("env", "set", "BIG=short", *ALICE_STAGING).code == 0
    diff = devsync("env", "diff", "bob-laptop", "staging", "--user", "alice")
    assert f"~ BIG: {SHOWN} (storefront/bob-laptop) vs 'short' (storefront/staging)" in diff.out
    assert _short(diff.out)
    value = devsync.home / "value.txt"
    value.write_text("c" * 5000)
    conflict = devsync("env", "set", "BIG", "--file", str(value), "--expected-version", "7", *BOB)
    assert conflict.code == 1
    assert f"  theirs: {SHOWN}\n" in conflict.err
    assert f"  yours:  '{'c' * 60}'… (5,000 characters)\n" in conflict.err


def test_pull_plan(devsync: DevsyncCLI) -> None:
    _import_big(devsync)
    shop = devsync.home / "shop"
    (shop / ".git").mkdir(parents=True)
    plan = devsync("env", "pull", str(shop), "--dry-run", *BOB)
    assert f"  + BIG (.env): {SHOWN}\n" in plan.out
    assert "  + BIG_TOKEN (.env): (secret value)\n" in plan.out
    assert _short(plan.out + plan.err)
    (shop / ".env").write_text("BIG=old\n")
    plan = devsync("env", "pull", str(shop), "--dry-run", *BOB)
    assert f"  ~ BIG (.env): 'old' -> {SHOWN}\n" in plan.out
