"""The demo's vulnerable versions carry their advisories (supabase/seed.sql): every version
the seed marks vulnerable has at least one advisory stored for its project's team, as a scan
would store it (a GHSA id, CVE aliases, OSV's severity word, a summary, a fixed version above
the installed one, checked at the machine's last report), and a member reads them through
the call the dashboard and ``devsync drift`` use (``Backend.package_facts``, RPC
``project_advisories``); an outsider reads none."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.advisories import FRESH_FOR
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare
from tests.support import demo

pytestmark = pytest.mark.db

#: What the seed marks vulnerable: (project, manager, name, version).
_VULNERABLE = """
select distinct d.project_id, d.package_manager, d.package_name, d.resolved_version
from public.dependencies d
where d.status = 'vulnerable'
order by 1, 2, 3, 4
"""

_WITHOUT_ADVISORY = """
select d.project_id, d.package_manager, d.package_name, d.resolved_version
from public.dependencies d join public.projects p on p.id = d.project_id
where d.status = 'vulnerable'
  and not exists (select 1 from public.package_advisories a
                  where a.team_id = p.team_id and a.package_manager = d.package_manager
                    and a.package_name = d.package_name and a.version = d.resolved_version)
"""

_CHECKS = """
select k.team_id, k.package_manager, k.package_name, k.version, now() - k.checked_at
from public.package_advisory_checks k
order by 2, 3, 4
"""


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_every_vulnerable_version_has_an_advisory_for_its_team(demo_db_url: str) -> None:
    vulnerable = _rows(demo_db_url, _VULNERABLE)
    assert {(m, n, v) for _p, m, n, v in vulnerable} == {
        ("npm", "lodash", "4.17.20"),
        ("pip", "requests", "2.28.2"),
        ("pip", "cryptography", "41.0.7"),
    }
    assert _rows(demo_db_url, _WITHOUT_ADVISORY) == []
    checks = _rows(demo_db_url, _CHECKS)
    assert [(m, n, v) for _t, m, n, v, _age in checks] == [
        ("npm", "lodash", "4.17.20"),
        ("pip", "cryptography", "41.0.7"),
        ("pip", "requests", "2.28.2"),
    ]
    for team, *_key, age in checks:
        assert team == demo.TEAM_ACME
        # checked at the machine's last report: in the past, and within a day (what a
        # machine's OSV cache keeps as fresh), so a demo opened today shows current facts
        assert timedelta(0) < age < FRESH_FOR


async def test_members_read_the_seeded_advisories_as_the_dashboard_does(demo_db_url: str) -> None:
    vulnerable = _rows(demo_db_url, _VULNERABLE)
    for username in ("dave", "carol"):  # a member without a machine, a viewer
        backend = PostgresBackend(demo_db_url, username, embedded=False)
        await backend.connect()
        try:
            for project, manager, name, version in vulnerable:
                facts = await backend.package_facts(project)
                found = facts.advisories_of(PackageManager(manager), name, version)
                assert len(found) >= 1, (username, name, version)
                for advisory in found:
                    assert re.fullmatch(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", advisory.id)
                    assert advisory.aliases
                    assert all(re.fullmatch(r"CVE-\d{4}-\d{4,}", a) for a in advisory.aliases)
                    assert advisory.severity in {"LOW", "MODERATE", "HIGH", "CRITICAL"}
                    assert advisory.summary
                    assert advisory.fixed_version is not None
                    assert compare(PackageManager(manager), advisory.fixed_version, version) > 0
        finally:
            await backend.close()
    mallory = PostgresBackend(demo_db_url, "mallory", embedded=False)
    await mallory.connect()
    try:
        for project in (demo.PROJECT_STOREFRONT, demo.PROJECT_BILLING):
            assert (await mallory.package_facts(project)).advisories == ()
    finally:
        await mallory.close()
