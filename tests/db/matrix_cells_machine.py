"""Cells of PERMISSIONS.md for machines: the machine_tokens table and its RPCs, and the
machine RPCs (migrations 20261205100000_machine_tokens, 20261205100100_machine_rpcs) against
every identity. See tests/db/matrix_ops.py for the conventions.

The ``machine*`` identities are tokens stored by ``helpers.install_machine_tokens``: bob's
laptop (valid, expired, revoked) and staging (valid). Demo facts the cells rely on: bob-laptop
overrides the storefront default DATABASE_URL and inherits STRIPE_SECRET_KEY; staging
overrides STRIPE_SECRET_KEY and inherits DATABASE_URL.
"""

from __future__ import annotations

from tests.db.helpers import ADMINS, MACHINE, MACHINE_BY_ALICE, VALID_MACHINES
from tests.db.matrix_ops import BOB_ENV, ENV_WRITERS, NOBODY, Op, S, dep_report, health_report, q
from tests.support import demo

STAGING = demo.ENV_STAGING
TOKEN_READERS = ADMINS | {"env_owner"}

MACHINE_OPS: list[Op] = [
    # machine_tokens: read by policy (never the hash), written only through the RPCs
    Op(
        "machine_tokens.select_own_env",
        TOKEN_READERS,
        lambda c, u, i: q(c, "select id from machine_tokens where environment_id = %s", (BOB_ENV,)),
        ("machine_tokens_select",),
    ),
    Op(
        "machine_tokens.select_other_env",
        ADMINS,
        lambda c, u, i: q(c, "select id from machine_tokens where environment_id = %s", (STAGING,)),
        ("machine_tokens_select",),
    ),
    Op(
        "machine_tokens.select_hash",
        NOBODY,
        lambda c, u, i: q(c, "select token_hash from machine_tokens"),
    ),
    Op(
        "machine_tokens.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into machine_tokens (project_id, environment_id, name, token_hash)"
            " values (%s, %s, 'direct', sha256('x')) returning id",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "machine_tokens.update_direct",
        NOBODY,
        lambda c, u, i: q(
            c, "update machine_tokens set revoked_at = null, expires_at = null returning id"
        ),
    ),
    Op(
        "machine_tokens.delete_direct",
        NOBODY,
        lambda c, u, i: q(c, "delete from machine_tokens returning id"),
    ),
    Op(
        "machine_tokens.rpc_create_own_env",
        ENV_WRITERS,
        lambda c, u, i: q(c, "select token from create_machine_token(%s, 'ci', null)", (BOB_ENV,)),
    ),
    Op(
        "machine_tokens.rpc_create_other_env",
        ADMINS,
        lambda c, u, i: q(c, "select token from create_machine_token(%s, 'ci', null)", (STAGING,)),
    ),
    Op(
        "machine_tokens.rpc_list",
        TOKEN_READERS,
        lambda c, u, i: q(c, "select id from list_machine_tokens(%s)", (S,)),
    ),
    Op(
        "machine_tokens.rpc_revoke_own",  # bob created it
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "select revoked_at from revoke_machine_token(%s)", (MACHINE.token_id,)
        ),
    ),
    Op(
        "machine_tokens.rpc_revoke_other_creator",  # alice created it for bob's laptop
        ADMINS,
        lambda c, u, i: q(
            c, "select revoked_at from revoke_machine_token(%s)", (MACHINE_BY_ALICE.token_id,)
        ),
    ),
    # the machine RPCs: the environment is the token's, never an argument
    Op("machine.whoami", VALID_MACHINES, lambda c, u, i: q(c, "select * from machine_whoami()")),
    Op(
        "machine.whoami_is_bob_laptop",
        frozenset({"machine"}),
        lambda c, u, i: q(
            c,
            "select 1 from machine_whoami() where (environment ->> 'id')::uuid = %s",
            (BOB_ENV,),
        ),
    ),
    Op(
        "machine.effective_bob_laptop",
        frozenset({"machine"}),
        lambda c, u, i: q(
            c,
            "select key from machine_effective_configuration() where environment_id = %s",
            (BOB_ENV,),
        ),
    ),
    Op(
        "machine.effective_staging",
        frozenset({"machine_other_env"}),
        lambda c, u, i: q(
            c,
            "select key from machine_effective_configuration() where environment_id = %s",
            (STAGING,),
        ),
    ),
    Op(
        "machine.fingerprint",
        VALID_MACHINES,
        lambda c, u, i: q(c, "select f from machine_config_fingerprint() f where f is not null"),
    ),
    Op(
        # migration 20261205140100: its own template's required keys (none in the seed: the
        # count row says the call went through)
        "machine.required_keys",
        VALID_MACHINES,
        lambda c, u, i: q(c, "select count(*) from machine_required_keys()"),
    ),
    Op(
        "machine.reveal_env",
        frozenset({"machine"}),
        lambda c, u, i: q(c, "select machine_reveal_secret(%s)", (i["bob_database_url"],)),
    ),
    Op(
        "machine.reveal_inherited_default",
        frozenset({"machine"}),
        lambda c, u, i: q(c, "select machine_reveal_secret(%s)", (i["stripe_default"],)),
    ),
    Op(
        "machine.reveal_overridden_default",
        frozenset({"machine_other_env"}),
        lambda c, u, i: q(c, "select machine_reveal_secret(%s)", (i["database_url_default"],)),
    ),
    Op(
        "machine.reveal_other_env",
        frozenset({"machine_other_env"}),
        lambda c, u, i: q(c, "select machine_reveal_secret(%s)", (i["stripe_staging"],)),
    ),
    Op(
        "machine.reveal_other_project",
        NOBODY,
        lambda c, u, i: q(c, "select machine_reveal_secret(%s)", (i["webhook_secret"],)),
    ),
    Op(
        "machine.report_dependencies",
        VALID_MACHINES,
        lambda c, u, i: q(
            c, "select n from machine_report_dependencies(%s) n where n = 1", (dep_report("m"),)
        ),
    ),
    Op(
        "machine.dependencies_of_bob_laptop",
        frozenset({"machine"}),
        lambda c, u, i: q(
            c,
            "select package_name from machine_dependencies() where environment_id = %s",
            (BOB_ENV,),
        ),
    ),
    Op(
        "machine.dependencies_only_its_own",
        NOBODY,
        lambda c, u, i: q(
            c,
            "select package_name from machine_dependencies()"
            " where environment_id is distinct from %s and environment_id is distinct from %s",
            (BOB_ENV, STAGING),
        ),
    ),
    Op(
        "machine.report_health",
        VALID_MACHINES,
        lambda c, u, i: q(
            c, "select n from machine_report_health(%s) n where n = 1", (health_report(),)
        ),
    ),
    Op(
        "machine.set_status",
        VALID_MACHINES,
        lambda c, u, i: q(c, "select id from machine_set_status('active', now())"),
    ),
    Op(
        "machine.set_status_of_bob_laptop",
        frozenset({"machine"}),
        lambda c, u, i: q(
            c, "select id from machine_set_status('syncing', null) where id = %s", (BOB_ENV,)
        ),
    ),
]
