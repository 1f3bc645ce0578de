"""Secret non-disclosure: for every identity that may not reveal a secret, no road returns its
value — tables, views, functions (incl. effective_configuration), history, error text, audit
details and the devsync_changes notifications."""

from __future__ import annotations

import json
import threading
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.db.helpers import (
    IDENTITIES,
    Conn,
    Machine,
    acting_as,
    impersonate,
    install_machine_tokens,
    try_sql,
)
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT


def _all_secrets(su: Conn) -> list[dict[str, Any]]:
    """Every stored secret value with its scope (current and historical)."""
    rows = su.execute(
        "select c.project_id, c.environment_id, c.key, s.value"
        " from configuration_secrets s join configurations c on c.id = s.configuration_id"
        " union"
        " select h.project_id, h.environment_id, h.key, hs.value"
        " from configuration_history_secrets hs join configuration_history h"
        " on h.id = hs.history_id"
    ).fetchall()
    return [{"project": r[0], "env": r[1], "key": r[2], "value": r[3]} for r in rows]


def _may_reveal(who: str, secret: dict[str, Any]) -> bool:
    """PERMISSIONS.md's reveal rule, written independently of the SQL."""
    user = IDENTITIES[who]
    if user is None or user.role in (None, "viewer"):
        return False
    if user.role == "admin":
        return True
    owned = [e for e in demo.ENVIRONMENTS if e.owner is user]
    if secret["env"] is None:
        return any(e.project_id == secret["project"] for e in owned)
    return any(e.id == secret["env"] for e in owned)


def _forbidden(su: Conn, who: str) -> list[str]:
    return [s["value"] for s in _all_secrets(su) if not _may_reveal(who, s)]


def _public_relations(su: Conn) -> list[str]:
    rows = su.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'v', 'm') order by 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _machine_forbidden(su: Conn, who: str) -> list[str]:
    """For a machine: every secret value but the current ones of its environment's effective
    configuration (all of them when its token is refused); history is never a machine's."""
    machine = IDENTITIES[who]
    assert isinstance(machine, Machine)
    allowed: set[str] = set()
    if machine.state == "valid":
        rows = su.execute(
            "select s.value from private.effective_rows(%s) e"
            " join configuration_secrets s on s.configuration_id = e.configuration_id",
            (machine.environment_id,),
        ).fetchall()
        allowed = {str(r[0]) for r in rows}
    return [s["value"] for s in _all_secrets(su) if s["value"] not in allowed]


def _assert_absent(text: str, forbidden: list[str], where: str) -> None:
    for value in forbidden:
        assert value not in text, f"a secret value leaked through {where}"


NON_REVEALERS = ["anon", "outsider", "viewer", "member", "env_owner"]


@pytest.mark.parametrize("who", NON_REVEALERS)
def test_no_table_or_view_returns_a_forbidden_secret(su: Conn, who: str) -> None:
    forbidden = _forbidden(su, who)
    assert forbidden, "the demo must hold secrets this identity may not reveal"
    _scan_relations(su, who, forbidden)


@pytest.mark.parametrize("who", NON_REVEALERS)
def test_no_function_returns_a_forbidden_secret(su: Conn, who: str) -> None:
    _scan_functions(su, who, _forbidden(su, who))


MACHINES = ["machine", "machine_other_env", "machine_expired", "machine_revoked"]


@pytest.mark.parametrize("who", MACHINES)
def test_a_machine_gets_no_secret_beyond_its_environment(su: Conn, who: str) -> None:
    install_machine_tokens(su)
    forbidden = _machine_forbidden(su, who)
    assert forbidden
    _scan_relations(su, who, forbidden)
    _scan_functions(su, who, forbidden)
    secret_ids = su.execute("select configuration_id from configuration_secrets").fetchall()
    with acting_as(su, IDENTITIES[who]) as cur:
        for call in (
            "select * from machine_whoami()",
            "select * from machine_effective_configuration()",
        ):
            _assert_absent(_call(cur, call), forbidden, call)
        for (cid,) in secret_ids:
            _assert_absent(
                _call(cur, "select machine_reveal_secret(%s)", cid), forbidden, "machine reveal"
            )


