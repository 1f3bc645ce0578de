"""Package facts (migration ``…120100_package_facts``): a version's advisories are replaced
whole by a newer check and never by an older one; freshness per (package, constraint);
``project_advisories`` / ``project_freshness`` read what a project runs, as the caller may."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, Cur, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT


@pytest.fixture
def cur(su: Conn) -> Any:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _facts(checked_at: str, advisories: list[dict[str, Any]], latest: str = "4.17.21") -> str:
    return json.dumps(
        {
            "advisories": [
                {
                    "package_manager": "npm",
                    "package_name": "lodash",
                    "version": "4.17.20",
                    "checked_at": checked_at,
                    "advisories": advisories,
                }
            ],
            "freshness": [
                {
                    "package_manager": "npm",
                    "package_name": "lodash",
                    "version_constraint": "^4.17.21",
                    "latest": latest,
                    "wanted": latest,
                    "checked_at": checked_at,
                }
            ],
        }
    )


GHSA = {
    "id": "GHSA-35jh-r3h4-6jhm",
    "aliases": ["CVE-2021-23337"],
    "severity": "HIGH",
    "summary": "Command Injection in lodash",
    "fixed_version": "4.17.21",
}


def _advisories(cur: Cur) -> list[tuple[Any, ...]]:
    cur.execute(
        "select advisory_id, aliases, severity, summary, fixed_version"
        " from project_advisories(%s) where package_name = 'lodash'",
        (S,),
    )
    return cur.fetchall()


def test_newer_checks_replace_older_ones_never_the_other_way(cur: Cur) -> None:
    impersonate(cur, demo.BOB)
    cur.execute("select report_package_facts(%s)", (_facts("2026-11-01T00:00:00Z", [GHSA]),))
    assert cur.fetchone() == (2,)
    assert _advisories(cur) == [
        (
            "GHSA-35jh-r3h4-6jhm",
            ["CVE-2021-23337"],
            "HIGH",
            "Command Injection in lodash",
            "4.17.21",
        )
    ]
    # an older answer (a machine's stale cache) changes nothing
    cur.execute("select report_package_facts(%s)", (_facts("2026-10-01T00:00:00Z", [], "1.0.0"),))
    assert cur.fetchone() == (0,)
    assert len(_advisories(cur)) == 1
    # a newer one replaces the list whole
    cur.execute("select report_package_facts(%s)", (_facts("2026-11-02T00:00:00Z", []),))
    assert cur.fetchone() == (2,)
    assert _advisories(cur) == []
    cur.execute(
        "select version_constraint, latest, wanted from project_freshness(%s)"
        " where package_name = 'lodash'",
        (S,),
    )
    assert cur.fetchall() == [("^4.17.21", "4.17.21", "4.17.21")]


def test_outsiders_read_no_project_facts_and_bad_ids_are_refused(cur: Cur) -> None:
    impersonate(cur, demo.BOB)
    cur.execute("select report_package_facts(%s)", (_facts("2026-11-01T00:00:00Z", [GHSA]),))
    impersonate(cur, demo.MALLORY)
    assert _advisories(cur) == []  # the project's versions are not hers to know
    cur.execute("select count(*) from package_advisories where package_name = 'lodash'")
    assert cur.fetchone() == (1,)  # the public fact itself is readable
    impersonate(cur, demo.BOB)
    bad = {**GHSA, "id": "GHSA\x1b[31m"}
    with (
        pytest.raises(psycopg.errors.CheckViolation, match="advisory_id_check"),
        cur.connection.transaction(),
    ):
        cur.execute("select report_package_facts(%s)", (_facts("2026-11-03T00:00:00Z", [bad]),))
