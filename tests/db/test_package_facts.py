"""Package facts (migrations ``…120100_package_facts``, ``…201000_package_facts_per_team``): a
version's advisories are replaced whole by a newer check and never by an older one; freshness
per (package, constraint); each team keeps its own, so another team's report changes nothing
it sees; ``project_advisories`` / ``project_freshness`` read what a project runs, as the caller
may."""

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
        # the demo seeds lodash 4.17.20's advisories, checked as it loaded: these tests start
        # from a version nobody has checked
        c.execute("delete from package_advisory_checks where package_name = 'lodash'")
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
    assert cur.fetchone() == (0,)  # nor Acme's facts: each team keeps its own
    impersonate(cur, demo.BOB)
    bad = {**GHSA, "id": "GHSA\x1b[31m"}
    with (
        pytest.raises(psycopg.errors.CheckViolation, match="advisory_id_check"),
        cur.connection.transaction(),
    ):
        cur.execute("select report_package_facts(%s)", (_facts("2026-11-03T00:00:00Z", [bad]),))


def test_another_teams_report_changes_nothing_a_team_sees(cur: Cur) -> None:
    # mallory (in no team of Acme's) makes a team and a project of her own that "runs" lodash
    # 4.17.20, then reports a harmless-looking advisory (and none at all) for it, newer than
    # Acme's check: Acme still sees the real one, and its summary's accepted risks still apply.
    impersonate(cur, demo.BOB)
    cur.execute("select report_package_facts(%s)", (_facts("2026-11-01T00:00:00Z", [GHSA]),))
    impersonate(cur, demo.MALLORY)
    cur.execute("select id from create_team('Evil Corp', 'evil-corp')")
    team = cur.fetchone()
    assert team is not None
    cur.execute("insert into projects (team_id, name) values (%s, 'poison') returning id", team)
    project = cur.fetchone()
    assert project is not None
    cur.execute(
        "select report_dependencies(%s, null, %s::jsonb)",
        (
            project[0],
            json.dumps(
                [
                    {
                        "package_manager": "npm",
                        "package_name": "lodash",
                        "resolved_version": "4.17.20",
                        "version_constraint": "^4.17.21",
                        "kind": "registry",
                    }
                ]
            ),
        ),
    )
    fake = {"id": "GHSA-fake-0000-0000", "severity": "LOW", "summary": "no action needed"}
    cur.execute("select now() + interval '4 minutes'")
    soon = cur.fetchone()
    assert soon is not None
    cur.execute("select report_package_facts(%s)", (_facts(soon[0].isoformat(), [fake], "0.0.1"),))
    assert cur.fetchone() == (2,)  # stored: for her own team
    impersonate(cur, demo.BOB)
    assert [row[0] for row in _advisories(cur)] == ["GHSA-35jh-r3h4-6jhm"]
    cur.execute("select latest from project_freshness(%s) where package_name = 'lodash'", (S,))
    assert cur.fetchall() == [("4.17.21",)]
    cur.execute("select count(*) from package_advisories where advisory_id like 'GHSA-fake%'")
    assert cur.fetchone() == (0,)  # not even readable to Acme's members
