"""Fixes from a QA pass, each checked as the user sees it: the activity log stays current, the
filter box is one readable line, values use the width there is, export asks before replacing,
a multi-line paste is kept, conflict texts match the case, and a restored draft can be
discarded."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest
from textual import events
from textual.widgets import Input, Static, TabbedContent, TextArea

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.drafts import DraftStore
from devsync_tui.dashboard.panes.activity import ActivityPane
from devsync_tui.dashboard.panes.config_actions import safe_file_name
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from devsync_tui.dashboard.screens.conflict import ConflictDialog
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane, other_client, stored
from tests.support import demo

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


async def _tab(pilot, name: str) -> None:
    pilot.app.main.query_one(TabbedContent).active = name
    await pilot.pause()


async def _edit(pilot, key: str) -> ConfigEditor:
    config_pane(pilot.app).go_to_key(key)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfigEditor))
    editor = pilot.app.screen
    assert isinstance(editor, ConfigEditor)
    return editor


def _visible_rows(pane: ActivityPane) -> list[str]:
    """The "What" of the activity rows on screen, top first (scrolled-away rows excluded)."""
    table = pane.query_one("#activity-rows", FilterableTable).table
    first = int(table.scroll_y)
    return [str(table.get_row_at(i)[2]) for i in range(first, min(first + 3, table.row_count))]


# -- 1. activity ------------------------------------------------------------------------------
async def test_activity_shows_entries_made_while_its_tab_was_hidden(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _tab(pilot, "activity")
        await wait_ready(pilot)
        pane = app.main.query_one(ActivityPane)
        pane.query_one("#activity-rows", FilterableTable).focus_table()
        await _tab(pilot, "configuration")
        async with other_client(fresh_db_url, "bob") as bob:
            for version, value in ((1, "9001"), (2, "9002")):
                await bob.save_configuration(
                    STORE, BOB_ENV, "BOB_DEBUG_PORT", value,
                    is_secret=False, type=ConfigType.ENV_VAR, expected_version=version,
                )  # fmt: skip
                await pilot.pause(0.3)
        # Both changes reached the (hidden) pane through the live feed.
        await wait_for(pilot, lambda: pane._entries[0].details.get("version") == 3)
        # Another selection and back, then the tab: the newest entry is the first row shown.
        tree = app.main.nav_tree
        tree.select_item((demo.TEAM_ACME, STORE, BOB_ENV))
        await wait_ready(pilot)
        tree.select_item((demo.TEAM_ACME, STORE, None))
        await wait_ready(pilot)
        await _tab(pilot, "activity")
        await pilot.pause(0.2)
        shown = _visible_rows(pane)
        assert shown[:2] == ["changed BOB_DEBUG_PORT (v3)", "changed BOB_DEBUG_PORT (v2)"]
        # Same four columns, all of them inside the pane.
        table = pane.query_one("#activity-rows", FilterableTable).table
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["When", "Who", "What", "Where"]
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= pane.size.width


# -- 2. filter box ----------------------------------------------------------------------------
@pytest.mark.parametrize("tab", ["configuration", "templates"])
async def test_filter_box_is_one_visible_line(demo_db_url: str, tab: str) -> None:
    app = make_test_app(demo_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _tab(pilot, tab)
        await wait_ready(pilot)
        rows = app.main.query_one(f"#{tab}").query_one(FilterableTable)
        rows.focus_table()
        await pilot.press("slash", "L", "O")
        box = rows.query_one("#filter", Input)
        assert box.has_focus
        assert box.region.height == 1
        line = "".join(segment.text for segment in box.render_line(0))
        assert "LO" in line


async def test_detail_line_follows_the_filter(demo_db_url: str) -> None:
    app = make_test_app(
        demo_db_url, "alice", size=(120, 30), project="storefront", env="bob-laptop"
    )
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.pause()
        detail = pane.query_one("#config-detail", Static)
        assert "Secret" in str(detail.render())
        await pilot.press("slash", *"BOB_DEBUG")
        await pilot.pause()
        assert pane.rows_table.cursor_key == "BOB_DEBUG_PORT"
        text = str(detail.render())
        assert "Secret" not in text
        assert "environment" in text
        await pilot.press(*"zzz")
        await pilot.pause()
        assert pane.rows_table.cursor_key is None
        assert str(detail.render()).strip() == ""


# -- 3. value width ---------------------------------------------------------------------------
async def test_value_column_uses_the_room_the_tree_leaves(fresh_db_url: str) -> None:
    app = make_test_app(
        fresh_db_url, "alice", size=(100, 30), project="storefront", env="bob-laptop"
    )
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.press("r")
        await wait_for(pilot, lambda: any(pane.revealed))
        with_tree = len(cell_text(pane, "DATABASE_URL", 1))
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: pane.size.width == 100)
        await wait_for(pilot, lambda: len(cell_text(pane, "DATABASE_URL", 1)) > with_tree)
        without_tree = len(cell_text(pane, "DATABASE_URL", 1))
        assert without_tree >= with_tree + 20
        # The whole table still fits: nothing is pushed out of sight on the right.
        table = pane.rows_table.table
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= pane.size.width
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: len(cell_text(pane, "DATABASE_URL", 1)) == with_tree)


# -- 4. export --------------------------------------------------------------------------------
def test_safe_file_name() -> None:
    assert safe_file_name("qa/env ../x") == "qa_env_._x"
    assert safe_file_name("..hidden") == "hidden"
    assert safe_file_name("/") == "devsync"
    assert safe_file_name("bob-laptop") == "bob-laptop"
    for name in ("a/b", "../../etc/passwd", ".x", "~/x", "a\\b"):
        cleaned = safe_file_name(name)
        assert "/" not in cleaned
        assert "\\" not in cleaned
        assert not cleaned.startswith(".")


async def test_export_name_is_safe_and_replacing_asks_first(
    fresh_db_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "update public.environments set name = 'qa/env ../x' where id = %s", (BOB_ENV,)
        )
    target = tmp_path / "out.env"
    target.write_text("KEEP=1\n")
    os.chmod(target, 0o644)
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="qa/env ../x")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()

        async def export(answer: str) -> None:
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
            field = app.screen.query_one("#f-path", Input)
            assert field.value == "qa_env_._x.env"
            field.value = str(target)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert f"Replace {target}?" in str(app.screen.query_one(".dialog-text").render())
            await pilot.click(answer)
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))

        await export("#cancel")
        await pilot.pause(0.3)
        assert target.read_text() == "KEEP=1\n"
        await export("#confirm")
        await wait_for(pilot, lambda: "BOB_DEBUG_PORT" in target.read_text())
        assert "KEEP=1" not in target.read_text()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


# -- 5. multi-line paste ----------------------------------------------------------------------
async def test_multi_line_paste_into_an_env_var_is_kept(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        line = editor.query_one("#editor-line", Input)
        line.value = ""
        line.post_message(events.Paste("A\nB"))
        await wait_for(pilot, lambda: editor.value() == "A\nB")
        area = editor.query_one("#editor-area", TextArea)
        assert area.display
        assert area.has_focus
        assert not line.display
        assert "2 lines" in str(editor.query_one("#editor-note", Static).render())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
    assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("A\nB", 2)


async def test_one_line_paste_still_goes_into_the_line(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        line = editor.query_one("#editor-line", Input)
        line.value = ""
        line.post_message(events.Paste("9333\n"))
        await wait_for(pilot, lambda: line.value == "9333")
        assert line.display
        assert not editor.query_one("#editor-area", TextArea).display


# -- 6. conflict wording ----------------------------------------------------------------------
async def test_delete_conflict_on_a_plain_key_shows_its_value(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("NODE_ENV")
        _, version = stored(fresh_db_url, STORE, None, "NODE_ENV")
        async with other_client(fresh_db_url, "erin") as erin:
            await erin.save_configuration(
                STORE, None, "NODE_ENV", "staging-changed",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=version,
            )  # fmt: skip
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#confirm")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmDialog)
                and "Someone changed" in str(app.screen.query_one(".dialog-text").render())
            ),
        )
        text = str(app.screen.query_one(".dialog-text").render())
        assert "staging-changed" in text
        assert "secret" not in text
        await pilot.click("#confirm")
        await wait_for(
            pilot,
            lambda: (
                psycopg.connect(fresh_db_url)
                .execute(
                    "select count(*) from public.configurations where project_id = %s "
                    "and environment_id is null and key = 'NODE_ENV'",
                    (STORE,),
                )
                .fetchone()[0]
                == 0
            ),
        )


async def test_conflict_after_a_delete_says_deleted_not_secret(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        row = next(r for r in config_pane(app).view.rows if r.key == "BOB_DEBUG_PORT")  # type: ignore[union-attr]
        async with other_client(fresh_db_url, "bob") as other:
            await other.delete_configuration(row.configuration_id, row.version)
        editor.query_one("#editor-line", Input).value = "9555"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        texts = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "deleted" in texts
        assert "secret" not in texts


# -- 7. discard a draft -----------------------------------------------------------------------
async def test_discard_draft_restores_the_stored_value(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert not editor.query_one("#discard").display  # nothing to discard yet
        editor.query_one("#editor-line", Input).value = "9777"
        await pilot.pause(0.5)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        assert list(DraftStore().root.glob("*.json"))
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert editor.query_one("#editor-line", Input).value == "9777"
        assert editor.query_one("#discard").display
        assert "ctrl+d" in str(editor.query_one("#editor-note", Static).render())
        await pilot.press("ctrl+d")
        await pilot.pause(0.5)
        assert editor.query_one("#editor-line", Input).value == "9229"
        assert not editor.query_one("#discard").display
        assert list(DraftStore().root.glob("*")) == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        editor = await _edit(pilot, "BOB_DEBUG_PORT")
        assert editor.query_one("#editor-line", Input).value == "9229"
        # Without a draft, ctrl+d is the value box's own key again (delete to the right).
        line = editor.query_one("#editor-line", Input)
        line.cursor_position = 0
        await pilot.press("ctrl+d")
        assert line.value == "229"
