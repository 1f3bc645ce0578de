"""Navigation: start targets, the command palette, help, the tree, the tables' filter."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, TabbedContent

from devsync_tui.dashboard.screens.help import HelpScreen
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane
from tests.support import demo

pytestmark = pytest.mark.db


async def test_start_on_an_environment(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        sel = app.main.selection
        assert sel is not None
        assert sel.environment is not None
        assert sel.environment.id == demo.ENV_BOB_LAPTOP
        assert app.main.header.role == "member"
        assert app.main.header.link == "live"


@pytest.mark.parametrize(
    "env", ["bob-laptop", "storefront/bob-laptop", "acme/storefront/bob-laptop"]
)
async def test_start_on_an_environment_named_without_its_project(
    demo_db_url: str, env: str
) -> None:
    """``devsync --env E`` and ``--env P/E``, as the data commands take them."""
    app = make_test_app(demo_db_url, "bob", env=env)
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        sel = app.main.selection
        assert sel is not None
        assert sel.environment is not None
        assert sel.environment.id == demo.ENV_BOB_LAPTOP


async def test_unknown_target_says_so_and_opens_the_first_project(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="nope")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        assert any("Nothing called “nope”" in n.message for n in app._notifications)
        assert app.main.selection is not None
        assert app.main.selection.project is not None


async def test_palette_jumps_to_an_environment(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="billing-api")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"staging")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                app.main.selection is not None
                and app.main.selection.environment is not None
                and app.main.selection.environment.id == demo.ENV_STAGING
            ),
        )


async def test_palette_runs_an_action(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()  # the palette reaches the tabs' actions from anywhere
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"History")
        await pilot.pause(0.5)
        await pilot.press("enter")
        from devsync_tui.dashboard.screens.history import HistoryScreen

        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))


async def test_palette_switches_tabs_and_lists_no_widget_internals(demo_db_url: str) -> None:
    from devsync_tui.dashboard.palette import ActionsProvider

    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")  # a secret: Reveal is offered
        await pilot.pause()
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        names = {action.name for action in ActionsProvider(app.main)._actions()}
        assert {"Show Members", "Show Dependencies", "New team", "Reveal"} <= names
        assert not names & {"Cursor left", "Page left", "Focus Next", "Cursor up"}
        await pilot.press(*"Show Members")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.query_one(TabbedContent).active == "members")


async def test_help_lists_the_keys_of_this_screen(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")  # a secret: Reveal is offered
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        names = {row[1] for row in app.screen.rows}
        assert {"Edit", "Reveal", "Copy", "History", "Export", "Filter", "Help"} <= names
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_keymap_from_settings(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    app.settings.keymap = {"reveal": "v"}  # a bare action name maps to config.reveal too
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = app.main.query_one("ConfigurationPane")
        pane.go_to_key("DATABASE_URL")
        detail = pane.query_one("#config-detail")
        # Sentences name the key as remapped, not the default r.
        await wait_for(pilot, lambda: "Secret: v reveals it" in str(detail.render()))
        await pilot.press("v")
        await wait_for(pilot, lambda: bool(pane.revealed))
        await wait_for(pilot, lambda: "masked again shortly or on v." in str(detail.render()))


async def test_unknown_theme_and_keymap_names_are_said(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    app.settings.theme = "solarised-purple"
    app.settings.keymap = {"reveal": "v", "teleport": "t", "config.nothing": "z"}
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        said = [n.message for n in app._notifications]
        assert any("'solarised-purple'" in m and "textual-dark" in m for m in said)
        assert any("config.nothing, teleport" in m for m in said)
        assert not any("reveal" in m for m in said)


async def test_tabs_switch_with_brackets(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tabs = app.main.query_one(TabbedContent)
        await pilot.press("right_square_bracket")
        assert tabs.active == "dependencies"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert tabs.active == "activity"


async def test_slash_filters_the_table(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#config-table").focus()
        await pilot.press("slash", *"stripe")
        table = app.main.query_one("#config-table")
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == len(demo.STOREFRONT_DEFAULT_KEYS))


@pytest.mark.parametrize("tab", ["configuration", "templates"])
async def test_filter_box_is_one_visible_line(demo_db_url: str, tab: str) -> None:
    app = make_test_app(demo_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one(TabbedContent).active = tab
        await pilot.pause()
        await wait_ready(pilot)
        rows = app.main.query_one(f"#{tab}").query_one(FilterableTable)
        rows.focus_table()
        await pilot.press("slash", "L", "O")
        box = rows.query_one("#filter", Input)
        assert box.has_focus
        assert box.region.height == 1
        line = "".join(segment.text for segment in box.render_line(0))
        assert "LO" in line
