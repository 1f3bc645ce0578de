"""Every cell of PERMISSIONS.md, impersonated exactly as PostgREST does, on real Postgres.

One test case per (operation, identity): allowance and denial are both asserted. A second
suite drops each RLS policy in turn and shows its witness operation is then denied, so every
policy has a test that fails without it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.db.helpers import (
    IDENTITIES,
    Conn,
    acting_as,
    config_id,
    impersonate,
    install_machine_tokens,
)
from tests.db.matrix_cells_config_states import CONFIG_STATE_OPS, install_config_states
from tests.db.matrix_cells_data import DATA_OPS
from tests.db.matrix_cells_exec import EXEC_OPS, install_execution_control_rows
from tests.db.matrix_cells_facts import (
    FACTS_OPS,
    RISK_OPS,
    install_accepted_risk,
    install_package_facts,
)
from tests.db.matrix_cells_machine import MACHINE_OPS
from tests.db.matrix_cells_opening import OPENING_OPS
from tests.db.matrix_cells_presence import PRESENCE_OPS
from tests.db.matrix_cells_team import TEAM_OPS
from tests.db.matrix_ops import Ids
from tests.support import demo

pytestmark = pytest.mark.db

OPS = (
    TEAM_OPS
    + DATA_OPS
    + PRESENCE_OPS
    + MACHINE_OPS
    + EXEC_OPS
    + FACTS_OPS
    + RISK_OPS
    + CONFIG_STATE_OPS
    + OPENING_OPS
)
OPS_BY_NAME = {op.name: op for op in OPS}


@pytest.fixture(scope="module")
def ids(su: Conn) -> Ids:
    """Ids of the demo rows the operations aim at (looked up once, as superuser)."""
    s, bob_env = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP

    def history(cfg: Any, version: int) -> int:
        row = su.execute(
            "select id from configuration_history where configuration_id = %s and version = %s",
            (cfg, version),
        ).fetchone()
        assert row is not None
        return int(row[0])

    install_machine_tokens(su)
    install_execution_control_rows(su)
    install_package_facts(su)
    install_accepted_risk(su)
    install_config_states(su)
    found: Ids = {
        "log_level": config_id(su, s, None, "LOG_LEVEL"),
        "feature_flags": config_id(su, s, None, "FEATURE_FLAGS"),
        "stripe_default": config_id(su, s, None, "STRIPE_SECRET_KEY"),
        "stripe_staging": config_id(su, s, demo.ENV_STAGING, "STRIPE_SECRET_KEY"),
        "bob_database_url": config_id(su, s, bob_env, "DATABASE_URL"),
        "bob_debug_port": config_id(su, s, bob_env, "BOB_DEBUG_PORT"),
        "database_url_default": config_id(su, s, None, "DATABASE_URL"),
        "webhook_secret": config_id(su, demo.PROJECT_BILLING, None, "WEBHOOK_SIGNING_SECRET"),
        "path_default": config_id(su, s, None, "PATH"),
        "ld_preload_env": config_id(su, s, bob_env, "LD_PRELOAD"),
    }
    found["log_level_v1"] = history(found["log_level"], 1)
    found["stripe_default_v1"] = history(found["stripe_default"], 1)
    found["bob_database_url_v1"] = history(found["bob_database_url"], 1)
    found["path_default_v1"] = history(found["path_default"], 1)
    # someone to be seen on storefront, for the presence cells
    su.execute(
        "insert into presence (user_id, project_id) values (%s, %s) on conflict do nothing",
        (demo.ALICE.id, s),
    )
    return found


CASES = [
    pytest.param(op.name, who, who in op.allowed, id=f"{op.name}-{who}")
    for op in OPS
    for who in IDENTITIES
]


@pytest.mark.parametrize(("op_name", "who", "expected"), CASES)
def test_cell(su: Conn, ids: Ids, op_name: str, who: str, expected: bool) -> None:
    op = OPS_BY_NAME[op_name]
    user = IDENTITIES[who]
    with acting_as(su, user) as cur:
        got = op.run(cur, user, ids)
    verb = "allowed" if expected else "denied"
    assert got is expected, f"{who} should be {verb}: {op_name}"


def _policies(su: Conn) -> list[tuple[str, str]]:
    rows = su.execute(
        "select tablename, policyname from pg_policies where schemaname = 'public' order by 1, 2"
    ).fetchall()
    return [(str(t), str(p)) for t, p in rows]


def _witnesses() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for op in OPS:
        for policy in op.witness_for:
            out.setdefault(policy, []).append(op.name)
    return out


def test_every_policy_has_a_witness(su: Conn) -> None:
    witnessed = _witnesses()
    missing = [p for _, p in _policies(su) if p not in witnessed]
    assert not missing, f"policies without a witness operation: {missing}"
    assert sorted(witnessed) == sorted(p for _, p in _policies(su))


@pytest.mark.parametrize("policy", sorted(_witnesses()))
def test_policy_removal_is_caught(su: Conn, ids: Ids, policy: str) -> None:
    """With the policy dropped, every allowed identity of its witnesses is denied."""
    table = policy.rsplit("_", 1)[0]
    for op_name in _witnesses()[policy]:
        op = OPS_BY_NAME[op_name]
        who = sorted(op.allowed)[0]
        user = IDENTITIES[who]
        with acting_as(su, user) as cur:
            assert op.run(cur, user, ids), f"{op_name} should be allowed for {who}"
        with su.transaction(force_rollback=True), su.cursor() as cur:
            cur.execute(f'drop policy "{policy}" on public."{table}"')
            impersonate(cur, user)
            assert not op.run(cur, user, ids), f"{op_name} still allowed without {policy}"


def test_rls_enabled_on_every_table(su: Conn) -> None:
    rows = su.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity"
    ).fetchall()
    assert rows == []


#: What anon may run: the machine RPCs (a machine is anon plus its token header) and their
#: private bodies. Nothing else, and no table.
MACHINE_RPCS = [
    "machine_config_fingerprint()",
    "machine_config_key_versions(jsonb)",
    "machine_dependencies()",
    "machine_effective_configuration()",
    "machine_report_dependencies(jsonb)",
    "machine_report_health(jsonb)",
    "machine_report_config_states(jsonb)",
    "machine_report_package_facts(jsonb)",
    "machine_required_keys()",
    "machine_reveal_secret(uuid)",
    "machine_set_status(text,timestamp with time zone)",
    "machine_whoami()",
]


def test_anon_may_run_only_the_machine_rpcs(su: Conn) -> None:
    tables = su.execute(
        "select table_name, privilege_type from information_schema.role_table_grants"
        " where grantee in ('anon', 'PUBLIC') and table_schema in ('public', 'private', 'auth')"
    ).fetchall()
    assert tables == []
    columns = su.execute(
        "select table_name, column_name from information_schema.column_privileges"
        " where grantee in ('anon', 'PUBLIC') and table_schema in ('public', 'private', 'auth')"
    ).fetchall()
    assert columns == []
    funcs = su.execute(
        "select p.oid::regprocedure::text from pg_proc p"
        " join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname in ('public', 'private')"
        " and has_function_privilege('anon', p.oid, 'execute') order by 1"
    ).fetchall()
    # regprocedure names public functions without their schema (it is on the search path)
    expected = sorted([f"private.{fn}" for fn in MACHINE_RPCS] + MACHINE_RPCS)
    assert sorted(str(f[0]) for f in funcs) == expected
    # and signed-in users may not run them: a machine is never a person
    for name in expected:
        row = su.execute(
            "select has_function_privilege('authenticated', %s::regprocedure, 'execute')",
            (name,),
        ).fetchone()
        assert row == (False,), name


def test_internal_writers_are_not_callable_by_users(su: Conn) -> None:
    for fn in (
        "private.write_configuration(uuid, uuid, text, text, boolean, text, integer)",
        "private.store_dependencies(uuid, uuid, jsonb)",
        "private.store_package_facts(uuid, jsonb)",
        "private.audit(uuid, text, text, text, uuid, uuid, jsonb)",
        "private.store_health(uuid, jsonb)",
        "private.store_config_states(uuid, jsonb)",
        "private.secret_value_audited(public.configurations, jsonb)",
        "private.machine_token()",
    ):
        row = su.execute(
            "select has_function_privilege('authenticated', %s, 'execute')", (fn,)
        ).fetchone()
        assert row == (False,), fn


def test_no_write_grant_on_rpc_only_tables(su: Conn) -> None:
    rows = su.execute(
        "select table_name, privilege_type from information_schema.role_table_grants"
        " where grantee = 'authenticated' and table_schema = 'public'"
        " and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')"
        " and table_name in ('configurations', 'configuration_secrets', 'configuration_history',"
        " 'configuration_history_secrets', 'audit_log', 'team_members', 'machine_tokens',"
        " 'accepted_risks', 'package_advisories', 'package_advisory_checks',"
        " 'package_freshness', 'health_rollup')"
    ).fetchall()
    assert rows == []
    secret_reads = su.execute(
        "select table_name from information_schema.role_table_grants"
        " where grantee in ('authenticated', 'service_role') and table_name in"
        " ('configuration_secrets', 'configuration_history_secrets')"
    ).fetchall()
    assert secret_reads == []


def test_every_definer_function_pins_search_path_and_is_commented(su: Conn) -> None:
    rows = su.execute(
        "select p.oid::regprocedure::text, p.proconfig, obj_description(p.oid, 'pg_proc')"
        " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname in ('public', 'private') and p.prosecdef"
    ).fetchall()
    assert rows
    unpinned = [r[0] for r in rows if 'search_path=""' not in (r[1] or [])]
    assert unpinned == []
    public_definers = [r[0] for r in rows if not str(r[0]).startswith("private.")]
    assert public_definers == []
    uncommented = [r[0] for r in rows if "PERMISSIONS.md" not in (r[2] or "")]
    assert uncommented == []


def test_every_policy_is_for_authenticated_and_names_its_rule(su: Conn) -> None:
    rows = su.execute(
        "select p.tablename, p.policyname, p.roles::text[], p.qual, p.with_check,"
        " obj_description(pol.oid, 'pg_policy')"
        " from pg_policies p join pg_policy pol on pol.polname = p.policyname"
        " and pol.polrelid = ('public.' || quote_ident(p.tablename))::regclass"
        " where p.schemaname = 'public'"
    ).fetchall()
    assert rows
    for table, name, roles, qual, check, comment in rows:
        assert roles == ["authenticated"], name
        assert "PERMISSIONS.md" in (comment or ""), name
        for expr in (qual, check):
            # auth.uid() only ever inside a sub-select, so it is evaluated once per statement
            if expr and "auth.uid()" in expr:
                assert "SELECT auth.uid() AS uid" in expr, (table, name, expr)


# (table, column) pairs that policies or their helper functions filter on
POLICY_COLUMNS = [
    ("team_members", "user_id"),
    ("team_members", "team_id"),
    ("teams", "owner_id"),
    ("projects", "team_id"),
    ("env_templates", "project_id"),
    ("env_templates", "created_by"),
    ("environments", "project_id"),
    ("environments", "user_id"),
    ("configurations", "project_id"),
    ("configuration_history", "project_id"),
    ("audit_log", "team_id"),
    ("dependencies", "project_id"),
    ("dependencies", "environment_id"),
    ("health_checks", "environment_id"),
    ("health_rollup", "environment_id"),
    ("presence", "project_id"),
    ("presence", "user_id"),
    ("machine_tokens", "project_id"),
    ("machine_tokens", "environment_id"),
    ("accepted_risks", "project_id"),
    ("machine_config_states", "project_id"),
    ("machine_config_states", "environment_id"),
]


@pytest.mark.parametrize(("table", "column"), POLICY_COLUMNS)
def test_policy_columns_lead_an_index(su: Conn, table: str, column: str) -> None:
    row = su.execute(
        "select count(*) from pg_index i join pg_attribute a on a.attrelid = i.indrelid"
        " and a.attnum = i.indkey[0] where i.indrelid = ('public.' || %s)::regclass"
        " and a.attname = %s",
        (table, column),
    ).fetchone()
    assert row is not None
    assert row[0] >= 1, f"no index starts with {table}.{column}"
