"""The drift matrix and the package detail show every version a machine runs: a nested old
copy of lodash beside the baseline's version is listed in the cell and has its own line."""

from __future__ import annotations

import pytest

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import DependencyInput, PackageManager
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.screens.drift_detail import PackageDetailScreen, PackageDetailTable
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable
from tests.dashboard.pane_host import PaneHost, settle
from tests.dashboard.test_drift_pane import cells_by_package, loaded
from tests.support import demo

pytestmark = pytest.mark.db


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
