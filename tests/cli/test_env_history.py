"""``devsync env history`` and ``devsync env restore`` (local transport, real Postgres):
secrets masked unless revealed where allowed, the dashboard's conflict rule on restore."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")
CAROL = ("--user", "carol", "--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_history_lists_every_version_newest_first(devsync: DevsyncCLI) -> None:
    assert devsync("env", "set", "LOG_LEVEL=trace", *BOB).code == 0
    result = devsync("env", "history", "LOG_LEVEL", *BOB)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == (
        "History of LOG_LEVEL in storefront/bob-laptop (environment override), newest first:"
    )
    assert lines[1].startswith("  v2   update  bob")
    assert lines[1].endswith("'trace'")
    assert lines[2].endswith("'debug'")
    data = json.loads(devsync("env", "history", "LOG_LEVEL", "--json", *BOB).out)
    assert [(h["version"], h["value"]) for h in data["history"]] == [(2, "trace"), (1, "debug")]
    assert data["scope"] == "environment override"


def test_secret_values_are_masked_unless_revealed_where_allowed(devsync: DevsyncCLI) -> None:
    secret = "hist-" + uuid.uuid4().hex
    assert devsync("env", "set", "DATABASE_URL", *BOB, stdin=secret).code == 0
    masked = devsync("env", "history", "DATABASE_URL", *BOB)
    masked_json = devsync("env", "history", "DATABASE_URL", "--json", *BOB)
    assert secret not in masked.out + masked_json.out
    assert "•••••••• (secret)" in masked.out
    assert all(h["value"] is None for h in json.loads(masked_json.out)["history"])
    shown = devsync("env", "history", "DATABASE_URL", "--reveal", "--json", *BOB)
    assert shown.code == 0
    assert json.loads(shown.out)["history"][0]["value"] == secret
    # carol (a viewer) sees the history, masked, and may not reveal it.
    assert devsync("env", "history", "DATABASE_URL", *CAROL).code == 0
    refused = devsync("env", "history", "DATABASE_URL", "--reveal", *CAROL)
    assert refused.code == 3
    assert refused.err.strip() == "devsync: You may not reveal this secret."
    assert secret not in refused.out + refused.err


def test_an_inherited_key_has_no_history_here(devsync: DevsyncCLI) -> None:
    result = devsync("env", "history", "NODE_ENV", *BOB)
    assert result.code == 2
    assert "inherited from the project defaults: use --project-default" in result.err
    defaults = ("--user", "bob", "--project", "storefront", "--project-default")
    assert devsync("env", "history", "NODE_ENV", *defaults).code == 0


def test_restore_writes_the_old_value_as_a_new_version(devsync: DevsyncCLI) -> None:
    assert devsync("env", "set", "LOG_LEVEL=trace", *BOB).code == 0
    result = devsync("env", "restore", "LOG_LEVEL", "--version", "1", *BOB)
    assert result.code == 0
    assert result.out.strip() == (
        "Restored version 1 of LOG_LEVEL in storefront/bob-laptop (now version 3)."
    )
    assert devsync("env", "get", "LOG_LEVEL", *BOB).out == "debug\n"


def test_restore_refuses_when_the_key_moved_on(devsync: DevsyncCLI) -> None:
    assert devsync("env", "set", "LOG_LEVEL=trace", *BOB).code == 0
    assert devsync("env", "set", "LOG_LEVEL=info", *BOB).code == 0  # now version 3
    result = devsync(
        "env", "restore", "LOG_LEVEL", "--version", "1", "--expected-version", "2", *BOB
    )
    assert result.code == 1
    assert result.err.splitlines() == [
        "devsync: LOG_LEVEL changed since you read it (now version 3; you expected version 2); "
        "version 1 was not restored.",
        "  theirs: 'info'",
        "  yours:  'debug' (version 1)",
    ]
    assert devsync("env", "get", "LOG_LEVEL", *BOB).out == "info\n"


def test_restore_of_a_secret_never_prints_it(devsync: DevsyncCLI) -> None:
    first, second = "one-" + uuid.uuid4().hex, "two-" + uuid.uuid4().hex
    assert devsync("env", "set", "API_TOKEN", "--secret", *BOB, stdin=first).code == 0
    assert devsync("env", "set", "API_TOKEN", *BOB, stdin=second).code == 0
    result = devsync("env", "restore", "API_TOKEN", "--version", "1", *BOB)
    assert result.code == 0
    assert first not in result.out + result.err
    assert devsync("env", "get", "API_TOKEN", *BOB).out == first + "\n"


def test_restore_bad_versions_are_one_sentence(devsync: DevsyncCLI) -> None:
    missing = devsync("env", "restore", "LOG_LEVEL", "--version", "9", *BOB)
    assert missing.code == 2
    assert missing.err.strip() == (
        "devsync: LOG_LEVEL has no version 9 in storefront/bob-laptop (versions: 1)."
    )
    assert devsync("env", "unset", "BOB_DEBUG_PORT", *BOB).code == 0
    history = devsync("env", "history", "BOB_DEBUG_PORT", *BOB).out.splitlines()
    assert history[1].startswith("  v1   delete")
    assert history[1].endswith("(deleted)")
    back = devsync("env", "restore", "BOB_DEBUG_PORT", "--version", "1", *BOB)
    assert back.code == 0  # after a delete: restored as the key anew
    assert devsync("env", "get", "BOB_DEBUG_PORT", *BOB).out == "9229\n"
    denied = devsync("env", "restore", "LOG_LEVEL", "--version", "1", *CAROL)
    assert denied.code == 3


def test_history_of_a_project_default_names_its_scope_once(devsync: DevsyncCLI) -> None:
    args = ("--user", "bob", "--project", "storefront", "--project-default")
    result = devsync("env", "history", "LOG_LEVEL", *args)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        "History of LOG_LEVEL in storefront (project defaults), newest first:"
    )


def test_history_of_an_unknown_key_suggests_the_one_meant(devsync: DevsyncCLI) -> None:
    result = devsync("env", "history", "LOG_LEVL", *BOB)
    assert (result.code, result.err) == (
        2,
        "devsync: LOG_LEVL has no history in storefront/bob-laptop; did you mean LOG_LEVEL?\n",
    )
    inherited = devsync("env", "history", "NODE_ENV", *BOB)
    assert inherited.err == (
        "devsync: NODE_ENV has no history in storefront/bob-laptop (it is inherited from the "
        "project defaults: use --project-default).\n"
    )


def test_long_values_are_shortened_in_the_history(devsync: DevsyncCLI) -> None:
    path = devsync.home / "long.txt"
    path.write_text("x" * 100_000)
    assert devsync("env", "set", "LOG_LEVEL", "--file", str(path), *BOB).code == 0
    lines = devsync("env", "history", "LOG_LEVEL", *BOB).out.splitlines()
    assert lines[1].endswith(f"'{'x' * 60}'… (100,000 characters)")
    assert max(len(line) for line in lines) < 200


def test_a_restore_conflict_with_json_is_one_document(devsync: DevsyncCLI) -> None:
    assert devsync("env", "set", "LOG_LEVEL=trace", *BOB).code == 0
    result = devsync(
        "env", "restore", "LOG_LEVEL", "--version", "1", "--expected-version", "1", "--json", *BOB
    )
    assert result.code == 1
    assert json.loads(result.out) == {
        "key": "LOG_LEVEL",
        "target": "storefront/bob-laptop",
        "written": False,
        "conflict": {"current_version": 2, "expected_version": 1},
        "version": 1,
    }


def test_every_version_stays_reachable_after_a_delete(devsync: DevsyncCLI) -> None:
    """A key deleted and created again continues its numbering, so restoring an older version
    names one value (before, the new key started again at version 1)."""
    for value in ("a", "b"):
        assert devsync("env", "set", f"QK={value}", "--plain", *BOB).code == 0
    assert devsync("env", "unset", "QK", *BOB).code == 0
    assert devsync("env", "set", "QK=c", "--plain", *BOB).code == 0
    data = json.loads(devsync("env", "history", "QK", "--json", *BOB).out)
    assert [(h["version"], h["op"], h["value"]) for h in data["history"]] == [
        (3, "insert", "c"), (2, "delete", None), (2, "update", "b"), (1, "insert", "a"),
    ]  # fmt: skip
    result = devsync("env", "restore", "QK", "--version", "2", *BOB)
    assert result.code == 0, result.err
    assert result.out.strip() == (
        "Restored version 2 of QK in storefront/bob-laptop (now version 4)."
    )
    assert devsync("env", "get", "QK", *BOB).out == "b\n"


def test_a_project_alone_says_how_to_reach_its_defaults(devsync: DevsyncCLI) -> None:
    """No link and `--project P` without `--env`: the refusal names --project-default, which
    is what someone naming only a project usually means (QA)."""
    for argv in (
        ("env", "set", "FOO=1", "--plain"),
        ("env", "restore", "LOG_LEVEL", "--version", "1"),
    ):
        result = devsync(*argv, "--user", "bob", "--project", "billing-api")
        assert result.code == 2, result.err
        assert result.err.strip().endswith(
            "for the project defaults of billing-api, add --project-default."
        ), result.err
