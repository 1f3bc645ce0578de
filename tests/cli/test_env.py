"""``devsync env``: list/get/set/unset/link on the local transport, real Postgres, in-process."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_list_masks_secrets_and_marks_sources(devsync: DevsyncCLI) -> None:
    secret = "s-" + uuid.uuid4().hex
    assert devsync("env", "set", "TOKEN", "--secret", *BOB, *BOB_LAPTOP, stdin=secret).code == 0
    result = devsync("env", "list", *BOB, *BOB_LAPTOP)
    assert result.code == 0
    assert secret not in result.out + result.err
    lines = {line.split()[0]: line for line in result.out.splitlines()}
    assert set(demo.BOB_LAPTOP_KEYS) <= set(lines)
    assert "••••••••" in lines["TOKEN"]
    assert "[override" in lines["BOB_DEBUG_PORT"]
    assert "[default" in lines["NODE_ENV"]

    data = json.loads(devsync("env", "list", "--json", *BOB, *BOB_LAPTOP).out)
    rows = {row["key"]: row for row in data["configuration"]}
    assert rows["TOKEN"]["value"] is None
    assert rows["TOKEN"]["is_secret"] is True
    assert data["target"] == "storefront/bob-laptop"


def test_set_then_get_round_trips_exact_values(devsync: DevsyncCLI) -> None:
    value = "it's $HOME # not a comment ünï"
    assert devsync("env", "set", f"GREETING={value}", *BOB, *BOB_LAPTOP).code == 0
    got = devsync("env", "get", "GREETING", *BOB, *BOB_LAPTOP)
    assert (got.code, got.out) == (0, value + "\n")
    # A value with newlines, exactly, from --file.
    path = devsync.home / "value.txt"
    path.write_bytes(b"line1\nline2\n")
    assert devsync("env", "set", "MULTI", "--file", str(path), *BOB, *BOB_LAPTOP).code == 0
    data = json.loads(devsync("env", "get", "MULTI", "--json", *BOB, *BOB_LAPTOP).out)
    assert data["value"] == "line1\nline2\n"


def test_secret_from_stdin_is_revealed_only_where_allowed(devsync: DevsyncCLI) -> None:
    secret = "p@ss " + uuid.uuid4().hex
    result = devsync("env", "set", "API_TOKEN", "--secret", *BOB, *BOB_LAPTOP, stdin=secret + "\n")
    assert result.code == 0
    assert "secret API_TOKEN" in result.out
    assert secret not in result.out + result.err
    assert devsync("env", "get", "API_TOKEN", *BOB, *BOB_LAPTOP).out == secret + "\n"
    # Updating a secret keeps it secret without repeating --secret.
    assert devsync("env", "set", "API_TOKEN", *BOB, *BOB_LAPTOP, stdin="rotated").code == 0
    listed = json.loads(devsync("env", "list", "--json", *BOB, *BOB_LAPTOP).out)
    assert next(r for r in listed["configuration"] if r["key"] == "API_TOKEN")["is_secret"]
    # carol is a viewer: never reveals (exit 3), and the error holds no value.
    denied = devsync("env", "get", "API_TOKEN", "--user", "carol", *BOB_LAPTOP)
    assert denied.code == 3
    assert denied.out == ""
    assert "rotated" not in denied.err


def test_secret_on_the_command_line_warns(devsync: DevsyncCLI) -> None:
    result = devsync("env", "set", "X_SECRET=abc123", "--secret", *BOB, *BOB_LAPTOP)
    assert result.code == 0
    assert "process list" in result.err


def test_stale_expected_version_is_a_conflict_and_writes_nothing(devsync: DevsyncCLI) -> None:
    assert devsync("env", "set", "PORT=1", *BOB, *BOB_LAPTOP).code == 0
    assert devsync("env", "set", "PORT=2", *BOB, *BOB_LAPTOP).code == 0  # now version 2
    stale = devsync("env", "set", "PORT=3", "--expected-version", "1", *BOB, *BOB_LAPTOP)
    assert stale.code == 1
    assert "now version 2" in stale.err
    assert "theirs: '2'" in stale.err
    assert "yours:  '3'" in stale.err
    assert devsync("env", "get", "PORT", *BOB, *BOB_LAPTOP).out == "2\n"


def test_permission_and_input_errors_have_their_exit_codes(devsync: DevsyncCLI) -> None:
    viewer = devsync("env", "set", "A=1", "--user", "carol", *BOB_LAPTOP)
    assert viewer.code == 3
    assert viewer.err.startswith("devsync: ")
    assert "Traceback" not in viewer.err
    bad_key = devsync("env", "set", "1BAD=1", *BOB, *BOB_LAPTOP)
    assert bad_key.code == 2
    assert "not a valid variable name" in bad_key.err
    unknown_env = devsync("env", "list", *BOB, "--project", "storefront", "--env", "nope")
    assert unknown_env.code == 2
    assert "No environment 'nope'" in unknown_env.err
    unknown_key = devsync("env", "get", "NOPE", *BOB, *BOB_LAPTOP)
    assert unknown_key.code == 2


def test_unset_and_inherited_keys(devsync: DevsyncCLI) -> None:
    assert devsync("env", "unset", "BOB_DEBUG_PORT", *BOB, *BOB_LAPTOP).code == 0
    assert devsync("env", "get", "BOB_DEBUG_PORT", *BOB, *BOB_LAPTOP).code == 2
    inherited = devsync("env", "unset", "NODE_ENV", *BOB, *BOB_LAPTOP)
    assert inherited.code == 2
    assert "--project-default" in inherited.err


def test_project_default_scope(devsync: DevsyncCLI) -> None:
    args = ("--project", "storefront", "--project-default")
    assert devsync("env", "set", "NEW_DEFAULT=yes", *BOB, *args).code == 0
    # Every environment of the project inherits it.
    assert (
        devsync(
            "env",
            "get",
            "NEW_DEFAULT",
            "--user",
            "erin",
            "--project",
            "storefront",
            "--env",
            "staging",
        ).out
        == "yes\n"
    )
    both = devsync("env", "set", "X=1", *BOB, *args, "--env", "bob-laptop")
    assert both.code == 2


def test_default_target_needs_a_link_then_uses_it(devsync: DevsyncCLI) -> None:
    unlinked = devsync("env", "set", "A=1", *BOB)
    assert unlinked.code == 2
    assert "devsync env link" in unlinked.err
    linked = devsync("env", "link", *BOB, "--env", "bob-laptop")
    assert linked.code == 0
    assert "storefront/bob-laptop" in linked.out
    assert devsync("env", "set", "A=1", *BOB).code == 0
    assert devsync("env", "get", "A", *BOB, *BOB_LAPTOP).out == "1\n"
    # The link is bob's: alice on the same machine has none.
    assert devsync("env", "set", "A=2", "--user", "alice").code == 2
    assert devsync("env", "unlink", *BOB).code == 0
    assert devsync("env", "get", "A", *BOB).code == 2


def test_env_name_alone_is_found_across_projects(devsync: DevsyncCLI) -> None:
    result = devsync("env", "get", "DEBUG", "--user", "alice", "--env", "alice-mbp")
    assert (result.code, result.out) == (0, "true\n")
    by_path = devsync("env", "get", "CI", "--user", "alice", "--env", "storefront/ci-runner")
    assert by_path.out == "true\n"
    by_id = devsync("env", "get", "CI", "--user", "alice", "--env", str(demo.ENV_CI_RUNNER))
    assert by_id.out == "true\n"


@pytest.mark.parametrize("argv", [["env"], ["env", "set"], ["env", "frobnicate"]])
def test_usage_errors_exit_2(devsync: DevsyncCLI, argv: list[str]) -> None:
    assert devsync(*argv).code == 2


def test_flags_before_the_command_are_kept(devsync: DevsyncCLI) -> None:
    result = devsync(
        "--user",
        "bob",
        "--project",
        "storefront",
        "--env",
        "bob-laptop",
        "env",
        "get",
        "BOB_DEBUG_PORT",
    )
    assert (result.code, result.out) == (0, "9229\n")


def test_control_characters_are_escaped_on_a_terminal_only(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    hostile = "x\x1b[2J\ry\u202ez"
    path = devsync.home / "hostile"
    path.write_text(hostile)
    args = ("--project", "storefront", "--project-default", *BOB)
    assert devsync("env", "set", "notes/hostile.txt", "--file", str(path), *args).code == 0
    piped = devsync("env", "get", "notes/hostile.txt", *args)
    assert piped.out == hostile + "\n"  # a pipe gets the exact value
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    shown = devsync("env", "get", "notes/hostile.txt", *args)
    assert shown.out == "x\\x1b[2J\\x0dy\\u202ez\n"
    assert "shown escaped" in shown.err


def test_undecodable_command_line_value_is_refused(devsync: DevsyncCLI) -> None:
    # argv bytes that are not UTF-8 arrive as lone surrogates (surrogateescape).
    result = devsync("env", "set", "BAD=x\udcff", *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert "not valid UTF-8" in result.err


def test_ambiguous_environment_names_ask_for_the_project(devsync: DevsyncCLI) -> None:
    alice = ("--user", "alice")
    for project in ("storefront", "billing-api"):
        created = devsync(
            "agent", "--once", "--no-scan", *alice, "--project", project, "--env", "shared-name"
        )
        assert created.code == 0, created.err
    devsync("env", "unlink", *alice)
    ambiguous = devsync("env", "list", *alice, "--env", "shared-name")
    assert ambiguous.code == 2
    assert "ambiguous" in ambiguous.err
    assert "billing-api/shared-name" in ambiguous.err
    assert "storefront/shared-name" in ambiguous.err
    chosen = devsync("env", "list", *alice, "--env", "billing-api/shared-name")
    assert chosen.code == 0


def test_override_of_a_secret_default_stays_secret(devsync: DevsyncCLI) -> None:
    # STRIPE_SECRET_KEY is a secret project default; bob-laptop has no override of it.
    value = "sk-override-" + uuid.uuid4().hex
    result = devsync("env", "set", "STRIPE_SECRET_KEY", *BOB, *BOB_LAPTOP, stdin=value)
    assert result.code == 0
    assert "secret STRIPE_SECRET_KEY" in result.out
    listed = devsync("env", "list", *BOB, *BOB_LAPTOP)
    assert value not in listed.out
    plain = devsync("env", "set", "STRIPE_SECRET_KEY=visible", "--plain", *BOB, *BOB_LAPTOP)
    assert plain.code == 0
    assert "visible" in devsync("env", "list", *BOB, *BOB_LAPTOP).out


def test_expected_version_must_be_a_version(devsync: DevsyncCLI) -> None:
    for bad in ("0", "-5", "two"):
        for argv in (("set", "PORT=3"), ("unset", "PORT")):
            result = devsync("env", *argv, "--expected-version", bad, *BOB, *BOB_LAPTOP)
            assert result.code == 2
            assert "--expected-version" in result.err
            assert "changed since you read it" not in result.err


def test_a_user_in_no_team_is_told_so(devsync: DevsyncCLI) -> None:
    result = devsync("env", "list", "--user", "mallory")
    assert result.code == 2
    assert "No project is visible to you yet" in result.err
    assert "(one of: none)" not in result.err


def test_a_key_not_found_suggests_the_one_meant(devsync: DevsyncCLI) -> None:
    # A close spelling, or the same name in another letter case.
    for typed in ("LOG_LEVL", "log_level"):
        got = devsync("env", "get", typed, *BOB, *BOB_LAPTOP)
        assert (got.code, got.err) == (
            2,
            f"devsync: {typed} is not set in storefront/bob-laptop; did you mean LOG_LEVEL?\n",
        )
    unset = devsync("env", "unset", "BOB_DEBUG_PRT", *BOB, *BOB_LAPTOP)
    assert (unset.code, unset.err) == (
        2,
        "devsync: BOB_DEBUG_PRT is not set in storefront/bob-laptop; "
        "did you mean BOB_DEBUG_PORT?\n",
    )
    # unset works on the scope's own keys: a project default is named as one.
    default = devsync("env", "unset", "node_env", *BOB, *BOB_LAPTOP)
    assert default.err == (
        "devsync: node_env is not set in storefront/bob-laptop; did you mean NODE_ENV "
        "(a project default: use --project-default)?\n"
    )
    nothing_close = devsync("env", "get", "ZZZ_UNHEARD_OF", *BOB, *BOB_LAPTOP)
    assert nothing_close.err == ("devsync: ZZZ_UNHEARD_OF is not set in storefront/bob-laptop.\n")


def test_set_keeps_a_new_credential_like_key_secret_as_import_does(devsync: DevsyncCLI) -> None:
    fake = "fake-pass-" + uuid.uuid4().hex
    result = devsync("env", "set", "QA_PASSWORD", *BOB, *BOB_LAPTOP, stdin=fake)
    assert result.code == 0, result.err
    assert "Set secret QA_PASSWORD in storefront/bob-laptop" in result.out
    assert result.err == (
        "devsync: note: QA_PASSWORD was stored as a secret because its name looks like a "
        "credential's; --plain stores a plain value.\n"
    )
    listed = devsync("env", "list", *BOB, *BOB_LAPTOP)
    assert fake not in listed.out
    # The same rule as import (one function): the same line imported is a secret too.
    imported = devsync.home / "in.env"
    imported.write_text("QA_OTHER_PASSWORD=fake-pass-2\n")
    dry = devsync("env", "import", str(imported), "--dry-run", *BOB, *BOB_LAPTOP)
    assert "+ QA_OTHER_PASSWORD = (secret, not shown)" in dry.out
    # A value holding a URL with a password, new key: a secret, said why.
    url = devsync("env", "set", "QA_CACHE=redis://u:fake-pw@cache:6379", *BOB, *BOB_LAPTOP)
    assert "its value (a URL with a password) looks like a credential's" in url.err
    assert "fake-pw" not in url.out + url.err
    # --plain says otherwise; and an existing key keeps its secrecy without a flag.
    plain = devsync("env", "set", "QA_API_KEY=fake-key-1", "--plain", *BOB, *BOB_LAPTOP)
    assert (plain.code, plain.err) == (0, "")
    assert devsync("env", "set", "QA_API_KEY=fake-key-2", *BOB, *BOB_LAPTOP).err == ""
    data = json.loads(devsync("env", "list", "--json", *BOB, *BOB_LAPTOP).out)
    secret = {row["key"]: row["is_secret"] for row in data["configuration"]}
    assert (secret["QA_PASSWORD"], secret["QA_CACHE"], secret["QA_API_KEY"]) == (
        True,
        True,
        False,
    )
    # An override keeps the secrecy of the default it overrides: plain here.
    assert devsync(
        "env", "set", "QA_SHARED_TOKEN=fake-1", "--plain", *BOB, "--project", "storefront",
        "--project-default",
    ).code == 0  # fmt: skip
    override = devsync("env", "set", "QA_SHARED_TOKEN=fake-2", *BOB, *BOB_LAPTOP)
    assert (override.code, override.err) == (0, "")
    assert "Set QA_SHARED_TOKEN" in override.out


def test_unlink_speaks_json_and_refuses_flags_that_mean_nothing(devsync: DevsyncCLI) -> None:
    assert devsync("env", "link", *BOB, "--env", "bob-laptop").code == 0
    for flags in (("--env", "bob-laptop"), ("--project", "storefront")):
        refused = devsync("env", "unlink", *BOB, *flags)
        assert (refused.code, refused.out) == (2, "")
        assert refused.err == (
            f"devsync: {flags[0]} means nothing for devsync env unlink: it forgets this "
            "checkout's link, whichever it names.\n"
        )
    assert devsync("env", "get", "LOG_LEVEL", *BOB).code == 0  # still linked
    done = devsync("env", "unlink", "--json", *BOB)
    assert done.code == 0
    assert json.loads(done.out) == {"checkout": str(devsync.home), "unlinked": True}
    again = devsync("env", "unlink", "--json", *BOB)
    assert json.loads(again.out)["unlinked"] is False
    assert devsync("env", "unlink", *BOB).out == "This checkout was not linked.\n"


def test_a_conflict_with_json_is_one_document(devsync: DevsyncCLI) -> None:
    for argv in (
        ("set", "LOG_LEVEL=trace"),
        ("unset", "LOG_LEVEL"),
    ):
        result = devsync("env", *argv, "--json", "--expected-version", "7", *BOB, *BOB_LAPTOP)
        assert result.code == 1
        assert json.loads(result.out) == {
            "key": "LOG_LEVEL",
            "target": "storefront/bob-laptop",
            "written": False,
            "conflict": {"current_version": 1, "expected_version": 7},
        }
        assert "changed since you read it" in result.err
