"""The tables' keys as QA met them: a tab shown from a table gives its own table the focus
(the first time too), g/G/home/end reach the first and last row of every table (remappable),
compare offers `p` only where it promotes and says why not, a file's detail line promises
enter only where enter is offered, esc is offered only while there is something to clear,
and a deleted key leaves the cursor on the next row."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Footer, Select, TabbedContent

from devsync_tui.dashboard.panes.config_drift import ConfigDriftPane
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.panes.health import HealthPane
from devsync_tui.dashboard.screens.compare import CompareScreen
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from devsync_tui.dashboard.widgets.nav_tree import NavTree
from tests.dashboard.conftest import footer_settled, make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, stored
from tests.dashboard.test_config_drift import install_states
from tests.support import demo

pytestmark = pytest.mark.db


def _footer_keys(app: Any) -> set[str]:
    return {str(key.description) for key in app.main.query_one(Footer).query("FooterKey")}


def _table_of(app: Any, pane: type[DriftPane] | type[HealthPane]) -> Any:
    return app.main.query_one(pane).table


@pytest.mark.parametrize(
    ("keys", "pane", "offered"),
    [
        (["2"], DriftPane, {"Drifted only", "Sort", "Filter"}),
        (["4"], HealthPane, {"Sort", "Filter"}),
        (["right_square_bracket"], DriftPane, {"Drifted only", "Sort", "Filter"}),
    ],
)
async def test_a_tab_shown_from_a_table_gives_its_table_the_focus_the_first_time(
    demo_db_url: str, keys: list[str], pane: Any, offered: set[str]
) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is app.main.query_one("#config-table"))
        await pilot.press(*keys)
        table = _table_of(app, pane)
        await wait_for(pilot, lambda: app.focused is table)
        footer = app.main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer) and offered <= _footer_keys(app))
        await pilot.press("s")  # the table's keys work at once
        await wait_for(
            pilot,
            lambda: (
                app.main.query_one(pane).sort_by_severity
                if pane is DriftPane
                else app.main.query_one(pane).sort_index == 1
            ),
        )


async def test_a_tab_shown_from_the_tree_leaves_the_focus_in_the_tree(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        assert isinstance(app.focused, NavTree)
        await pilot.press("2")
        drift = app.main.query_one(DriftPane)
        await wait_for(pilot, lambda: drift.matrix is not None and not drift.loading_more)
        await wait_ready(pilot)
        assert isinstance(app.focused, NavTree)


async def test_g_and_end_reach_the_first_and_last_configuration_rows(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        table = app.main.query_one("#config-table", DataTable)
        table.focus()
        await pilot.pause()
        last = table.row_count - 1
        assert last > 2
        for key, row in [("G", last), ("g", 0), ("end", last), ("home", 0)]:
            await pilot.press(key)
            await wait_for(pilot, lambda row=row: table.cursor_row == row)


async def test_the_last_row_key_follows_the_keymap(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    app.settings.keymap = {"table.last": "z"}
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        table = app.main.query_one("#config-table", DataTable)
        table.focus()
        await pilot.pause()
        await pilot.press("z")
        await wait_for(pilot, lambda: table.cursor_row == table.row_count - 1)


async def _compare(app: Any, pilot: Any, other: str) -> CompareScreen:
    app.main.query_one("#config-table").focus()
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
    app.screen.query_one(Select).value = str(demo.ENVIRONMENTS_BY_NAME[other].id)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    await wait_for(pilot, lambda: screen.diff is not None)
    await pilot.pause()
    return screen


def _keys_line(screen: CompareScreen) -> str:
    return str(screen.query_one("#compare-keys").render())


async def test_compare_G_then_p_promotes_the_last_row(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="ci-runner")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _compare(app, pilot, "bob-laptop")
        assert screen.lines[-1].key == "LOG_LEVEL"
        await pilot.press("G")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "LOG_LEVEL" in str(app.screen.query_one(".dialog-text").render())
        await wait_for(pilot, lambda: getattr(app.screen.focused, "id", None) == "cancel")
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: "LOG_LEVEL" not in {x.key for x in screen.lines})
        value, _ = stored(fresh_db_url, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "LOG_LEVEL")
        assert value == "warn"
        await pilot.press("g")  # and back to the first row
        table = screen.query_one("#compare-table", DataTable)
        await wait_for(pilot, lambda: table.cursor_row == 0)


async def test_compare_says_why_p_is_not_offered(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "dave", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _compare(app, pilot, "staging")
        table = screen.query_one("#compare-table", DataTable)
        table.move_cursor(row=table.get_row_index("LOG_LEVEL"))
        await pilot.pause()
        line = _keys_line(screen)
        assert "You may not change staging" in line
        assert "copies" not in line
        assert "promote" not in {b.binding.action for b in screen.active_bindings.values()}


async def test_compare_line_follows_the_row(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="ci-runner")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _compare(app, pilot, "bob-laptop")
        assert "p copies the selected key from ci-runner to bob-laptop" in _keys_line(screen)
        table = screen.query_one("#compare-table", DataTable)
        table.move_cursor(row=table.get_row_index("BOB_DEBUG_PORT"))  # only in bob-laptop
        await wait_for(
            pilot, lambda: "BOB_DEBUG_PORT is not set in ci-runner" in _keys_line(screen)
        )
        assert "copies" not in _keys_line(screen)
        assert "promote" not in {b.binding.action for b in screen.active_bindings.values()}


@pytest.mark.parametrize(
    ("user", "key", "promised"),
    [
        ("dave", ".npmrc", False),  # another member's environment
        ("bob", ".npmrc", False),  # his own, but a file that runs code: admins only
        ("bob", "config/app.json", True),
        ("alice", ".npmrc", True),
    ],
)
async def test_a_file_key_promises_enter_only_where_enter_opens_it(
    demo_db_url: str, user: str, key: str, promised: bool
) -> None:
    app = make_test_app(demo_db_url, user, project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key(key)
        detail = pane.query_one("#config-detail")
        await wait_for(pilot, lambda: f"{key} = " in str(detail.render()))
        assert ("(enter opens it)" in str(detail.render())) is promised
        assert pane.check_action("edit", ()) is promised


async def test_esc_is_offered_only_while_there_is_something_to_clear(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one(TabbedContent).active = "dependencies"
        drift = app.main.query_one(DriftPane)
        await wait_for(pilot, lambda: drift.matrix is not None and not drift.loading_more)
        drift.table.focus()
        footer = app.main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer) and "Sort" in _footer_keys(app))
        assert "Clear" not in _footer_keys(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: footer_settled(footer) and "Clear" in _footer_keys(app))
        await pilot.press("slash", "l", "enter")
        await wait_for(pilot, lambda: app.focused is drift.table)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not drift.drifted_only and not drift.table.filter_text)
        await wait_for(pilot, lambda: footer_settled(footer) and "Clear" not in _footer_keys(app))
        assert "Sort" in _footer_keys(app)


@pytest.mark.parametrize(("key", "then"), [("FEATURE_FLAGS", "next"), (None, "previous")])
async def test_a_deleted_key_leaves_the_cursor_on_the_next_row(
    fresh_db_url: str, key: str | None, then: str
) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        table = pane.rows_table.table
        keys = [row.key.value for row in table.ordered_rows]
        key = key or keys[-1]
        index = keys.index(key)
        assert index > 0
        expected = keys[index + 1] if then == "next" else keys[index - 1]
        pane.go_to_key(key)
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await wait_for(pilot, lambda: getattr(app.screen.focused, "id", None) == "cancel")
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: app.screen is app.main)
        await wait_for(pilot, lambda: table.row_count == len(keys) - 1)
        await wait_ready(pilot)
        assert pane.rows_table.cursor_key == expected


async def test_config_drift_takes_the_focus_and_offers_esc_only_to_clear(
    fresh_db_url: str,
) -> None:
    install_states(fresh_db_url)  # machines have reported: the matrix is shown, not a message
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is app.main.query_one("#config-table"))
        await pilot.press("3")
        pane = app.main.query_one(ConfigDriftPane)
        await wait_for(pilot, lambda: app.focused is pane.table)
        footer = app.main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer) and "Filter" in _footer_keys(app))
        assert "Clear" not in _footer_keys(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: footer_settled(footer) and "Clear" in _footer_keys(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not pane.drifted_only)
        await wait_for(pilot, lambda: footer_settled(footer) and "Clear" not in _footer_keys(app))
