"""Bad input to the RPCs: one clear error, and nothing written (checked on committed state)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
MIB = 1024 * 1024


def _counts(su: Conn) -> tuple[Any, ...]:
    row = su.execute(
        "select (select count(*) from configurations),"
        " (select count(*) from configuration_history),"
        " (select count(*) from configuration_secrets), (select count(*) from audit_log),"
        " (select count(*) from dependencies), (select count(*) from health_checks),"
        " (select count(*) from teams), (select count(*) from team_members)"
    ).fetchone()
    assert row is not None
    return tuple(row)


def _run_as(su: Conn, user: demo.DemoUser, query: str, params: Any) -> None:
    """Run ``query`` as ``user`` in its own transaction (rolled back if it raises)."""
    with su.transaction(), su.cursor() as cur:
        impersonate(cur, user)
        cur.execute(query, params)


def _fails(su: Conn, query: str, params: Any, user: demo.DemoUser = demo.ALICE) -> psycopg.Error:
    """Run ``query`` as ``user``; it must fail and change nothing."""
    before = _counts(su)
    with pytest.raises(psycopg.Error) as err:
        _run_as(su, user, query, params)
    assert _counts(su) == before
    return err.value


SAVE = "select save_configuration(%s, null, %s, %s, %s, %s, %s)"

BAD_SAVES = [
    ("", "plain-value-xyz", "env_var", "must not be empty"),
    ("1ABC", "plain-value-xyz", "env_var", "must start with a letter"),
    ("A-B", "plain-value-xyz", "env_var", "must start with a letter"),
    ("A B", "plain-value-xyz", "env_var", "must start with a letter"),
    ("ÄBC", "plain-value-xyz", "env_var", "must start with a letter"),
    ("A\nB", "plain-value-xyz", "env_var", "must start with a letter"),
    ("A" * 257, "plain-value-xyz", "env_var", "at most 256 characters"),
    ("/etc/passwd", "plain-value-xyz", "file", "relative"),
    ("../secret.env", "plain-value-xyz", "file", ".. segment"),
    ("config/../../etc/hosts", "plain-value-xyz", "file", ".. segment"),
    ("config/..", "plain-value-xyz", "file", ".. segment"),
    ("..", "plain-value-xyz", "file", ".. segment"),
    (".", "plain-value-xyz", "file", "empty or . segments"),
    ("./", "plain-value-xyz", "file", "empty or . segments"),
    ("config/./app.json", "plain-value-xyz", "file", "empty or . segments"),
    ("config//app.json", "plain-value-xyz", "file", "empty or . segments"),
    ("config/", "plain-value-xyz", "file", "empty or . segments"),
    ("config\\app.json", "plain-value-xyz", "file", "backslash"),
    ("a\x01b", "plain-value-xyz", "file", "control characters"),
    ("x" * 1025, "plain-value-xyz", "file", "at most 1024 characters"),
    ("BIG", "x" * (MIB + 1), "env_var", "at most 1 MiB"),
    ("BIG", "é" * (MIB // 2 + 1), "env_var", "at most 1 MiB"),  # bytes, not characters
    ("BELL", "bell-\x07-value", "env_var", "control characters"),
    ("ESC", "\x1b[31mred-value", "env_var", "control characters"),
    ("K", "plain-value-xyz", "envvar", "type must be env_var or file"),
    ("K", "plain-value-xyz", "FILE", "type must be env_var or file"),
    ("K", "plain-value-xyz", None, "type must be env_var or file"),
    ("K", None, "env_var", "must not be null"),
]


@pytest.mark.parametrize(
    ("key", "value", "typ", "message"),
    BAD_SAVES,
    ids=[f"{i}-{c[3]}" for i, c in enumerate(BAD_SAVES)],
)
def test_bad_configuration_is_refused(
    su: Conn, key: str, value: str | None, typ: str | None, message: str
) -> None:
    for secret in (False, True):
        err = _fails(su, SAVE, (S, key, value, secret, typ, None))
        assert err.sqlstate == "22023"
        assert message in (err.diag.message_primary or "")
        if value:
            assert value not in str(err)


def test_is_secret_must_be_given(su: Conn) -> None:
    err = _fails(su, SAVE, (S, "K", "v", None, "env_var", None))
    assert err.sqlstate == "22023"


def test_nul_bytes_never_reach_the_table(su: Conn) -> None:
    # Through the driver: refused before it is sent.
    before = _counts(su)
    with pytest.raises(psycopg.DataError, match="NUL"):
        _run_as(su, demo.ALICE, SAVE, (S, "NUL_KEY", "a\x00b", False, "env_var", None))
    assert _counts(su) == before
    # Through JSON, as PostgREST passes RPC arguments: refused by the server.
    err = _fails(
        su,
        "select save_configuration(%s, null, 'NUL_KEY', (%s::jsonb) ->> 'v', false, 'env_var',"
        " null)",
        (S, json.dumps({"v": "a\x00b"})),
    )
    assert err.sqlstate == "22P05"


def test_limits_are_inclusive(su: Conn) -> None:
    with su.transaction(force_rollback=True), su.cursor() as cur:
        impersonate(cur, demo.ALICE)
        cur.execute(SAVE, (S, "A" * 256, "x" * MIB, False, "env_var", None))
        cur.execute(SAVE, (S, "d/" + "x" * 1022, "tab\tnew\nline\rok", False, "file", None))
        cur.execute(SAVE, (S, "TABS", "tab\tnew\nline\r", True, "env_var", None))
        cur.execute(SAVE, (S, ".env.local", "", False, "file", None))
        cur.execute("select count(*) from configurations where key in ('TABS', '.env.local')")
        assert cur.fetchone() == (2,)


def test_wrong_expected_version_type_is_refused(su: Conn) -> None:
    err = _fails(
        su,
        "select save_configuration(%s, null, 'K', 'v', false, 'env_var', %s::text::integer)",
        (S, "abc"),
    )
    assert err.sqlstate == "22P02"


def test_creating_an_existing_key_is_refused(su: Conn) -> None:
    err = _fails(su, SAVE, (S, "LOG_LEVEL", "v", False, "env_var", None))
    assert err.sqlstate == "23505"
    assert "already exists" in (err.diag.message_primary or "")


def test_environment_of_another_project_is_refused(su: Conn) -> None:
    err = _fails(
        su,
        "select save_configuration(%s, %s, 'K', 'v', false, 'env_var', null)",
        (demo.PROJECT_BILLING, demo.ENV_BOB_LAPTOP),
    )
    assert err.sqlstate in ("42501", "P0002")


def _pkgs(n: int, **extra: Any) -> str:
    return json.dumps(
        [
            {
                "package_manager": "npm",
                "package_name": f"p{i}",
                "resolved_version": "1.0.0",
                **extra,
            }
            for i in range(n)
        ]
    )


@pytest.mark.parametrize(
    ("packages", "message"),
    [
        ('{"not": "an array"}', "must be a JSON array"),
        ("[1, 2]", "must be a JSON object"),
        (_pkgs(20_001), "at most 20,000 packages"),
        (_pkgs(1, package_manager="brew"), "package_manager must be"),
        (json.dumps([{"package_manager": "pip"}]), "package_name"),
        (_pkgs(1, status="broken"), "status of package p0"),
    ],
)
def test_bad_dependency_report_is_refused(su: Conn, packages: str, message: str) -> None:
    err = _fails(su, "select report_dependencies(%s, null, %s)", (S, packages))
    assert err.sqlstate == "22023"
    assert message in (err.diag.message_primary or "")


def _points(n: int, **extra: Any) -> str:
    return json.dumps(
        [
            {
                "metric_type": "cpu",
                "value": {"value": 1},
                "recorded_at": f"2099-01-01T00:00:{i % 60:02d}Z",
                **extra,
            }
            for i in range(n)
        ]
    )


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ('"nope"', "must be a JSON array"),
        (_points(5_001), "at most 5,000"),
        (_points(1, metric_type="gpu"), "metric_type"),
        (_points(1, value=42), "JSON object as value"),
    ],
)
def test_bad_health_report_is_refused(su: Conn, points: str, message: str) -> None:
    err = _fails(su, "select report_health(%s, %s)", (demo.ENV_BOB_LAPTOP, points), demo.BOB)
    assert err.sqlstate == "22023"
    assert message in (err.diag.message_primary or "")


@pytest.mark.parametrize(
    ("query", "params", "state"),
    [
        ("select create_team(%s, %s)", ("X", "Bad Slug"), "22023"),
        ("select create_team(%s, %s)", ("", "ok-slug"), "22023"),
        ("select create_team(%s, %s)", ("Dup", "acme"), "23505"),
        ("select add_team_member(%s, %s, 'member')", (demo.TEAM_ACME, "nobody-here"), "P0002"),
        ("select add_team_member(%s, %s, 'owner')", (demo.TEAM_ACME, "mallory"), "22023"),
        ("select add_team_member(%s, %s, 'member')", (demo.TEAM_ACME, "bob"), "23505"),
        ("select set_member_role(%s, %s, 'boss')", (demo.TEAM_ACME, demo.DAVE.id), "22023"),
        ("select create_environment(%s, %s)", (S, "bob-laptop"), "23505"),
        ("select create_environment(%s, %s)", (S, " "), "22023"),
        ("select delete_configuration(gen_random_uuid(), 1)", None, "P0002"),
        ("select rollup_health_checks(%s::interval)", ("-1 day",), "22023"),
    ],
)
def test_bad_team_and_environment_input(su: Conn, query: str, params: Any, state: str) -> None:
    err = _fails(su, query, params)
    assert err.sqlstate == state
    assert err.diag.message_primary
