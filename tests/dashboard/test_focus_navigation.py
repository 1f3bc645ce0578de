"""Focus and navigation: only places that act take focus, the focused panel shows, number
keys switch tabs, the tree filters, scrolls to a jump and keeps crowded projects collapsed,
dialog buttons say what enter does, notices merge and keep off a dialog's buttons."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.widgets import Button, TabbedContent, Tabs
from textual.widgets._toast import Toast

from devsync_tui.core.models import Environment, EnvStatus, Project, Team
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog
from devsync_tui.dashboard.widgets.nav_tree import COLLAPSE_OVER, NavPanel, NavTree, TreeFilter
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane
from tests.support import demo

pytestmark = pytest.mark.db


async def test_tab_moves_between_the_tree_and_the_table_only(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        assert isinstance(app.focused, NavTree)
        panel, views = app.main.query_one(NavPanel), app.main.query_one("#views")
        assert panel.has_class("-focused")
        assert not views.has_class("-focused")
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            await pilot.pause()
            seen.append(type(app.focused).__name__)
        assert seen == ["ConfigTable", "NavTree", "ConfigTable", "NavTree"]
        assert not any(t.can_focus for t in app.main.query(Tabs))
        await pilot.press("tab")
        await pilot.pause()
        assert views.has_class("-focused")
        assert not panel.has_class("-focused")


async def test_number_keys_show_tabs(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tabs = app.main.query_one(TabbedContent)
        for key, tab in [
            ("3", "config-drift"),
            ("4", "health"),
            ("7", "activity"),
            ("1", "configuration"),
        ]:
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == tab
        assert isinstance(app.focused, NavTree)  # the tree keeps the focus


async def test_slash_filters_the_tree(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tree = app.main.nav_tree
        await pilot.press("slash", *"stag")
        assert isinstance(app.focused, TreeFilter)
        await pilot.pause()
        names = {str(n.label).split(" ", 1)[-1] for n in tree._nodes_iter()}
        assert names == {"Acme", "storefront", "staging"}
        await pilot.press("enter")
        assert isinstance(app.focused, NavTree)
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert len(tree._nodes_iter()) == 1 + 2 + len(demo.ENVIRONMENTS)
        assert isinstance(app.focused, NavTree)


async def test_palette_jumps_to_a_key_of_another_project(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"DJANGO_SETTINGS")
        await pilot.pause(0.5)
        await pilot.press("enter")
        pane = config_pane(app)
        await wait_for(pilot, lambda: pane.rows_table.cursor_key == "DJANGO_SETTINGS_MODULE")
        sel = app.main.selection
        assert sel is not None
        assert sel.project is not None
        assert sel.project.id == demo.PROJECT_BILLING


async def test_palette_jumps_to_an_override_only_one_environment_has(demo_db_url: str) -> None:
    """BOB_DEBUG_PORT exists only as bob-laptop's override: the palette finds it from the
    project defaults' view and opens bob-laptop on it."""
    app = make_test_app(demo_db_url, "alice", project="billing-api")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"BOB_DEBUG")
        await pilot.pause(0.5)
        await pilot.press("enter")
        pane = config_pane(app)
        await wait_for(pilot, lambda: pane.rows_table.cursor_key == "BOB_DEBUG_PORT")
        sel = app.main.selection
        assert sel is not None
        assert sel.environment is not None
        assert sel.environment.id == demo.ENV_BOB_LAPTOP


def _crowd(envs: int) -> tuple[list[Team], list[Project], dict[UUID, Any], dict[UUID, str]]:
    team = Team(uuid4(), "Big", "big", uuid4())
    small, crowded = (Project(uuid4(), team.id, name) for name in ("api", "fleet"))
    environments = {
        small.id: (Environment(uuid4(), small.id, uuid4(), "dev", EnvStatus.ACTIVE),),
        crowded.id: tuple(
            Environment(uuid4(), crowded.id, uuid4(), f"m{i:03}", EnvStatus.ACTIVE)
            for i in range(envs)
        ),
    }
    return [team], [small, crowded], environments, {}