def _scan_relations(conn: Conn, who: str, forbidden: list[str]) -> None:
    """Every table and view of the public schema, read as ``who``: no forbidden value."""
    with acting_as(conn, IDENTITIES[who]) as cur:
        for rel in _public_relations(conn):
            rows = try_sql(cur, f'select * from public."{rel}"')
            _assert_absent(repr(rows), forbidden, f"select from {rel}")


def _scan_functions(conn: Conn, who: str, forbidden: list[str]) -> None:
    """Every function that reads values (effective_configuration, the reveals) and what
    restore_configuration returns, called as ``who`` on every secret: no forbidden value."""
    secret_ids = conn.execute("select configuration_id from configuration_secrets").fetchall()
    history_ids = conn.execute("select history_id from configuration_history_secrets").fetchall()
    with acting_as(conn, IDENTITIES[who]) as cur:
        for env in demo.ENVIRONMENTS:
            rows = try_sql(cur, "select * from effective_configuration(%s)", (env.id,))
            _assert_absent(repr(rows), forbidden, "effective_configuration")
        for (cid,) in secret_ids:
            _assert_absent(_call(cur, "select reveal_secret(%s)", cid), forbidden, "reveal_secret")
        for (hid,) in history_ids:
            _assert_absent(
                _call(cur, "select reveal_history_secret(%s)", hid),
                forbidden,
                "reveal_history_secret",
            )
            _assert_absent(
                _call(cur, "select * from restore_configuration(%s, null)", hid),
                forbidden,
                "restore_configuration",
            )


def _call(cur: psycopg.Cursor[Any], query: str, *params: Any) -> str:
    """Result or complete error text (message, detail, hint, context) of a call."""
    try:
        with cur.connection.transaction():
            cur.execute(query, params)
            return repr(cur.fetchall())
    except psycopg.Error as exc:
        d = exc.diag
        return " ".join(
            str(x)
            for x in (
                exc,
                d.message_primary,
                d.message_detail,
                d.message_hint,
                d.context,
                d.sqlstate,
            )
        )


def test_reveal_is_denied_with_42501_and_no_value(su: Conn) -> None:
    cid = su.execute(
        "select id from configurations where environment_id = %s and key = 'DATABASE_URL'",
        (demo.ENV_BOB_LAPTOP,),
    ).fetchone()
    assert cid is not None
    for who in ("viewer", "member", "outsider"):
        with (
            acting_as(su, IDENTITIES[who]) as cur,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            cur.execute("select reveal_secret(%s)", (cid[0],))


def test_viewer_never_reveals_even_for_an_environment_they_own(su: Conn) -> None:
    cid = su.execute(
        "select id from configurations where environment_id = %s and key = 'DATABASE_URL'",
        (demo.ENV_BOB_LAPTOP,),
    ).fetchone()
    assert cid is not None
    with su.transaction(force_rollback=True), su.cursor() as cur:
        impersonate(cur, demo.BOB)
        cur.execute("select reveal_secret(%s)", (cid[0],))
        assert cur.fetchone() is not None  # bob may, as a member owning the environment
        impersonate(cur, demo.ALICE)
        cur.execute("select set_member_role(%s, %s, 'viewer')", (demo.TEAM_ACME, demo.BOB.id))
        impersonate(cur, demo.BOB)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), su.transaction():
            cur.execute("select reveal_secret(%s)", (cid[0],))
        # nor the project default his machine would inherit
        stripe = su.execute(
            "select id from configurations where project_id = %s and environment_id is null"
            " and key = 'STRIPE_SECRET_KEY'",
            (S,),
        ).fetchone()
        assert stripe is not None
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute("select reveal_secret(%s)", (stripe[0],))


