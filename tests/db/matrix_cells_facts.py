"""Cells for the package facts (migrations ``…120100_package_facts``,
``…201000_package_facts_per_team``): each team keeps its own advisories and freshness, which
its members read; only scans and agents of a team that runs a version write its facts, for
that team, through ``report_package_facts`` (a machine: for its own environment's versions).
See tests/db/matrix_ops.py for the conventions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.db.helpers import ADMINS, MEMBERS, WRITERS, Conn
from tests.db.matrix_ops import ENV_WRITERS, NOBODY, Op, S, q
from tests.support import demo

#: The seed's versions: lodash 4.17.20 is on bob's laptop only, typescript 5.4.2 on alice's
#: ci-runner only, express 4.19.2 in the baseline (and on staging and ci-runner).
BOB_ONLY = ("npm", "lodash", "4.17.20")
CI_RUNNER_ONLY = ("npm", "typescript", "5.4.2")
BASELINE = ("npm", "express", "4.19.2")


def facts(key: tuple[str, str, str]) -> str:
    manager, name, version = key
    return json.dumps(
        {
            "advisories": [
                {
                    "package_manager": manager,
                    "package_name": name,
                    "version": version,
                    # newer than the seed's check of lodash 4.17.20 (made as it loaded)
                    "checked_at": datetime.now(UTC).isoformat(),
                    "advisories": [{"id": "GHSA-test-0000-0000", "aliases": ["CVE-2099-1"]}],
                }
            ],
            "freshness": [],
        }
    )


def install_package_facts(su: Conn) -> None:
    """One stored fact of each table, for the read cells."""
    team = (demo.TEAM_ACME,)
    su.execute(
        "insert into package_advisory_checks (team_id, package_manager, package_name, version,"
        " checked_at) values (%s, 'npm', 'left-pad', '1.3.0', now()) on conflict do nothing",
        team,
    )
    su.execute(
        "insert into package_advisories (team_id, package_manager, package_name, version,"
        " advisory_id) values (%s, 'npm', 'left-pad', '1.3.0', 'GHSA-seed-0000-0000')"
        " on conflict do nothing",
        team,
    )
    su.execute(
        "insert into package_freshness (team_id, package_manager, package_name, latest,"
        " checked_at) values (%s, 'npm', 'left-pad', '1.3.0', now()) on conflict do nothing",
        team,
    )


def _report(fn: str, key: tuple[str, str, str]) -> str:
    return f"select n from {fn}('{facts(key)}'::jsonb) n where n > 0"


FACTS_OPS: list[Op] = [
    Op(
        "package_advisories.select",
        MEMBERS,
        lambda c, u, i: q(c, "select advisory_id from package_advisories"),
        ("package_advisories_select",),
    ),
    Op(
        "package_advisory_checks.select",
        MEMBERS,
        lambda c, u, i: q(c, "select version from package_advisory_checks"),
        ("package_advisory_checks_select",),
    ),
    Op(
        "package_freshness.select",
        MEMBERS,
        lambda c, u, i: q(c, "select latest from package_freshness"),
        ("package_freshness_select",),
    ),
    Op(
        "package_advisories.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into package_advisories (package_manager, package_name, version,"
            " advisory_id) values ('npm', 'left-pad', '1.3.0', 'X-1') returning advisory_id",
        ),
    ),
    Op(
        "package_freshness.update_direct",
        NOBODY,
        lambda c, u, i: q(c, "update package_freshness set latest = '9' returning latest"),
    ),
    Op(
        "package_facts.rpc_report_env_version",
        ENV_WRITERS,
        lambda c, u, i: q(c, _report("report_package_facts", BOB_ONLY)),
    ),
    Op(
        "package_facts.rpc_report_baseline_version",
        WRITERS,
        lambda c, u, i: q(c, _report("report_package_facts", BASELINE)),
    ),
    Op(
        "package_facts.rpc_report_other_env_version",
        ADMINS,
        lambda c, u, i: q(c, _report("report_package_facts", CI_RUNNER_ONLY)),
    ),
    Op(
        "package_facts.machine_report_own_version",
        frozenset({"machine"}),
        lambda c, u, i: q(c, _report("machine_report_package_facts", BOB_ONLY)),
    ),
    Op(
        "package_facts.machine_report_other_env_version",
        NOBODY,
        lambda c, u, i: q(c, _report("machine_report_package_facts", CI_RUNNER_ONLY)),
    ),
]


def install_accepted_risk(su: Conn) -> None:
    """One accepted risk of storefront, for the read and withdraw cells."""
    su.execute(
        "insert into accepted_risks (project_id, advisory_id, reason, until)"
        " values (%s, 'GHSA-seed-0000-0000', 'seeded', '2999-01-01') on conflict do nothing",
        (S,),
    )


RISK_OPS: list[Op] = [
    Op(
        "accepted_risks.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from accepted_risks where project_id = %s", (S,)),
        ("accepted_risks_select",),
    ),
    Op(
        "accepted_risks.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into accepted_risks (project_id, advisory_id, reason, until)"
            " values (%s, 'X-1', 'r', '2999-01-01') returning id",
            (S,),
        ),
    ),
    Op(
        "accepted_risks.rpc_ignore",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from ignore_advisory(%s, 'GHSA-new-0000-0000', '2999-01-01', 'ok')",
            (S,),
        ),
    ),
    Op(
        "accepted_risks.rpc_unignore",
        WRITERS,
        lambda c, u, i: q(c, "select 1 from unignore_advisory(%s, 'GHSA-seed-0000-0000')", (S,)),
    ),
]
