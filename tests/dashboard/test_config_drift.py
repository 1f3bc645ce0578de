"""The Config drift tab in the real app: keys × machines from the reported states, drifted
only, the key detail (version, who changed it since, the fix), live from another connection,
the tree's and the Configuration tab's marks; snapshots at 80×24 and 120×40."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import pytest
from textual.widgets import TabbedContent

from devsync_tui.dashboard.panes.config_drift import ConfigDriftPane
from devsync_tui.dashboard.panes.configuration import ConfigurationPane
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.screens.machine_detail import MachineDetailScreen
from devsync_tui.dashboard.widgets.config_drift_matrix import ConfigDriftTable
from devsync_tui.dashboard.widgets.nav_tree import NavTree
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import tab_key
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
OBSERVED = "2026-11-20 09:30:00+00"
#: bob's laptop drifts (LOG_LEVEL behind v1 of its override, a missing secret, an extra key);
#: staging is in sync; ci-runner has not reported.
STATES = [
    (demo.ENV_BOB_LAPTOP, "API_BASE_URL", "in_sync", 1, None),
    (demo.ENV_BOB_LAPTOP, "LOG_LEVEL", "behind", 2, 1),
    (demo.ENV_BOB_LAPTOP, "STRIPE_SECRET_KEY", "missing", 2, None),
    (demo.ENV_BOB_LAPTOP, "DATABASE_URL", "differs", 1, None),
    (demo.ENV_BOB_LAPTOP, "LOCAL_ONLY", "only_local", None, None),
    (demo.ENV_STAGING, "API_BASE_URL", "in_sync", 1, None),
    (demo.ENV_STAGING, "LOG_LEVEL", "in_sync", 3, None),
    (demo.ENV_STAGING, "STRIPE_SECRET_KEY", "in_sync", 1, None),
]


def install_states(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        # bob's LOG_LEVEL override gets a version 2 by bob, so "changed since v1" names him
        conn.execute(
            "select set_config('request.jwt.claims', %s, false)",
            (json.dumps({"sub": str(demo.BOB.id), "role": "authenticated"}),),
        )
        conn.execute(
            "select private.write_configuration(%s, %s, 'LOG_LEVEL', 'trace', false, 'env_var', 1)",
            (S, demo.ENV_BOB_LAPTOP),
        )
        conn.execute(
            "update configuration_history set changed_at = %s where environment_id = %s"
            " and key = 'LOG_LEVEL' and version = 2",
            (OBSERVED, demo.ENV_BOB_LAPTOP),
        )
        for env, key, state, synced, behind in STATES:
            conn.execute(
                "insert into machine_config_states (environment_id, project_id, key, state,"
                " synced_version, behind_version, observed_at) values (%s, %s, %s, %s, %s, %s,"
                " %s)",
                (env, S, key, state, synced, behind, OBSERVED),
            )


@pytest.fixture
def drift_db(fresh_db_url: str) -> str:
    install_states(fresh_db_url)
    return fresh_db_url


async def open_drift(pilot: Any) -> ConfigDriftPane:
    app = pilot.app
    await wait_ready(pilot)
    tabs = app.main.query_one(TabbedContent)
    while tabs.active != "config-drift":
        await pilot.press("right_square_bracket")
    pane = app.main.query_one(ConfigDriftPane)
    await wait_for(pilot, lambda: pane.matrix is not None)
    pane.table.focus()
    await pilot.pause()
    return pane


def lines(table: ConfigDriftTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_matrix_filter_and_detail(drift_db: str) -> None:
    app = make_test_app(drift_db, "alice", size=(120, 40), project="storefront")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_drift(pilot)
        table = pane.table
        assert [c.label for c in table.columns] == ["key", "bob-laptop", "ci-runner", "staging"]
        shown = "\n".join(lines(table))
        assert "< v1" in shown
        assert "≠" in shown
        # the reported keys, and the project's keys no machine reported (rows of "·")
        everything = [r.key for r in table.rows]
        assert everything == sorted(everything)
        assert {
            "API_BASE_URL",
            "DATABASE_URL",
            "LOCAL_ONLY",
            "LOG_LEVEL",
            "STRIPE_SECRET_KEY",
        } <= set(everything)
        await pilot.press("f")
        assert [r.key for r in table.rows] == [
            "DATABASE_URL",
            "LOCAL_ONLY",
            "LOG_LEVEL",
            "STRIPE_SECRET_KEY",
        ]
        await pilot.press("escape")
        assert [r.key for r in table.rows] == everything
        # LOG_LEVEL on bob's laptop: has v1, changed since by bob, fixed by env pull
        table.cursor_row = everything.index("LOG_LEVEL")
        table.cursor_column = 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfigKeyDetailScreen")
        screen = app.screen

        def text(widget_id: str) -> str:
            return str(screen.query_one(widget_id).render())

        await wait_for(pilot, lambda: "loading" not in text("#cfgdetail-changes"))
        assert "bob-laptop has v1 of v2." in text("#cfgdetail-has")
        assert "Changed since v1: v2 set by bob" in text("#cfgdetail-changes")
        assert "devsync env pull" in text("#cfgdetail-fix")
        await pilot.press("escape")
        assert app.screen is app.main


async def test_marks_in_the_tree_and_the_configuration_tab(drift_db: str) -> None:
    app = make_test_app(drift_db, "bob", size=(120, 40), project="storefront", env="bob-laptop")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        tree = app.main.query_one(NavTree)
        await wait_for(pilot, lambda: demo.ENV_BOB_LAPTOP in tree.config_drift)
        assert demo.ENV_STAGING not in tree.config_drift
        labels = [str(n.label) for n in tree._nodes_iter()]
        assert "● bob-laptop ≠" in labels or any(label.endswith("bob-laptop ≠") for label in labels)
        config = app.main.query_one(ConfigurationPane)
        await wait_for(pilot, lambda: demo.ENV_BOB_LAPTOP in config.machine_drift)
        table = config.rows_table.table
        rendered = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "LOG_LEVEL < v1" in rendered
        assert "API_BASE_URL" in rendered


async def test_a_report_reaches_the_view_live(drift_db: str) -> None:
    app = make_test_app(drift_db, "alice", size=(120, 40), project="storefront")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_drift(pilot)
        with psycopg.connect(drift_db, autocommit=True) as conn:
            conn.execute(
                "select set_config('request.jwt.claims', %s, false)",
                (json.dumps({"sub": str(demo.ALICE.id), "role": "authenticated"}),),
            )
            conn.execute(
                "select public.report_config_states(%s, %s)",
                (
                    demo.ENV_CI_RUNNER,
                    json.dumps([{"key": "CI", "state": "differs", "synced_version": 1}]),
                ),
            )
        await wait_for(pilot, lambda: any(r.key == "CI" for r in pane.table.rows), within=5)
        tree = app.main.query_one(NavTree)
        await wait_for(pilot, lambda: demo.ENV_CI_RUNNER in tree.config_drift)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("view", ["matrix", "detail"])
def test_config_drift_snapshot(
    snap_compare: Callable[..., bool],
    drift_db: str,
    frozen_clock: datetime,
    size: tuple[int, int],
    view: str,
) -> None:
    app = make_test_app(drift_db, "alice", size=size, project="storefront")

    async def run_before(pilot: Any) -> None:
        pane = await open_drift(pilot)
        if view == "detail":  # LOG_LEVEL on bob's laptop
            pane.table.cursor_row = [r.key for r in pane.table.rows].index("LOG_LEVEL")
            pane.table.cursor_column = 1
            await pilot.press("enter")
            await wait_for(pilot, lambda: type(pilot.app.screen).__name__ != "MainScreen")
            await wait_for(
                pilot,
                lambda: (
                    "loading" not in str(pilot.app.screen.query_one("#cfgdetail-changes").render())
                ),
            )
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_machine_detail_sums_up_its_configuration_drift(drift_db: str) -> None:
    app = make_test_app(drift_db, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("health"))
        pane = app.main.query_one(HealthPane)
        await wait_for(pilot, lambda: pane.settled)
        pane.table.focus()
        names = [row.environment.name for row in pane.table.rows]
        pane.table.cursor_row = names.index("bob-laptop")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen))
        detail = app.screen
        assert isinstance(detail, MachineDetailScreen)
        await wait_for(pilot, lambda: detail.config_summary is not None)
        text = str(detail.query_one("#machine-config").render())
        assert "1 of 5 keys in sync" in text
        assert "differs: DATABASE_URL" in text
        assert "behind: LOG_LEVEL (has v1, synced v2)" in text
        assert "missing on the machine: STRIPE_SECRET_KEY" in text
        assert "only on the machine: LOCAL_ONLY" in text
        assert "devsync env pull" in text
        await pilot.press("escape")
        names = [row.environment.name for row in pane.table.rows]
        pane.table.cursor_row = names.index("ci-runner")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen))
        other = app.screen
        assert isinstance(other, MachineDetailScreen)
        await wait_for(pilot, lambda: other.config_summary is not None)
        assert "No report yet" in str(other.query_one("#machine-config").render())


async def test_the_key_detail_is_about_the_machine_under_the_cursor(drift_db: str) -> None:
    """Opened on bob-laptop's LOG_LEVEL cell, the detail speaks of bob-laptop; moving the
    cursor to another machine's line speaks of that one (what it has, its changes, its fix)."""
    app = make_test_app(drift_db, "alice", size=(120, 40), project="storefront")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_drift(pilot)
        table = pane.table
        table.cursor_row = [r.key for r in table.rows].index("LOG_LEVEL")
        table.cursor_column = 1  # bob-laptop
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfigKeyDetailScreen")
        screen = app.screen

        def text(widget_id: str) -> str:
            return str(screen.query_one(widget_id).render())

        await wait_for(pilot, lambda: "loading" not in text("#cfgdetail-changes"))
        assert "bob-laptop has v1 of v2." in text("#cfgdetail-has")
        await pilot.press("down")  # ci-runner: no report
        await wait_for(pilot, lambda: "ci-runner has —." in text("#cfgdetail-has"))
        assert "ci-runner has not reported this key" in text("#cfgdetail-fix")
        await pilot.press("down")  # staging: in sync at v3
        await wait_for(pilot, lambda: "staging has v3 (synced)." in text("#cfgdetail-has"))
        await wait_for(pilot, lambda: "loading" not in text("#cfgdetail-changes"))
        assert "nothing to fix" in text("#cfgdetail-fix")
        assert "bob" not in text("#cfgdetail-changes").split("by", 1)[0]