def test_secrets_equal_tells_equality_only_and_records_no_reveal(su: Conn) -> None:
    """Compare's question: the same value or not, for whoever may reveal both; no value comes
    back and no reveal is recorded; a viewer is refused as reveal_secret refuses."""

    def secret(env: UUID | None, key: str) -> UUID:
        row = su.execute(
            "select id from configurations where project_id = %s"
            " and environment_id is not distinct from %s and key = %s",
            (S, env, key),
        ).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    bob_db = secret(demo.ENV_BOB_LAPTOP, "DATABASE_URL")
    staging_stripe = secret(demo.ENV_STAGING, "STRIPE_SECRET_KEY")
    with su.transaction(force_rollback=True), su.cursor() as cur:
        impersonate(cur, demo.ALICE)
        reveals = "select count(*) from audit_log where action = 'secret.reveal'"
        # A copy of the same value under another key: equal; two different values: not.
        value = cur.execute("select reveal_secret(%s)", (bob_db,)).fetchone()
        assert value is not None
        cur.execute(
            "select (save_configuration(%s, %s, 'DB_COPY', %s, true, 'env_var', null)).id",
            (S, demo.ENV_STAGING, value[0]),
        )
        copy = cur.fetchone()
        assert copy is not None
        before = cur.execute(reveals).fetchone()
        assert cur.execute("select secrets_equal(%s, %s)", (bob_db, copy[0])).fetchone() == (True,)
        assert cur.execute("select secrets_equal(%s, %s)", (bob_db, staging_stripe)).fetchone() == (
            False,
        )
        assert cur.execute(reveals).fetchone() == before  # nothing recorded as revealed
        impersonate(cur, demo.CAROL)  # a viewer
        with pytest.raises(psycopg.errors.InsufficientPrivilege), su.transaction():
            cur.execute("select secrets_equal(%s, %s)", (bob_db, copy[0]))


def test_secret_rows_hold_null_values_and_audit_details_hold_none(su: Conn) -> None:
    forbidden = [s["value"] for s in _all_secrets(su)]
    with acting_as(su, demo.ALICE) as cur:
        cur.execute("select value from configurations where is_secret")
        assert {r[0] for r in cur.fetchall()} == {None}
        cur.execute("select value from configuration_history where is_secret")
        assert {r[0] for r in cur.fetchall()} == {None}
        cur.execute(
            "select reveal_secret(id) from configurations where is_secret and project_id = %s",
            (S,),
        )
        assert all(r[0] for r in cur.fetchall())
        cur.execute("select details::text from audit_log")
        _assert_absent(repr(cur.fetchall()), forbidden, "audit_log.details")


def test_error_text_never_carries_the_value(su: Conn) -> None:
    secret = "demo-\x01-secret-in-an-error-not-real"
    stored = [s["value"] for s in _all_secrets(su)]
    with acting_as(su, demo.ALICE) as cur:
        text = _call(
            cur,
            "select save_configuration(%s, null, 'BAD', %s, true, 'env_var', null)",
            S,
            secret,
        )
        assert "22023" in text
        assert secret not in text
        assert "secret-in-an-error" not in text
        text = _call(
            cur,
            "select save_configuration(%s, null, 'STRIPE_SECRET_KEY', %s, true, 'env_var', 1)",
            S,
            "demo-new-value-not-real",
        )
        assert "PT409" in text
        assert "demo-new-value-not-real" not in text
        _assert_absent(text, stored, "a PT409 error")


def test_secret_tables_are_not_published_to_realtime(su: Conn) -> None:
    rows = su.execute(
        "select tablename from pg_publication_tables where pubname = 'supabase_realtime'"
    ).fetchall()
    published = {r[0] for r in rows}
    assert published == {
        "profiles",
        "teams",
        "team_members",
        "projects",
        "env_templates",
        "environments",
        "configurations",
        "dependencies",
        "health_checks",
        "machine_config_states",
    }


