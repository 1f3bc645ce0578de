"""Template names in the dashboard: a name the project already has is refused in the dialog
(one sentence, the input kept), as is one over 200 characters; a long name is cut with … in
the table so the other columns stay on screen."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from rich.cells import cell_len
from textual.widgets import Button, Input, Static

from devsync_tui.dashboard.panes.templates import TemplatesPane
from devsync_tui.dashboard.screens.dialogs import FormDialog
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import query_one, tab_key
from tests.support import demo

pytestmark = pytest.mark.db

COUNT = "select count(*) from public.env_templates where project_id = %s"


def _error(app: Any) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def _new_template(pilot: Any) -> FormDialog:
    app = pilot.app
    await pilot.press(tab_key("templates"))
    pane = app.main.query_one(TemplatesPane)
    await wait_for(pilot, lambda: len(pane.templates) > 0)
    pane.query_one(FilterableTable).table.focus()
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
    assert isinstance(app.screen, FormDialog)
    return app.screen


async def _save_and_expect(pilot: Any, sentence: str) -> None:
    app = pilot.app
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: _error(app) == sentence and not app.screen.saving)
    assert isinstance(app.screen, FormDialog)
    assert not app.screen.query_one("#submit", Button).disabled


async def test_a_duplicate_name_is_refused_in_the_dialog(fresh_db_url: str) -> None:
    before = query_one(fresh_db_url, COUNT, (demo.PROJECT_STOREFRONT,))
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        dialog = await _new_template(pilot)
        name = dialog.query_one("#f-name", Input)
        name.value = "Node.js Starter"
        await _save_and_expect(
            pilot, 'A template named "Node.js Starter" already exists in storefront.'
        )
        assert app.screen is dialog
        assert name.value == "Node.js Starter"
        assert query_one(fresh_db_url, COUNT, (demo.PROJECT_STOREFRONT,)) == before

        name.value = "Node.js Starter 2"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        pane = app.main.query_one(TemplatesPane)
        await wait_for(pilot, lambda: any(t.name == "Node.js Starter 2" for t in pane.templates))
    # Another project may have a template of that name.
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "insert into public.env_templates (project_id, name) values (%s, 'Node.js Starter')",
            (demo.PROJECT_BILLING,),
        )


async def test_a_name_over_200_characters_is_refused_in_the_dialog(fresh_db_url: str) -> None:
    before = query_one(fresh_db_url, COUNT, (demo.PROJECT_STOREFRONT,))
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        dialog = await _new_template(pilot)
        name = dialog.query_one("#f-name", Input)
        name.value = "🙂" * 201
        await _save_and_expect(pilot, "Name may have at most 200 characters.")
        assert name.value == "🙂" * 201  # kept whole, to be shortened
        assert query_one(fresh_db_url, COUNT, (demo.PROJECT_STOREFRONT,)) == before
        name.value = "🙂" * 200
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
    assert query_one(fresh_db_url, COUNT, (demo.PROJECT_STOREFRONT,)) == before + 1


async def test_a_long_name_is_cut_and_the_columns_stay_on_screen(fresh_db_url: str) -> None:
    long_name = "🙂" * 150
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute(
            "insert into public.env_templates (project_id, name, created_by)"
            " values (%s, %s, %s) returning id",
            (demo.PROJECT_STOREFRONT, long_name, demo.ALICE.id),
        ).fetchone()
    assert row is not None
    key = str(row[0])
    app = make_test_app(fresh_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("templates"))
        pane = app.main.query_one(TemplatesPane)
        rows = pane.query_one(FilterableTable)
        await wait_for(pilot, lambda: key in rows.table.rows and rows.table.size.width > 0)
        await pilot.pause(0.1)

        def fits() -> bool:
            table = rows.table
            cell = table.get_row(key)[0]
            widths = sum(c.get_render_width(table) for c in table.ordered_columns)
            return cell.plain.endswith("…") and widths <= table.size.width

        await wait_for(pilot, fits)
        cell = rows.table.get_row(key)[0]
        shown = cell.plain.rstrip("… ")
        assert shown
        assert long_name.startswith(shown)
        assert cell_len(cell.plain) < cell_len(long_name)
        # The filter still searches the whole name.
        assert any(r.search == long_name for r in rows._rows)

        await pilot.press("ctrl+b")  # the tree hidden: the pane is wider, the name less cut
        wider = cell_len(cell.plain)
        await wait_for(pilot, lambda: cell_len(rows.table.get_row(key)[0].plain) > wider)
        await wait_for(pilot, fits)
