"""The drift matrix and the package detail show every version a machine runs: a nested old
copy of lodash beside the baseline's version is listed in the cell and has its own line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Static

from devsync_tui.backend.live import Resync
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import (
    Advisory,
    AdvisoryCheck,
    DependencyInput,
    Freshness,
    PackageManager,
)
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.screens.drift_detail import PackageDetailScreen, PackageDetailTable
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable
from tests.dashboard.pane_host import PaneHost, settle
from tests.dashboard.test_drift_pane import cells_by_package, loaded
from tests.support import demo

pytestmark = pytest.mark.db

#: A summary with markup in it: shown as it is, never interpreted.
GHSA = Advisory(
    "GHSA-35jh-r3h4-6jhm",
    ("CVE-2021-23337",),
    "HIGH",
    "Command Injection in [lodash]",
    "4.17.21",
)


async def test_a_nested_copy_is_in_the_cell_and_the_detail(fresh_db_url: str) -> None:
    bob = PostgresBackend(fresh_db_url, "bob")
    await bob.connect()
    try:
        current = await bob.list_dependencies(
            demo.PROJECT_STOREFRONT, environment_ids=[demo.ENV_BOB_LAPTOP]
        )
        report = [
            DependencyInput(
                d.package_manager, d.package_name, d.version_constraint, d.resolved_version
            )
            for d in current
            if d.package_name != "lodash"
        ]
        report += [
            DependencyInput(PackageManager.NPM, "lodash", "^4.17.21", "4.17.21"),
            DependencyInput(PackageManager.NPM, "lodash", None, "4.17.11"),
        ]
        await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, report)
        checked = datetime(2026, 11, 1, tzinfo=UTC)
        await bob.report_package_facts(
            [AdvisoryCheck(PackageManager.NPM, "lodash", "4.17.11", checked, (GHSA,))],
            [Freshness(PackageManager.NPM, "lodash", "^4.17.21", "4.17.21", "4.17.21", checked)],
        )
    finally:
        await bob.close()
    app = PaneHost(fresh_db_url, "bob", DriftPane, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, loaded)
        table = app.query_one(DriftMatrixTable)
        assert cells_by_package(table)["lodash"][:2] == ["4.17.21", "✗ 4.17.21, 4.17.11"]
        await pilot.press("slash", *"lodash", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PackageDetailScreen)
        detail = app.screen.query_one(PackageDetailTable)
        lines = [detail.render_line(y).text.split() for y in range(1, 4)]
        assert lines[0][:3] == ["baseline", "4.17.21", "^4.17.21"]
        assert lines[1][:4] == ["bob-laptop", "4.17.21", "^4.17.21", "="]
        assert lines[2][:2] == ["4.17.11", "—"]  # the same machine's second copy
        assert " ".join(lines[2][3:]) == "violates constraint"
        facts = app.screen.query_one("#detail-facts", Static)
        for _ in range(100):
            if "GHSA" in str(facts.render()):
                break
            await pilot.pause(0.05)
        shown = str(facts.render())
        assert (
            "! 4.17.11  GHSA-35jh-r3h4-6jhm (CVE-2021-23337, HIGH; fixed in 4.17.21)"
            " — Command Injection in [lodash]" in shown
        )
        assert "latest 4.17.21 · wanted 4.17.21 (^4.17.21)" in shown


def test_an_accepted_advisory_is_shown_ignored_with_date_and_reason() -> None:
    from datetime import date
    from uuid import uuid4

    from devsync_tui.core.drift import DriftCell, DriftRow, DriftState
    from devsync_tui.core.models import AcceptedRisk, PackageFacts, VersionAdvisory
    from devsync_tui.dashboard.screens.drift_detail import facts_text

    cell = DriftCell("4.17.11", None, DriftState.VULNERABLE)
    row = DriftRow(PackageManager.NPM, "lodash", None, (cell,), DriftState.VULNERABLE)
    risk = AcceptedRisk(
        uuid4(), uuid4(), "CVE-2021-23337", "never called", date(2027, 3, 1), None,
        datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    facts = PackageFacts(
        (VersionAdvisory(PackageManager.NPM, "lodash", "4.17.11", GHSA),), (), (risk,)
    )
    text = facts_text(row, [cell], facts, date(2027, 3, 1))
    assert text.startswith(
        "· 4.17.11  GHSA-35jh-r3h4-6jhm (CVE-2021-23337, HIGH; fixed in 4.17.21)"
        " — ignored: accepted until 2027-03-01: never called"
    )
    # the day after, it counts again
    assert facts_text(row, [cell], facts, date(2027, 3, 2)).startswith("! 4.17.11")


async def test_an_accepted_risk_shows_as_accepted_not_vulnerable(fresh_db_url: str) -> None:
    """bob's lodash (at the baseline's version) is vulnerable; once the team accepts its only
    advisory (by its CVE alias) the cell says `~` (accepted risk) instead of `!`. The demo's
    other vulnerable version, below its constraint, has advisories nobody accepted: it stays
    `!`."""
    bob = PostgresBackend(fresh_db_url, "bob")
    await bob.connect()
    try:
        current = await bob.list_dependencies(
            demo.PROJECT_STOREFRONT, environment_ids=[demo.ENV_BOB_LAPTOP]
        )
        report = [
            DependencyInput(
                d.package_manager, d.package_name, d.version_constraint,
                "4.17.21" if d.package_name == "lodash" else d.resolved_version, d.status,
            )
            for d in current
        ]  # fmt: skip
        await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, report)
        checked = datetime(2026, 11, 1, tzinfo=UTC)
        await bob.report_package_facts(
            [AdvisoryCheck(PackageManager.NPM, "lodash", "4.17.21", checked, (GHSA,))], []
        )
        app = PaneHost(fresh_db_url, "bob", DriftPane, demo.PROJECT_STOREFRONT)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, loaded)
            table = app.query_one(DriftMatrixTable)
            assert cells_by_package(table)["lodash"][1] == "! 4.17.21"
            until = datetime(2099, 1, 1, tzinfo=UTC).date()
            await bob.ignore_advisory(demo.PROJECT_STOREFRONT, "CVE-2021-23337", until, "ok")
            pane = app.query_one(DriftPane)
            pane.apply_changes([Resync("refresh")])  # what the refresh key does
            await settle(pilot, lambda p: cells_by_package(table)["lodash"][1] == "~ 4.17.21")
            assert cells_by_package(table)["requests"][1] == "! 2.28.2"
            assert "~ accepted" in str(pane.query_one("#drift-legend").render())
    finally:
        await bob.close()


def test_a_version_its_machine_marked_vulnerable_is_not_said_to_have_no_advisory() -> None:
    """The demo's bob-laptop lodash: marked vulnerable by the machine, no advisory stored for
    the team: the detail says who reported it and how the details come, never "none known"."""
    from datetime import date

    from devsync_tui.core.drift import DriftCell, DriftRow, DriftState
    from devsync_tui.core.models import PackageFacts
    from devsync_tui.dashboard.screens.drift_detail import facts_text

    baseline = DriftCell("4.17.21", "^4.17.21", DriftState.MATCHES)
    bob = DriftCell("4.17.20", "^4.17.21", DriftState.VULNERABLE)
    row = DriftRow(PackageManager.NPM, "lodash", baseline, (bob,), DriftState.VULNERABLE)
    text = facts_text(
        row, [baseline, bob], PackageFacts((), (), ()), date(2027, 3, 1), ["baseline", "bob-laptop"]
    )
    assert "none known" not in text
    assert text.startswith("! 4.17.20  vulnerable per bob-laptop; advisory details not stored")
    assert "devsync scan" in text
    assert all(len(line) <= 74 for line in text.splitlines())  # the dialog's inside at 80


async def test_a_project_without_a_baseline_says_how_to_record_one(fresh_db_url: str) -> None:
    """Without a baseline every package "differs" (the baseline lacks it): the status says
    that there is none yet and how to record one."""
    import psycopg

    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "delete from public.dependencies where project_id = %s and environment_id is null",
            (demo.PROJECT_STOREFRONT,),
        )
    app = PaneHost(fresh_db_url, "bob", DriftPane, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, loaded)
        status = str(app.query_one("#drift-status", Static).render())
        assert status.startswith("no baseline yet: `devsync scan --baseline`"), status
    app = PaneHost(fresh_db_url, "bob", DriftPane, demo.PROJECT_BILLING, demo.ENV_ALICE_MBP)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, loaded)
        assert "no baseline" not in str(app.query_one("#drift-status", Static).render())