def test_notifications_carry_ids_only(fresh_db_url: str) -> None:
    """Every change of a secret (create, update, reveal, restore, delete) notifies ids only."""
    payloads: list[str] = []
    ready = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with psycopg.connect(fresh_db_url, autocommit=True) as lc:
            lc.execute("listen devsync_changes")
            lc.execute("select private.register_change_listener()")
            ready.set()
            while not done.is_set():
                payloads.extend(n.payload for n in lc.notifies(timeout=0.2))
            payloads.extend(n.payload for n in lc.notifies(timeout=0.5))

    t = threading.Thread(target=listen)
    t.start()
    assert ready.wait(10)
    value = "demo-notify-secret-not-real"
    try:
        with psycopg.connect(fresh_db_url, autocommit=True) as conn, conn.cursor() as cur:
            for step in (
                "select id from save_configuration(%(p)s, null, 'NOTIFY_KEY', %(v)s, true,"
                " 'env_var', null)",
                "select id from save_configuration(%(p)s, null, 'NOTIFY_KEY', %(v2)s, true,"
                " 'env_var', 1)",
                "select reveal_secret(id) from configurations where key = 'NOTIFY_KEY'",
                "select id from restore_configuration((select min(id) from configuration_history"
                " where key = 'NOTIFY_KEY'), 2)",
                "select delete_configuration(id, 3) from configurations where key = 'NOTIFY_KEY'",
            ):
                with conn.transaction():
                    impersonate(cur, demo.ERIN)
                    cur.execute(step, {"p": S, "v": value, "v2": value + "-2"})
    finally:
        done.set()
        t.join(10)
    assert payloads, "no notification arrived"
    for raw in payloads:
        assert value not in raw
        body = json.loads(raw)
        assert set(body) == {"table", "op", "id", "team_id", "project_id", "environment_id"}
    tables = {json.loads(p)["table"] for p in payloads}
    assert {"configurations", "configuration_history", "audit_log"} <= tables
    for p in payloads:
        body = json.loads(p)
        if body["table"] == "configurations":
            assert body["team_id"] == str(demo.TEAM_ACME)
            UUID(body["id"])


def test_a_secret_through_every_transition_reaches_no_one_who_may_not_reveal(
    fresh_db_url: str,
) -> None:
    """A project-default secret created, changed, turned plain and back, restored and deleted
    (each step a history row): none of its secret versions reaches a non-revealer by any road,
    nor through what the write RPCs return to a member who may write but not reveal."""
    versions = [f"demo-transition-{n}-not-real" for n in range(3)]
    steps = [
        ("select * from save_configuration(%s, null, 'T_KEY', %s, true, 'env_var', null)", 0),
        ("select * from save_configuration(%s, null, 'T_KEY', %s, true, 'env_var', 1)", 1),
        ("select * from save_configuration(%s, null, 'T_KEY', 'now-plain', false, 'env_var', 2)",),
        ("select * from save_configuration(%s, null, 'T_KEY', %s, true, 'env_var', 3)", 2),
    ]
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        with conn.cursor() as cur:
            for step in steps:
                with conn.transaction():
                    impersonate(cur, demo.ALICE)
                    params = (S,) if len(step) == 1 else (S, versions[step[1]])
                    cur.execute(step[0], params)
            # dave (member: may write the defaults, may not reveal them) restores version 1;
            # what the RPC returns to him holds no value.
            with conn.transaction():
                impersonate(cur, demo.DAVE)
                first = "(select min(id) from configuration_history where key = 'T_KEY')"
                cur.execute(f"select * from restore_configuration({first}, 4)")
                _assert_absent(repr(cur.fetchall()), versions, "restore returned to dave")
            with conn.transaction():
                impersonate(cur, demo.ALICE)
                cur.execute(
                    "select delete_configuration(id, 5) from configurations where key = 'T_KEY'"
                )
        # every secret version is kept (for those who may reveal), none as a plain value
        stored = {s["value"] for s in _all_secrets(conn) if s["key"] == "T_KEY"}
        assert stored == set(versions)
        for who in ("anon", "outsider", "viewer", "member"):
            forbidden = _forbidden(conn, who)
            assert set(versions) <= set(forbidden)
            _scan_relations(conn, who, forbidden)
            _scan_functions(conn, who, forbidden)
