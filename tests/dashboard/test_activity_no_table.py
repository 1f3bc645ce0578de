"""A member's Activity tab lists nothing (only admins read the audit log): it offers no `/`
filter, in the footer or as a key, since there is no table to filter."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from devsync_tui.dashboard.panes.activity import ActivityPane
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import footer_settled, make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import tab_key

pytestmark = pytest.mark.db


async def test_a_members_activity_tab_offers_no_filter(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#config-table").focus()  # working in the tables, not the tree
        await pilot.pause()
        await pilot.press(tab_key("activity"))
        await wait_ready(pilot)
        pane = app.main.query_one(ActivityPane)
        table = pane.query_one(FilterableTable)
        assert not table.display
        footer = app.main.query_one("Footer")
        await wait_for(pilot, lambda: footer_settled(footer))  # type: ignore[arg-type]
        offered = {b.binding.id for b in app.main.active_bindings.values()}
        assert "table.filter" not in offered
        assert table.check_action("filter", ()) is False
        await pilot.press("slash", "x")
        await pilot.pause(0.1)
        box = table.query_one("#filter", Input)
        assert not box.has_class("-active")
        assert box.value == ""
        assert app.focused is not box
