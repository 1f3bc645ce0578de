"""Cells for machine config states (migration 20261205130000_machine_config_states): what a
machine reports it runs, per key, as a state and version numbers (never a value).

PERMISSIONS.md "machine config states": members read; admins, the environment's owner and that
environment's machine write (through the RPCs only); admins and the env owner delete. The
matrix's ``ids`` fixture stores two states for bob's laptop (:func:`install_config_states`).
See tests/db/matrix_ops.py for the conventions.
"""

from __future__ import annotations

import json

from tests.db.helpers import ADMINS, MEMBERS, VALID_MACHINES, Conn, Cur
from tests.db.matrix_ops import BOB_ENV, ENV_WRITERS, NOBODY, Op, S, q
from tests.support import demo

STAGING = demo.ENV_STAGING


def install_config_states(conn: Conn) -> None:
    """Two states of bob's laptop (as superuser). Idempotent."""
    conn.execute(
        "insert into machine_config_states (environment_id, project_id, key, state,"
        " synced_version, behind_version) values"
        " (%s, %s, 'LOG_LEVEL', 'behind', 2, 1), (%s, %s, 'LOCAL_ONLY', 'only_local', null, null)"
        " on conflict do nothing",
        (BOB_ENV, S, BOB_ENV, S),
    )


def states(key: str = "LOG_LEVEL", state: str = "differs") -> str:
    return json.dumps([{"key": key, "state": state, "synced_version": 1}])


def _machine_report_lands_in(cur: Cur, env: object) -> bool:
    """The machine's report is stored under its own environment (read back as superuser)."""
    if not q(cur, "select n from machine_report_config_states(%s) n", (states("M_KEY"),)):
        return False
    cur.execute("reset role")
    return q(
        cur,
        "select 1 from machine_config_states where environment_id = %s and key = 'M_KEY'",
        (env,),
    )


CONFIG_STATE_OPS: list[Op] = [
    Op(
        "config_states.select",
        MEMBERS,
        lambda c, u, i: q(
            c, "select key from machine_config_states where environment_id = %s", (BOB_ENV,)
        ),
        ("machine_config_states_select",),
    ),
    Op(
        "config_states.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into machine_config_states (environment_id, project_id, key, state)"
            " values (%s, %s, 'DIRECT', 'in_sync') returning key",
            (BOB_ENV, S),
        ),
    ),
    Op(
        "config_states.update_direct",
        NOBODY,
        lambda c, u, i: q(c, "update machine_config_states set state = 'in_sync' returning key"),
    ),
    Op(
        "config_states.delete_own_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "delete from machine_config_states where environment_id = %s returning key",
            (BOB_ENV,),
        ),
        ("machine_config_states_delete",),
    ),
    Op(
        "config_states.rpc_report_own_env",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "select n from report_config_states(%s, %s) n where n = 1", (BOB_ENV, states())
        ),
    ),
    Op(
        "config_states.rpc_report_other_env",  # staging is erin's (an admin)
        ADMINS,
        lambda c, u, i: q(
            c, "select n from report_config_states(%s, %s) n where n = 1", (STAGING, states())
        ),
    ),
    Op(
        "config_states.rpc_key_versions",
        MEMBERS,
        lambda c, u, i: q(
            c,
            'select version from config_key_versions(%s, \'["LOG_LEVEL", "DATABASE_URL"]\')',
            (BOB_ENV,),
        ),
    ),
    Op(
        "config_states.rpc_key_versions_secret_value",
        NOBODY,
        lambda c, u, i: q(
            c,
            'select 1 from config_key_versions(%s, \'["DATABASE_URL", "STRIPE_SECRET_KEY"]\')'
            " where value is not null",
            (BOB_ENV,),
        ),
    ),
    Op(
        "machine.report_config_states",
        VALID_MACHINES,
        lambda c, u, i: q(
            c, "select n from machine_report_config_states(%s) n where n = 1", (states(),)
        ),
    ),
    Op(
        "machine.report_config_states_of_bob_laptop",
        frozenset({"machine"}),
        lambda c, u, i: _machine_report_lands_in(c, BOB_ENV),
    ),
    Op(
        "machine.report_config_states_of_staging",
        frozenset({"machine_other_env"}),
        lambda c, u, i: _machine_report_lands_in(c, STAGING),
    ),
    Op(
        "machine.config_key_versions",
        VALID_MACHINES,
        lambda c, u, i: q(c, "select version from machine_config_key_versions('[\"LOG_LEVEL\"]')"),
    ),
    Op(
        "machine.config_key_versions_secret_value",
        NOBODY,
        lambda c, u, i: q(
            c,
            'select 1 from machine_config_key_versions(\'["DATABASE_URL", "STRIPE_SECRET_KEY"]\')'
            " where value is not null",
        ),
    ),
]
