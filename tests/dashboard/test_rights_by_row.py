"""Keys follow the row under the cursor (README: "The dashboard offers only what you may do
to the row under the cursor"): a member is offered Delete on the templates they created
only; nobody is offered Role or Remove on the team owner's row. And a viewer's history of a
secret says why the change is not shown, not to reveal it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from textual.widgets import Footer, Static

from devsync_tui.dashboard.palette import ActionsProvider
from devsync_tui.dashboard.panes.members import MembersPane
from devsync_tui.dashboard.panes.templates import TemplatesPane
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from devsync_tui.dashboard.screens.history import HistoryScreen
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, tab_key
from tests.support import demo

pytestmark = pytest.mark.db


def _offered(app: Any) -> set[str]:
    """What the footer shows and the palette runs, by label."""
    footer = app.main.query_one(Footer)
    shown = {str(k.description) for k in footer.query("FooterKey")}
    palette = {a.name for a in ActionsProvider(app.main)._actions()}
    return shown | palette


async def _cursor_on(pilot: Any, rows: FilterableTable, key: str) -> None:
    await wait_for(pilot, lambda: key in rows.table.rows)
    rows.table.focus()
    rows.table.move_cursor(row=rows.table.get_row_index(key))
    await wait_for(pilot, lambda: rows.cursor_key == key)
    await pilot.pause()
    await pilot.pause()


async def test_a_member_is_offered_delete_on_his_own_templates_only(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        mine = conn.execute(
            "insert into public.env_templates (project_id, name, created_by)"
            " values (%s, 'dave-t', %s) returning id",
            (demo.PROJECT_STOREFRONT, demo.DAVE.id),
        ).fetchone()
    assert mine is not None
    app = make_test_app(fresh_db_url, "dave", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("templates"))
        pane = app.main.query_one(TemplatesPane)
        rows = pane.query_one(FilterableTable)
        await _cursor_on(pilot, rows, str(demo.TEMPLATE_STOREFRONT_CI))  # alice's
        offered = _offered(app)
        assert "New" in offered
        assert "Delete" not in offered
        await pilot.press("d")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmDialog)
        assert not any("Only admins" in n.message for n in app._notifications)

        await _cursor_on(pilot, rows, str(mine[0]))
        assert "Delete" in _offered(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))


async def test_an_admin_is_offered_delete_on_every_template(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "erin", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("templates"))
        rows = app.main.query_one(TemplatesPane).query_one(FilterableTable)
        for template in (demo.TEMPLATE_STOREFRONT_CI, demo.TEMPLATE_NODE_STARTER):
            await _cursor_on(pilot, rows, str(template))
            assert "Delete" in _offered(app)


async def test_no_role_or_remove_is_offered_on_the_owners_row(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = app.main.query_one(MembersPane)
        rows = pane.query_one(FilterableTable)
        await _cursor_on(pilot, rows, str(demo.ALICE.id))  # alice (owner)
        offered = _offered(app)
        assert "Add" in offered
        assert not offered & {"Role", "Remove"}
        await pilot.press("enter")
        await pilot.press("d")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, FormDialog | ConfirmDialog)
        assert not app._notifications  # nothing refused: nothing was offered

        await _cursor_on(pilot, rows, str(demo.BOB.id))
        assert {"Role", "Remove"} <= _offered(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))


async def test_a_click_on_the_owners_row_says_why_there_is_no_role_to_change(
    demo_db_url: str,
) -> None:
    app = make_test_app(demo_db_url, "alice", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = app.main.query_one(MembersPane)
        await _cursor_on(pilot, pane.query_one(FilterableTable), str(demo.ALICE.id))
        pane.action_change_role()  # what a click on the highlighted row runs
        await pilot.pause(0.2)
        assert not isinstance(app.screen, FormDialog)
        assert [n.message for n in app._notifications] == ["The team's owner stays an admin."]


@pytest.mark.parametrize(
    ("user", "said"),
    [
        ("carol", "Secret: the change is not shown. Viewers never see secret values."),
        ("alice", "Secret: reveal to compare."),  # one who may reveal is still offered it
    ],
)
async def test_a_secrets_history_offers_to_reveal_only_where_one_may(
    demo_db_url: str, user: str, said: str
) -> None:
    app = make_test_app(demo_db_url, user, project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        await wait_for(pilot, lambda: bool(history.entries))
        assert str(history.query_one("#history-diff", Static).render()) == said
