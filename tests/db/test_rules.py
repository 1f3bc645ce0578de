"""What the database does on its own: the profile trigger, version rules, history and audit
rows, updated_at, effective configuration, dependency reports, environments from templates,
restore, and the health retention roll-up."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from tests.db.helpers import Conn, Cur, config_id, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BOB_ENV = demo.ENV_BOB_LAPTOP


@pytest.fixture
def cur(su: Conn) -> Any:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _new_user(cur: Cur, email: str, meta: dict[str, Any]) -> str:
    uid = uuid4()
    cur.execute(
        "insert into auth.users (id, email, raw_user_meta_data) values (%s, %s, %s)",
        (uid, email, json.dumps(meta)),
    )
    cur.execute("select username from profiles where id = %s", (uid,))
    row = cur.fetchone()
    assert row is not None
    return str(row[0])


def test_profile_trigger_names_users_uniquely(cur: Cur) -> None:
    assert _new_user(cur, "zed@example.com", {"username": "zed", "full_name": "Zed"}) == "zed"
    assert _new_user(cur, "yara.q@example.com", {}) == "yara.q"
    assert _new_user(cur, "alice@elsewhere.example", {}) == "alice2"
    assert _new_user(cur, "Alice@third.example", {}) == "Alice3"
    assert _new_user(cur, "x@example.com", {"username": "  we!rd name "}) == "werdname"
    assert _new_user(cur, "@example.com", {}) == "user"
    cur.execute("select full_name from profiles where username = 'zed'")
    assert cur.fetchone() == ("Zed",)


def test_version_starts_at_one_and_rises_by_one_on_every_road(cur: Cur) -> None:
    cur.execute(
        "insert into configurations (project_id, key, value, version) values (%s, 'V', 'a', 7)"
        " returning id, version",
        (S,),
    )
    row = cur.fetchone()
    assert row is not None
    cid, version = row
    assert version == 1
    cur.execute(
        "update configurations set value = 'b', version = 99 where id = %s returning version",
        (cid,),
    )
    assert cur.fetchone() == (2,)
    impersonate(cur, demo.DAVE)
    cur.execute(
        "select version from save_configuration(%s, null, 'V', 'c', false, 'env_var', 2)", (S,)
    )
    assert cur.fetchone() == (3,)


def test_a_key_created_again_continues_its_numbering(cur: Cur) -> None:
    """Every version number of a scope and key names one value, across a delete: restoring
    "version 2" cannot mean two different values."""
    impersonate(cur, demo.BOB)
    cur.execute(
        "select id, version from save_configuration(%s, %s, 'RE', 'a', false, 'env_var', null)",
        (S, BOB_ENV),
    )
    first = cur.fetchone()
    assert first is not None
    assert first[1] == 1
    cur.execute("select save_configuration(%s, %s, 'RE', 'b', false, 'env_var', 1)", (S, BOB_ENV))
    cur.execute("select delete_configuration(%s, 2)", (first[0],))
    cur.execute(
        "select version from save_configuration(%s, %s, 'RE', 'c', false, 'env_var', null)",
        (S, BOB_ENV),
    )
    assert cur.fetchone() == (3,)
    # The same key in another scope (the project default) has its own numbering.
    impersonate(cur, demo.ALICE)
    cur.execute(
        "select version from save_configuration(%s, null, 'RE', 'd', false, 'env_var', null)",
        (S,),
    )
    assert cur.fetchone() == (1,)
    cur.execute("reset role")
    cur.execute(
        "select version, op, value from configuration_history"
        " where project_id = %s and environment_id = %s and key = 'RE' order by id",
        (S, BOB_ENV),
    )
    assert cur.fetchall() == [
        (1, "insert", "a"), (2, "update", "b"), (2, "delete", "b"), (3, "insert", "c"),
    ]  # fmt: skip


def test_history_has_every_version_current_included_and_deletes(cur: Cur) -> None:
    impersonate(cur, demo.BOB)
    cur.execute(
        "select id from save_configuration(%s, %s, 'H', 'one', false, 'env_var', null)",
        (S, BOB_ENV),
    )
    row = cur.fetchone()
    assert row is not None
    cid = row[0]
    cur.execute("select save_configuration(%s, %s, 'H', 'two', true, 'env_var', 1)", (S, BOB_ENV))
    cur.execute("select save_configuration(%s, %s, 'H', 'three', false, 'file', 2)", (S, BOB_ENV))
    cur.execute("select delete_configuration(%s, 3)", (cid,))
    cur.execute("reset role")
    cur.execute(
        "select h.version, h.op, h.value, s.value, h.is_secret, h.type, h.changed_by"
        " from configuration_history h left join configuration_history_secrets s"
        " on s.history_id = h.id where h.configuration_id = %s order by h.id",
        (cid,),
    )
    assert cur.fetchall() == [
        (1, "insert", "one", None, False, "env_var", demo.BOB.id),
        (2, "update", None, "two", True, "env_var", demo.BOB.id),
        (3, "update", "three", None, False, "file", demo.BOB.id),
        (3, "delete", "three", None, False, "file", demo.BOB.id),
    ]
    cur.execute("select count(*) from configuration_secrets where configuration_id = %s", (cid,))
    assert cur.fetchone() == (0,)
    cur.execute(
        "select action, actor_id, details from audit_log where target_id = %s order by id",
        (str(cid),),
    )
    audit = cur.fetchall()
    assert [a[0] for a in audit] == [
        "config.create",
        "config.update",
        "config.update",
        "config.delete",
    ]
    assert {a[1] for a in audit} == {demo.BOB.id}
    assert all(set(a[2]) == {"key", "version", "is_secret", "type"} for a in audit)


def test_secret_and_plain_move_between_tables(cur: Cur) -> None:
    impersonate(cur, demo.ALICE)
    cur.execute(
        "select id from save_configuration(%s, null, 'M', 'plain', false, 'env_var', null)", (S,)
    )
    row = cur.fetchone()
    assert row is not None
    cid = row[0]
    cur.execute(
        "select value from save_configuration(%s, null, 'M', 'hidden', true, 'env_var', 1)", (S,)
    )
    assert cur.fetchone() == (None,)
    cur.execute("select reveal_secret(%s)", (cid,))
    assert cur.fetchone() == ("hidden",)
    cur.execute(
        "select value from save_configuration(%s, null, 'M', 'open', false, 'env_var', 2)", (S,)
    )
    assert cur.fetchone() == ("open",)
    cur.execute("reset role")
    cur.execute("select count(*) from configuration_secrets where configuration_id = %s", (cid,))
    assert cur.fetchone() == (0,)


def test_reveal_is_audited_without_the_value(cur: Cur, su: Conn) -> None:
    cid = config_id(su, S, BOB_ENV, "DATABASE_URL")
    impersonate(cur, demo.BOB)
    cur.execute("select reveal_secret(%s)", (cid,))
    impersonate(cur, demo.ERIN)
    cur.execute(
        "select actor_id, target_id, details from audit_log where action ="
        " 'secret.reveal' order by id desc limit 1"
    )
    assert cur.fetchone() == (demo.BOB.id, str(cid), {"key": "DATABASE_URL", "version": 1})


def test_updated_at_is_kept_by_triggers(cur: Cur) -> None:
    for table in ("projects", "teams", "profiles", "configurations", "dependencies"):
        cur.execute(f"update {table} set updated_at = '2000-01-01' returning updated_at = now()")
        rows = cur.fetchall()
        assert rows, table
        assert all(r[0] for r in rows), table


def test_effective_configuration_merges_defaults_and_overrides(cur: Cur) -> None:
    impersonate(cur, demo.CAROL)
    cur.execute(
        "select key, source, is_secret, value is null, overrides_id is not null,"
        " updated_by from effective_configuration(%s) order by key",
        (BOB_ENV,),
    )
    rows = {r[0]: r[1:] for r in cur.fetchall()}
    assert set(rows) == set(demo.STOREFRONT_DEFAULT_KEYS) | set(demo.BOB_LAPTOP_KEYS)
    assert rows["LOG_LEVEL"] == ("override", False, False, True, "bob")
    assert rows["BOB_DEBUG_PORT"] == ("override", False, False, False, "bob")
    assert rows["DATABASE_URL"] == ("override", True, True, True, "bob")
    assert rows["STRIPE_SECRET_KEY"] == ("default", True, True, False, "erin")
    assert rows["NODE_ENV"][0] == "default"
    impersonate(cur, demo.MALLORY)
    cur.execute("select count(*) from effective_configuration(%s)", (BOB_ENV,))
    assert cur.fetchone() == (0,)


def _deps(cur: Cur, env: Any) -> dict[tuple[str, str | None], tuple[Any, ...]]:
    cur.execute(
        "select package_name, resolved_version, id, status, kind, xmin::text from dependencies"
        " where project_id = %s and environment_id is not distinct from %s",
        (S, env),
    )
    return {(r[0], r[1]): r[2:] for r in cur.fetchall()}


def test_report_dependencies_replaces_the_set_and_leaves_unchanged_rows(cur: Cur) -> None:
    before = _deps(cur, BOB_ENV)
    report = [
        {
            "package_manager": "npm",
            "package_name": "react",
            "version_constraint": "^18.2.0",
            "resolved_version": "18.2.0",
        },
        {
            "package_manager": "npm",
            "package_name": "lodash",
            "version_constraint": "^4.17.21",
            "resolved_version": "4.17.21",
        },
        {
            "package_manager": "npm",
            "package_name": "lodash",
            "version_constraint": "^4.17.21",
            "resolved_version": "4.17.22",
            "status": "outdated",
        },
        {
            "package_manager": "npm",
            "package_name": "lodash",
            "version_constraint": "^4.17.21",
            "resolved_version": "4.17.22",
        },  # the same version twice: the last one wins
        {"package_manager": "cargo", "package_name": "serde", "resolved_version": "1.0.197"},
    ]
    impersonate(cur, demo.BOB)
    cur.execute("select report_dependencies(%s, %s, %s)", (S, BOB_ENV, json.dumps(report)))
    assert cur.fetchone() == (4,)
    after = _deps(cur, BOB_ENV)
    assert set(after) == {
        ("react", "18.2.0"),
        ("lodash", "4.17.21"),
        ("lodash", "4.17.22"),  # every version a row
        ("serde", "1.0.197"),
    }
    key = ("react", "18.2.0")
    assert after[key] == before[key]  # untouched: same row version (xmin)
    assert ("lodash", "4.17.20") not in after  # a version no longer reported is gone
    assert after[("lodash", "4.17.22")][1:3] == ("healthy", "registry")  # the last one won
    assert after[("serde", "1.0.197")][1] == "healthy"
    cur.execute("select report_dependencies(%s, %s, '[]')", (S, BOB_ENV))
    assert cur.fetchone() == (0,)
    assert _deps(cur, BOB_ENV) == {}
    assert len(_deps(cur, None)) == 8  # the baseline is another scope


def test_environment_from_template(cur: Cur) -> None:
    impersonate(cur, demo.DAVE)
    cur.execute(
        "select id, user_id, template_id from create_environment(%s, 'dave-box', %s)",
        (S, demo.TEMPLATE_NODE_STARTER),
    )
    row = cur.fetchone()
    assert row is not None
    env, owner, template = row
    assert (owner, template) == (demo.DAVE.id, demo.TEMPLATE_NODE_STARTER)
    cur.execute(
        "select key, value, is_secret, type, version from configurations"
        " where environment_id = %s order by key",
        (env,),
    )
    assert cur.fetchall() == [
        (".nvmrc", "20\n", False, "file", 1),
        ("LOG_LEVEL", "debug", False, "env_var", 1),
        ("NODE_ENV", "development", False, "env_var", 1),
        ("PORT", "3000", False, "env_var", 1),
        # STRIPE_SECRET_KEY ({"is_secret": true}, no value) is not copied: storefront's
        # defaults have it, and an empty override would hide it (templates never hold values)
    ]
    cur.execute(
        "select package_name, resolved_version, status from dependencies"
        " where environment_id = %s order by 1",
        (env,),
    )
    assert cur.fetchall() == [
        ("next", "14.1.0", "healthy"),
        ("react", "18.2.0", "healthy"),
        ("typescript", "5.3.3", "healthy"),
    ]


def test_restore_writes_a_historical_secret_as_the_next_version(cur: Cur, su: Conn) -> None:
    cid = config_id(su, S, None, "STRIPE_SECRET_KEY")
    impersonate(cur, demo.ERIN)
    cur.execute(
        "select id from configuration_history where configuration_id = %s and version = 1", (cid,)
    )
    row = cur.fetchone()
    assert row is not None
    cur.execute(
        "select version from restore_configuration(%s, %s)",
        (row[0], demo.STOREFRONT_STRIPE_VERSION),
    )
    assert cur.fetchone() == (demo.STOREFRONT_STRIPE_VERSION + 1,)
    cur.execute("select reveal_secret(%s), reveal_history_secret(%s)", (cid, row[0]))
    now, then = cur.fetchone() or (None, None)
    assert now == then
    assert now is not None


def _health(cur: Cur) -> list[tuple[Any, ...]]:
    cur.execute(
        "select environment_id, metric_type, count(*),"
        " count(*) filter (where value ? 'rollup') from health_checks group by 1, 2"
    )
    return cur.fetchall()


def test_retention_rolls_old_points_into_hourly_averages(cur: Cur) -> None:
    cur.execute(
        "select environment_id, metric_type, date_trunc('hour', recorded_at),"
        " avg((value->>'value')::float8), min((value->>'value')::float8),"
        " max((value->>'value')::float8), count(*)"
        " from health_checks where recorded_at < now() - interval '20 hours' group by 1, 2, 3"
    )
    expected = {(r[0], r[1], r[2]): r[3:] for r in cur.fetchall()}
    cur.execute(
        "select count(*) from health_checks where recorded_at < now() - interval '20 hours'"
    )
    old = cur.fetchone()
    assert old is not None
    cur.execute("select rollup_health_checks('20 hours')")  # no user: every environment
    assert cur.fetchone() == old
    cur.execute(
        "select environment_id, metric_type, recorded_at, value from health_checks"
        " where value ? 'rollup'"
    )
    rolled = {(r[0], r[1], r[2]): r[3] for r in cur.fetchall()}
    assert set(rolled) == set(expected)
    for k, (avg, lo, hi, n) in expected.items():
        v = rolled[k]
        assert (v["n"], v["min"], v["max"], v["rollup"]) == (n, lo, hi, "hour")
        assert v["avg"] == pytest.approx(avg)
        assert v["value"] == pytest.approx(avg)
    cur.execute("select rollup_health_checks('20 hours')")
    assert cur.fetchone() == (0,)
    # a later run whose cut-off falls in an hour already rolled up merges into it
    cur.execute("select sum((value->>'n')::int) from health_checks where value ? 'rollup'")
    n_before = cur.fetchone()
    impersonate(cur, demo.ERIN)
    cur.execute("select rollup_health_checks('19 hours 30 minutes')")
    folded = cur.fetchone()
    assert folded is not None
    assert folded[0] > 0
    cur.execute("reset role")
    cur.execute("select sum((value->>'n')::int) from health_checks where value ? 'rollup'")
    n_after = cur.fetchone()
    assert n_before is not None
    assert n_after is not None
    assert n_after[0] == n_before[0] + folded[0]
    cur.execute(
        "select count(*) from (select 1 from health_checks where value ? 'rollup'"
        " group by environment_id, metric_type, recorded_at having count(*) > 1) d"
    )
    assert cur.fetchone() == (0,)


def test_retention_reads_percent_and_ms_points_too(cur: Cur) -> None:
    cur.execute("delete from health_checks")
    cur.execute(
        "insert into health_checks (environment_id, metric_type, value, recorded_at) values"
        " (%(e)s, 'cpu', '{\"percent\": 10}', '2020-01-01 10:05Z'),"
        " (%(e)s, 'cpu', '{\"percent\": 30}', '2020-01-01 10:35Z'),"
        " (%(e)s, 'ping', '{\"ms\": 4, \"ok\": true}', '2020-01-01 10:10Z'),"
        " (%(e)s, 'disk', '{\"note\": \"no number\"}', '2020-01-01 10:10Z')",
        {"e": BOB_ENV},
    )
    cur.execute("select rollup_health_checks('1 day')")
    assert cur.fetchone() == (4,)
    cur.execute("select metric_type, recorded_at, value from health_checks order by 1")
    rows = cur.fetchall()
    assert [(r[0], r[2]["n"], r[2]["avg"]) for r in rows] == [
        ("cpu", 2, 20.0),
        ("disk", 1, None),
        ("ping", 1, 4.0),
    ]
    assert {r[1] for r in rows} == {datetime(2020, 1, 1, 10, tzinfo=UTC)}


def test_templates_refuse_secret_values(cur: Cur) -> None:
    impersonate(cur, demo.DAVE)
    leaky = json.dumps({"TOKEN": {"value": "demo-leak-not-real", "is_secret": True}})
    with pytest.raises(psycopg.errors.CheckViolation):
        cur.execute(
            "insert into env_templates (project_id, name, config_json, created_by)"
            " values (%s, 'Leaky', %s, %s)",
            (S, leaky, demo.DAVE.id),
        )


def test_dependency_url_credentials_are_never_stored(cur: Cur) -> None:
    """Whatever a client sends (an older CLI, a direct write), the team never reads a token
    of a git/tarball dependency URL (migration 170100; the CLI also cuts them out)."""
    git = "git+https://oauth2:ghp_DBTOKEN@github.com/org/priv.git#v1.0.0"
    tarball = "https://u:TARPASS@files.example.com/tar-1.0.tgz?token=QTOKEN#sha"
    report = [
        {"package_manager": "npm", "package_name": "priv", "version_constraint": git,
         "resolved_version": git},
        {"package_manager": "npm", "package_name": "tar", "version_constraint": tarball,
         "resolved_version": "1.0.0"},
    ]  # fmt: skip
    impersonate(cur, demo.BOB)
    cur.execute("select report_dependencies(%s, %s, %s)", (S, BOB_ENV, json.dumps(report)))
    cur.execute(
        "update public.dependencies set resolved_version = %s"
        " where environment_id = %s and package_name = 'tar'",
        (tarball, BOB_ENV),
    )  # a direct write the policies allow the env owner
    cur.execute(
        "select package_name, version_constraint, resolved_version from public.dependencies"
        " where environment_id = %s order by 1",
        (BOB_ENV,),
    )
    rows = cur.fetchall()
    assert rows == [
        (
            "priv",
            "git+https://github.com/org/priv.git#v1.0.0",
            "git+https://github.com/org/priv.git#v1.0.0",
        ),
        (
            "tar",
            "https://files.example.com/tar-1.0.tgz#sha",
            "https://files.example.com/tar-1.0.tgz#sha",
        ),
    ]
    for secret in ("DBTOKEN", "TARPASS", "QTOKEN"):
        assert secret not in repr(rows)
