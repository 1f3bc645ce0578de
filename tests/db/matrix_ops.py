"""The cells of PERMISSIONS.md as operations: each one tries one action on one table (or the
RPC that is the only road for it) and says whether it went through.

An operation returns True when the action took effect (rows visible / affected / RPC returned)
and False when it was denied: SQLSTATE 42501 or zero rows. Any other error is a bug and
propagates. ``allowed`` lists the identities (helpers.IDENTITIES) PERMISSIONS.md allows.
``witness_for`` names the RLS policies whose removal must turn this allowance into a denial.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tests.db.helpers import ADMINS, MEMBERS, SIGNED_IN, WRITERS, Cur, try_sql
from tests.support import demo

S = demo.PROJECT_STOREFRONT
BILL = demo.PROJECT_BILLING
ACME = demo.TEAM_ACME
BOB_ENV = demo.ENV_BOB_LAPTOP
NOBODY: frozenset[str] = frozenset()
ENV_WRITERS = ADMINS | {"env_owner"}

User = demo.DemoUser | None
Ids = dict[str, Any]


@dataclass(frozen=True)
class Op:
    name: str
    allowed: frozenset[str]
    run: Callable[[Cur, User, Ids], bool]
    witness_for: tuple[str, ...] = ()


def q(cur: Cur, query: str, params: Any = None) -> bool:
    """True when ``query`` returned at least one row; False when it raised 42501 or no rows."""
    rows = try_sql(cur, query, params)
    return bool(rows)


def me(user: User) -> UUID | None:
    return None if user is None else user.id


def other_than(user: User, first: demo.DemoUser, second: demo.DemoUser) -> UUID:
    return second.id if user is first else first.id


def _dep(name: str) -> str:
    return json.dumps(
        [
            {
                "package_manager": "npm",
                "package_name": name,
                "version_constraint": "^1.0.0",
                "resolved_version": "1.0.1",
            }
        ]
    )


def _point() -> str:
    return json.dumps(
        [
            {
                "metric_type": "cpu",
                "value": {"value": 12.5, "unit": "%"},
                "recorded_at": "2099-01-01T00:00:00Z",
            }
        ]
    )


OPS: list[Op] = [
    # profiles
    Op(
        "profiles.select",
        SIGNED_IN,
        lambda c, u, i: q(c, "select id from profiles where id = %s", (demo.ALICE.id,)),
        ("profiles_select",),
    ),
    Op(
        "profiles.update_own",
        SIGNED_IN,
        lambda c, u, i: q(
            c,
            "update profiles set full_name = 'Renamed' where id = %s returning id",
            (me(u) or demo.ALICE.id,),
        ),
        ("profiles_update",),
    ),
    Op(
        "profiles.update_other",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update profiles set full_name = 'X' where id = %s returning id",
            (other_than(u, demo.ALICE, demo.BOB),),
        ),
    ),
    Op(
        "profiles.insert",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into profiles (id, username) values (%s, 'intruder') returning id",
            (demo.MALLORY.id,),
        ),
    ),
    Op(
        "profiles.delete_own",
        NOBODY,
        lambda c, u, i: q(
            c, "delete from profiles where id = %s returning id", (me(u) or demo.ALICE.id,)
        ),
    ),
    # teams
    Op(
        "teams.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from teams where id = %s", (ACME,)),
        ("teams_select",),
    ),
    Op(
        "teams.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into teams (name, slug, owner_id) values ('X', 'x-direct', %s) returning id",
            (me(u) or demo.ALICE.id,),
        ),
    ),
    Op(
        "teams.create_rpc",
        SIGNED_IN,
        lambda c, u, i: q(c, "select id from create_team('New Team', 'new-team')"),
    ),
    Op(
        "teams.update",
        ADMINS,
        lambda c, u, i: q(
            c, "update teams set name = 'Acme Inc' where id = %s returning id", (ACME,)
        ),
        ("teams_update",),
    ),
    Op(
        "teams.delete",
        frozenset({"owner"}),
        lambda c, u, i: q(c, "delete from teams where id = %s returning id", (ACME,)),
        ("teams_delete",),
    ),
    # team_members: reads by policy, writes only through the RPCs
    Op(
        "team_members.select",
        MEMBERS,
        lambda c, u, i: q(c, "select user_id from team_members where team_id = %s", (ACME,)),
        ("team_members_select",),
    ),
    Op(
        "team_members.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into team_members (team_id, user_id, role)"
            " values (%s, %s, 'member') returning user_id",
            (ACME, demo.MALLORY.id),
        ),
    ),
    Op(
        "team_members.update_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update team_members set role = 'admin' where team_id = %s"
            " and user_id = %s returning user_id",
            (ACME, demo.DAVE.id),
        ),
    ),
    Op(
        "team_members.delete_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "delete from team_members where team_id = %s and user_id = %s returning user_id",
            (ACME, demo.DAVE.id),
        ),
    ),
    Op(
        "team_members.add_rpc",
        ADMINS,
        lambda c, u, i: q(
            c, "select user_id from add_team_member(%s, 'mallory', 'member')", (ACME,)
        ),
    ),
    Op(
        "team_members.set_role_rpc",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select user_id from set_member_role(%s, %s, 'viewer')",
            (ACME, other_than(u, demo.DAVE, demo.BOB)),
        ),
    ),
    Op(
        "team_members.remove_other_rpc",
        ADMINS,
        lambda c, u, i: q(
            c, "select remove_team_member(%s, %s)", (ACME, other_than(u, demo.CAROL, demo.DAVE))
        ),
    ),
    Op(
        "team_members.leave_rpc",
        MEMBERS - {"owner"},
        lambda c, u, i: q(c, "select remove_team_member(%s, %s)", (ACME, me(u))),
    ),
    # projects
    Op(
        "projects.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from projects where id = %s", (S,)),
        ("projects_select",),
    ),
    Op(
        "projects.insert",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into projects (team_id, name) values (%s, 'new-project') returning id",
            (ACME,),
        ),
        ("projects_insert",),
    ),
    Op(
        "projects.update",
        WRITERS,
        lambda c, u, i: q(
            c, "update projects set description = 'x' where id = %s returning id", (S,)
        ),
        ("projects_update",),
    ),
    Op(
        "projects.delete",
        ADMINS,
        lambda c, u, i: q(c, "delete from projects where id = %s returning id", (BILL,)),
        ("projects_delete",),
    ),
    # env_templates
    Op(
        "env_templates.select_team",
        MEMBERS,
        lambda c, u, i: q(
            c, "select id from env_templates where id = %s", (demo.TEMPLATE_NODE_STARTER,)
        ),
        ("env_templates_select",),
    ),
    Op(
        "env_templates.select_public",
        SIGNED_IN,
        lambda c, u, i: q(
            c, "select id from env_templates where id = %s", (demo.TEMPLATE_PYTHON_DATA_SCIENCE,)
        ),
        ("env_templates_select",),
    ),
    Op(
        "env_templates.insert",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into env_templates (project_id, name, created_by)"
            " values (%s, 'T', %s) returning id",
            (S, me(u)),
        ),
        ("env_templates_insert",),
    ),
    Op(
        "env_templates.update",
        WRITERS,
        lambda c, u, i: q(
            c,
            "update env_templates set name = 'Renamed' where id = %s returning id",
            (demo.TEMPLATE_NODE_STARTER,),
        ),
        ("env_templates_update",),
    ),
    Op(
        "env_templates.delete_own",
        ADMINS | {"env_owner"},  # bob created Node.js Starter
        lambda c, u, i: q(
            c, "delete from env_templates where id = %s returning id", (demo.TEMPLATE_NODE_STARTER,)
        ),
        ("env_templates_delete",),
    ),
    Op(
        "env_templates.delete_other",
        ADMINS,  # alice created Storefront CI
        lambda c, u, i: q(
            c,
            "delete from env_templates where id = %s returning id",
            (demo.TEMPLATE_STOREFRONT_CI,),
        ),
    ),
    # environments
    Op(
        "environments.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from environments where id = %s", (BOB_ENV,)),
        ("environments_select",),
    ),
    Op(
        "environments.insert_own",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into environments (project_id, user_id, name)"
            " values (%s, %s, 'new-env') returning id",
            (S, me(u) or demo.ALICE.id),
        ),
        ("environments_insert",),
    ),
    Op(
        "environments.insert_for_other",
        ADMINS,
        lambda c, u, i: q(
            c,
            "insert into environments (project_id, user_id, name)"
            " values (%s, %s, 'their-env') returning id",
            (S, other_than(u, demo.CAROL, demo.DAVE)),
        ),
    ),
    Op(
        "environments.create_rpc",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from create_environment(%s, 'from-template', %s)",
            (S, demo.TEMPLATE_NODE_STARTER),
        ),
    ),
    Op(
        "environments.update",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "update environments set status = 'error' where id = %s returning id", (BOB_ENV,)
        ),
        ("environments_update",),
    ),
    Op(
        "environments.delete",
        ENV_WRITERS,
        lambda c, u, i: q(c, "delete from environments where id = %s returning id", (BOB_ENV,)),
        ("environments_delete",),
    ),
]

OPS += [
    # configurations: reads by policy, writes only through the RPCs
    Op(
        "configurations.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from configurations where project_id = %s", (S,)),
        ("configurations_select",),
    ),
    Op(
        "configurations.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into configurations (project_id, key, value)"
            " values (%s, 'DIRECT', 'x') returning id",
            (S,),
        ),
    ),
    Op(
        "configurations.update_direct",
        NOBODY,
        lambda c, u, i: q(
            c, "update configurations set value = 'x' where id = %s returning id", (i["log_level"],)
        ),
    ),
    Op(
        "configurations.delete_direct",
        NOBODY,
        lambda c, u, i: q(
            c, "delete from configurations where id = %s returning id", (i["log_level"],)
        ),
    ),
    Op(
        "configurations.rpc_create_default",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'NEW_KEY', 'v', false, 'env_var', null)",
            (S,),
        ),
    ),
    Op(
        "configurations.rpc_update_default",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'LOG_LEVEL', 'error',"
            " false, 'env_var', %s)",
            (S, demo.STOREFRONT_LOG_LEVEL_VERSION),
        ),
    ),
    Op(
        "configurations.rpc_delete_default",
        WRITERS,
        lambda c, u, i: q(c, "select delete_configuration(%s, 1)", (i["feature_flags"],)),
    ),
    Op(
        "configurations.rpc_restore_default",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from restore_configuration(%s, %s)",
            (i["log_level_v1"], demo.STOREFRONT_LOG_LEVEL_VERSION),
        ),
    ),
    Op(
        "configurations.rpc_create_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'NEW_KEY', 'v', false, 'env_var', null)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "configurations.rpc_update_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'LOG_LEVEL', 'trace', false, 'env_var', 1)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "configurations.rpc_delete_env",
        ENV_WRITERS,
        lambda c, u, i: q(c, "select delete_configuration(%s, 1)", (i["bob_debug_port"],)),
    ),
    Op(
        "configurations.effective",
        MEMBERS,
        lambda c, u, i: q(c, "select key from effective_configuration(%s)", (BOB_ENV,)),
    ),
    # secret values: only through reveal_secret / reveal_history_secret
    Op(
        "secrets.reveal_env",
        ENV_WRITERS,
        lambda c, u, i: q(c, "select reveal_secret(%s)", (i["bob_database_url"],)),
    ),
    Op(
        "secrets.reveal_default",
        ENV_WRITERS,  # bob owns an environment of storefront
        lambda c, u, i: q(c, "select reveal_secret(%s)", (i["stripe_default"],)),
    ),
    Op(
        "secrets.reveal_other_env",
        ADMINS,  # staging belongs to erin
        lambda c, u, i: q(c, "select reveal_secret(%s)", (i["stripe_staging"],)),
    ),
    Op(
        "secrets.reveal_history_default",
        ENV_WRITERS,
        lambda c, u, i: q(c, "select reveal_history_secret(%s)", (i["stripe_default_v1"],)),
    ),
    Op(
        "secrets.reveal_history_env",
        ENV_WRITERS,
        lambda c, u, i: q(c, "select reveal_history_secret(%s)", (i["bob_database_url_v1"],)),
    ),
    Op(
        "configuration_secrets.select",
        NOBODY,
        lambda c, u, i: q(c, "select value from configuration_secrets"),
    ),
    Op(
        "configuration_secrets.insert",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into configuration_secrets (configuration_id, value)"
            " values (%s, 'x') returning 1",
            (i["log_level"],),
        ),
    ),
    Op(
        "configuration_secrets.update",
        NOBODY,
        lambda c, u, i: q(c, "update configuration_secrets set value = 'x' returning 1"),
    ),
    Op(
        "configuration_secrets.delete",
        NOBODY,
        lambda c, u, i: q(c, "delete from configuration_secrets returning 1"),
    ),
    Op(
        "configuration_history_secrets.select",
        NOBODY,
        lambda c, u, i: q(c, "select value from configuration_history_secrets"),
    ),
    Op(
        "configuration_history_secrets.update",
        NOBODY,
        lambda c, u, i: q(c, "update configuration_history_secrets set value = 'x' returning 1"),
    ),
    # configuration history: read by members, written by the database only
    Op(
        "configuration_history.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from configuration_history where project_id = %s", (S,)),
        ("configuration_history_select",),
    ),
    Op(
        "configuration_history.insert",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into configuration_history (configuration_id, project_id,"
            " key, type, is_secret, version, value, op)"
            " values (%s, %s, 'K', 'env_var', false, 9, 'x', 'update') returning id",
            (i["log_level"], S),
        ),
    ),
    Op(
        "configuration_history.update",
        NOBODY,
        lambda c, u, i: q(c, "update configuration_history set value = 'x' returning id"),
    ),
    Op(
        "configuration_history.delete",
        NOBODY,
        lambda c, u, i: q(c, "delete from configuration_history returning id"),
    ),
    # audit log: read by admins, written by the database only
    Op(
        "audit_log.select",
        ADMINS,
        lambda c, u, i: q(c, "select id from audit_log where team_id = %s", (ACME,)),
        ("audit_log_select",),
    ),
    Op(
        "audit_log.insert",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into audit_log (team_id, action, target_type)"
            " values (%s, 'config.update', 'x') returning id",
            (ACME,),
        ),
    ),
    Op(
        "audit_log.update",
        NOBODY,
        lambda c, u, i: q(c, "update audit_log set details = '{}' returning id"),
    ),
    Op("audit_log.delete", NOBODY, lambda c, u, i: q(c, "delete from audit_log returning id")),
    # dependencies
    Op(
        "dependencies.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from dependencies where project_id = %s", (S,)),
        ("dependencies_select",),
    ),
    Op(
        "dependencies.insert_baseline",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into dependencies (project_id, package_manager, package_name)"
            " values (%s, 'npm', 'new-pkg') returning id",
            (S,),
        ),
        ("dependencies_insert",),
    ),
    Op(
        "dependencies.update_baseline",
        WRITERS,
        lambda c, u, i: q(
            c,
            "update dependencies set status = 'outdated' where project_id = %s"
            " and environment_id is null and package_name = 'react' returning id",
            (S,),
        ),
        ("dependencies_update",),
    ),
    Op(
        "dependencies.delete_baseline",
        WRITERS,
        lambda c, u, i: q(
            c,
            "delete from dependencies where project_id = %s"
            " and environment_id is null and package_name = 'react' returning id",
            (S,),
        ),
        ("dependencies_delete",),
    ),
    Op(
        "dependencies.insert_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "insert into dependencies (project_id, environment_id,"
            " package_manager, package_name) values (%s, %s, 'npm', 'new-pkg')"
            " returning id",
            (S, BOB_ENV),
        ),
        ("dependencies_insert",),
    ),
    Op(
        "dependencies.update_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "update dependencies set status = 'healthy' where environment_id = %s"
            " and package_name = 'lodash' returning id",
            (BOB_ENV,),
        ),
        ("dependencies_update",),
    ),
    Op(
        "dependencies.delete_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "delete from dependencies where environment_id = %s"
            " and package_name = 'lodash' returning id",
            (BOB_ENV,),
        ),
        ("dependencies_delete",),
    ),
    Op(
        "dependencies.rpc_report_baseline",
        WRITERS,
        lambda c, u, i: q(c, "select report_dependencies(%s, null, %s)", (S, _dep("only-pkg"))),
    ),
    Op(
        "dependencies.rpc_report_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "select report_dependencies(%s, %s, %s)", (S, BOB_ENV, _dep("only-pkg"))
        ),
    ),
    # health_checks
    Op(
        "health_checks.select",
        MEMBERS,
        lambda c, u, i: q(
            c, "select id from health_checks where environment_id = %s limit 1", (BOB_ENV,)
        ),
        ("health_checks_select",),
    ),
    Op(
        "health_checks.insert",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "insert into health_checks (environment_id, metric_type, value,"
            " recorded_at) values (%s, 'cpu', '{\"value\": 1}',"
            " '2099-01-01T00:00:00Z') returning id",
            (BOB_ENV,),
        ),
        ("health_checks_insert",),
    ),
    Op(
        "health_checks.update",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update health_checks set value = '{}' where environment_id = %s returning id",
            (BOB_ENV,),
        ),
    ),
    Op(
        "health_checks.delete",
        ADMINS,
        lambda c, u, i: q(
            c, "delete from health_checks where environment_id = %s returning id", (BOB_ENV,)
        ),
        ("health_checks_delete",),
    ),
    Op(
        "health_checks.rpc_report",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "select n from report_health(%s, %s) n where n = 1", (BOB_ENV, _point())
        ),
    ),
    Op(
        "health_checks.rpc_rollup",
        ADMINS,
        lambda c, u, i: q(c, "select n from rollup_health_checks('1 hour') n where n > 0"),
    ),
]

OPS_BY_NAME = {op.name: op for op in OPS}
