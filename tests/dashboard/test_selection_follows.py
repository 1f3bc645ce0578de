"""The selection, the header and the panes follow what others change (real PostgreSQL): a
role changed by an admin, a team left, a project deleted, a team selected in the tree."""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent

from devsync_tui.core.models import Role
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, other_client
from tests.support import demo

pytestmark = pytest.mark.db


async def test_a_role_change_reaches_the_member_at_once(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        header = app.main.query_one(StatusHeader)
        pane = config_pane(app)
        assert header.role == "member"
        assert pane.check_action("new", ()) is True
        async with other_client(fresh_db_url, "alice") as alice:
            await alice.set_member_role(demo.TEAM_ACME, demo.BOB.id, Role.VIEWER)
            await wait_for(pilot, lambda: header.role == "viewer")
            await wait_for(pilot, lambda: pane.check_action("new", ()) is False)
            await alice.set_member_role(demo.TEAM_ACME, demo.BOB.id, Role.MEMBER)
            await wait_for(pilot, lambda: header.role == "member")
            await wait_for(pilot, lambda: pane.check_action("new", ()) is True)


async def test_leaving_the_last_team_leaves_nothing_of_it(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "carol", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        async with other_client(fresh_db_url, "carol") as carol:
            await carol.remove_member(demo.TEAM_ACME, demo.CAROL.id)
        header = app.main.query_one(StatusHeader)
        await wait_for(
            pilot, lambda: "no team yet" in str(app.main.query_one("#status-line").render())
        )
        assert not app.main.query_one(TabbedContent).display
        assert header.title == ""
        assert header.role == ""
        assert app.main.nav_tree.items() == []


async def test_a_deleted_project_moves_the_selection_to_its_team(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="billing-api")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        async with other_client(fresh_db_url, "alice") as alice:
            await alice.delete_project(demo.PROJECT_BILLING)
        await wait_for(pilot, lambda: app.main.nav_tree.cursor_node is not None)

        def agreed() -> bool:
            node = app.main.nav_tree.cursor_node
            selection = app.main.selection
            if node is None or node.data is None or selection is None:
                return False
            return node.data.project is None and selection.project is None

        await wait_for(pilot, agreed)
        assert app.main.query_one(StatusHeader).title == "Acme"


async def test_a_team_selected_shows_no_project_data(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        drift = app.main.query_one("DriftPane")
        await wait_for(pilot, lambda: drift.project is not None)  # type: ignore[attr-defined]
        app.main.nav_tree.select_item((demo.TEAM_ACME, None, None))
        await wait_ready(pilot)
        health = app.main.query_one("HealthPane")
        assert drift.project is None  # type: ignore[attr-defined]
        assert health.project is None  # type: ignore[attr-defined]
        message = str(drift.query_one("#drift-message").render())
        assert message == "Select a project to see its dependencies."