async def test_every_key_of_the_project_has_a_row(drift_db: str) -> None:
    """A key no machine reported (added since their reports) has a row, not yet reported by
    anyone; the status counts the project's keys."""
    app = make_test_app(drift_db, "alice", size=(120, 40), project="storefront")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        backend = app.main.session.backend
        keys = {key for env, key in await backend.project_keys(S) if env is None}
        pane = await open_drift(pilot)
        shown = {row.key for row in pane.table.rows}
        assert keys <= shown
        unreported = sorted(keys - {key for _env, key, *_ in STATES})
        assert unreported  # the demo has keys the fixture's machines did not report
        row = next(r for r in pane.table.rows if r.key == unreported[0])
        assert row.cells == (None, None, None)
        status = str(pane.query_one("#cfgdrift-status").render())
        assert status.startswith(f"{len(pane.table.rows)} keys · ")


async def test_no_report_yet_counts_the_projects_keys(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", size=(120, 40), project="storefront")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        backend = app.main.session.backend
        keys = {key for _env, key in await backend.project_keys(S)}
        pane = await open_drift(pilot)
        status = str(pane.query_one("#cfgdrift-status").render())
        assert status == f"{len(keys)} keys · none of 3 machines has reported yet"
        assert "has reported its configuration yet" in str(
            pane.query_one("#cfgdrift-message").render()
        )