class _TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield NavPanel()


async def test_a_project_of_many_machines_opens_collapsed_and_jumps_scroll() -> None:
    teams, projects, environments, names = _crowd(COLLAPSE_OVER + 30)
    app = _TreeApp()
    async with app.run_test(size=(40, 12)) as pilot:
        tree = app.query_one(NavTree)
        tree.populate(teams, projects, environments, names)
        await pilot.pause()
        by_name = {
            n.data.project.name: n
            for n in tree._nodes_iter()
            if n.data and n.data.project and not n.data.environment
        }
        assert by_name["api"].is_expanded
        assert not by_name["fleet"].is_expanded
        last = environments[projects[1].id][-1]
        assert tree.select_item((teams[0].id, projects[1].id, last.id))
        await pilot.pause()
        await pilot.pause()
        assert tree.cursor_node is not None
        assert tree.cursor_node.data.environment == last
        assert tree.scroll_offset.y > 0  # the selection is in view, not below it
        line = tree.cursor_line - tree.scroll_offset.y
        assert 0 <= line < tree.size.height


async def test_dialog_buttons_enter_presses_the_focused_one_and_cancel_says_so(
    demo_db_url: str,
) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        answers: list[bool | None] = []
        app.push_screen(ConfirmDialog("Delete it?"), answers.append)
        await pilot.pause()
        dialog = app.screen
        focused = dialog.focused
        assert isinstance(focused, Button)
        assert focused.id == "cancel"
        # The focused button looks chosen (bold, reversed); the other does not.
        assert focused.styles.text_style.reverse
        assert not dialog.query_one("#confirm", Button).styles.text_style.reverse
        await pilot.press("enter")
        await pilot.pause()
        assert answers == [False]
        assert any(n.message.startswith("Cancelled") for n in app._notifications)
        app.push_screen(ConfirmDialog("Delete it?"), answers.append)
        await pilot.pause()
        await pilot.press("right")  # focus moves to the confirm button: enter confirms
        await pilot.press("tab")
        await pilot.pause()
        assert app.screen.focused is not None
        assert app.screen.focused.id == "confirm"
        assert app.screen.focused.styles.text_style.reverse
        await pilot.press("enter")
        await pilot.pause()
        assert answers == [False, True]


async def test_identical_notices_merge_and_keep_off_dialog_buttons(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", size=(80, 24), project="storefront")
    async with app.run_test(size=app.test_size, notifications=True) as pilot:
        await wait_ready(pilot)
        for _ in range(3):
            app.notify("Copied the value of LOG_LEVEL.")
        app.notify("Something else.")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages.count("Copied the value of LOG_LEVEL.") == 1
        app.push_screen(ConfirmDialog("Delete a key with a long question " * 4))
        await pilot.pause()
        app.notify("A notice while the dialog is open, long enough to take three lines " * 2)
        await wait_for(pilot, lambda: bool(app.screen.query(Toast)))
        await pilot.pause(0.2)
        # What is drawn on every cell of each button is the button, not a notice.
        toasts = list(app.screen.query(Toast))
        assert toasts
        for button in app.screen.query(Button):
            region = button.region
            for x in range(region.x, region.right):
                widget, _ = app.screen.get_widget_at(x, region.y)
                assert widget is button or button in widget.ancestors


async def test_help_names_each_action_for_the_keymap(demo_db_url: str) -> None:
    from devsync_tui.dashboard.screens.help import HelpScreen

    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")  # a secret alice may reveal and copy
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        ids = {row[1]: row[2] for row in app.screen.rows}
        assert ids["Reveal"] == "config.reveal"
        assert ids["Copy"] == "config.copy"
        assert ids["Tabs"] == "app.tab1…"
        assert "[keymap]" in str(app.screen.query_one(".dialog-note").render())
