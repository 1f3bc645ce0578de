"""Cells of PERMISSIONS.md for the data tables: configurations and their secrets, history,
audit log, dependencies, health_checks (see tests/db/matrix_ops.py for the conventions)."""

from __future__ import annotations

from tests.db.helpers import ADMINS, MEMBERS, WRITERS
from tests.db.matrix_ops import (
    ACME,
    BOB_ENV,
    ENV_WRITERS,
    NOBODY,
    Op,
    S,
    dep_report,
    health_report,
    q,
)
from tests.support import demo

DATA_OPS: list[Op] = [
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
    # whether two values are equal (Compare): for whoever may reveal both; no value returned
    Op(
        "secrets.equal_env_and_default",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "select secrets_equal(%s, %s)", (i["bob_database_url"], i["stripe_default"])
        ),
    ),
    Op(
        "secrets.equal_other_env",
        ADMINS,  # staging belongs to erin
        lambda c, u, i: q(
            c, "select secrets_equal(%s, %s)", (i["bob_database_url"], i["stripe_staging"])
        ),
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
        "dependency_page.rows",
        MEMBERS,
        lambda c, u, i: q(c, "select id from dependency_page(%s, 'npm')", (S,)),
        # Security definer: it applies dependencies_select's condition itself (migration
        # 20261205171000), so dropping the policy does not deny it.
        (),
    ),
    Op(
        "dependency_page_next.rows",
        MEMBERS,
        lambda c, u, i: q(c, "select id from dependency_page_next(%s)", (S,)),
        # Security definer like dependency_page (migration 20261207060000).
        (),
    ),
    Op(
        "dependency_summary.row",
        MEMBERS,
        lambda c, u, i: q(c, "select packages from dependency_summary(%s, '{}')", (S,)),
        # Security definer, applying dependencies_select's condition itself, like
        # dependency_page (migration 20261206210000).
        (),
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
        lambda c, u, i: q(
            c, "select report_dependencies(%s, null, %s)", (S, dep_report("only-pkg"))
        ),
    ),
    Op(
        "dependencies.rpc_report_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "select report_dependencies(%s, %s, %s)", (S, BOB_ENV, dep_report("only-pkg"))
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
            c, "select n from report_health(%s, %s) n where n = 1", (BOB_ENV, health_report())
        ),
    ),
    # health_rollup (the triggers' 12-minute sums of health_checks): read as the points
    Op(
        "health_rollup.select",
        MEMBERS,
        lambda c, u, i: q(
            c, "select n from health_rollup where environment_id = %s limit 1", (BOB_ENV,)
        ),
        ("health_rollup_select",),
    ),
    Op(
        "health_rollup.write_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update health_rollup set n = n + 1 where environment_id = %s returning n",
            (BOB_ENV,),
        ),
    ),
    Op(
        "health_checks.rpc_sparklines",
        MEMBERS,
        lambda c, u, i: q(
            c,
            "select counts from health_sparklines(array[%s]::uuid[], now() - interval '2 days', 4)",
            (BOB_ENV,),
        ),
    ),
    Op(
        "health_checks.rpc_rollup",
        ADMINS,
        lambda c, u, i: q(c, "select n from rollup_health_checks('1 hour') n where n > 0"),
    ),
]
