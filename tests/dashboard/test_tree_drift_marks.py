"""The tree marks a machine whose configuration drifts (≠) in every project, not only in the
one on screen, and follows a report from a machine of another project live."""

from __future__ import annotations

import psycopg
import pytest

from devsync_tui.core.config_states import ConfigStateInput, DriftState
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import other_client
from tests.support import demo

pytestmark = pytest.mark.db


async def test_machines_of_other_projects_are_marked_and_follow_reports(
    fresh_db_url: str,
) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "insert into machine_config_states (environment_id, project_id, key, state,"
            " synced_version) values (%s, %s, 'DATABASE_URL', 'differs', 1)",
            (demo.ENV_ALICE_MBP, demo.PROJECT_BILLING),
        )
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tree = app.main.nav_tree
        # alice-mbp is in billing-api; the screen shows storefront.
        await wait_for(pilot, lambda: demo.ENV_ALICE_MBP in tree.config_drift)
        assert app.main.selection is not None
        assert app.main.selection.project is not None
        assert app.main.selection.project.id == demo.PROJECT_STOREFRONT
        async with other_client(fresh_db_url, "alice") as alice:
            await alice.report_config_states(
                demo.ENV_ALICE_MBP, [ConfigStateInput("DATABASE_URL", DriftState.IN_SYNC, 1)]
            )
        await wait_for(pilot, lambda: demo.ENV_ALICE_MBP not in tree.config_drift)
