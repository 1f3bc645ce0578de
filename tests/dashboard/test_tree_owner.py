"""The tree's `o`: an admin gives an environment to a member or admin of its team (a dialog of
the team's members and admins, the current owner chosen); others are not offered it. And what
is created in the tree is shown: its parents expanded, the cursor on it, its view open."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Select

from devsync_tui.dashboard.screens.dialogs import FormDialog
from devsync_tui.dashboard.screens.help import HelpScreen
from devsync_tui.dashboard.screens.tree_actions import tree_refusal
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.support import demo

pytestmark = pytest.mark.db


def _notified(app: Any, text: str) -> bool:
    return any(n.message == text for n in app._notifications)


async def test_alice_gives_bob_laptop_to_dave(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main = app.main
        assert main.selection is not None
        assert main.selection.owner == "bob"
        assert main.selection.title.endswith("bob-laptop (bob)")
        main.nav_tree.focus()
        assert main.check_action("change_owner", ()) is True
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        select = app.screen.query_one("#f-owner", Select)
        assert select.value == str(demo.BOB.id)  # the current owner, chosen
        offered = {label for label, _ in select._options if label}  # type: ignore[attr-defined]
        assert {str(o) for o in offered} == {
            "alice (admin)",
            "bob (member)",
            "dave (member)",
            "erin (admin)",
        }  # carol is a viewer: not offered
        select.value = str(demo.DAVE.id)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        await wait_for(pilot, lambda: _notified(app, "storefront/bob-laptop now belongs to dave."))
        await wait_for(pilot, lambda: main.selection is not None and main.selection.owner == "dave")
        assert main.selection is not None
        assert main.selection.title.endswith("bob-laptop (dave)")
        assert main.selection.environment is not None
        assert main.selection.environment.user_id == demo.DAVE.id


@pytest.mark.parametrize("user", ["dave", "bob", "carol"])
async def test_only_admins_are_offered_it(demo_db_url: str, user: str) -> None:
    app = make_test_app(demo_db_url, user, project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main = app.main
        main.nav_tree.focus()
        assert main.check_action("change_owner", ()) is False
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        # run anyway (a stale palette entry could): the rule's sentence
        main.action_change_owner()
        said = "Only the team's admins can change who owns an environment."
        await wait_for(pilot, lambda: _notified(app, said))
        assert tree_refusal(main.session, main.selection, "owner") == said


async def test_help_names_the_owner_and_expand_keys(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        ids = {row[2] for row in app.screen.rows}
        assert {"tree.owner", "tree.toggle", "tree.expand", "tree.collapse"} <= ids


async def test_arrows_expand_and_collapse_tree_nodes(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tree = app.main.nav_tree
        tree.focus()
        node = tree.cursor_node
        assert node is not None
        assert node.data is not None
        assert node.data.project is not None
        assert node.is_expanded
        await pilot.press("left")
        assert not node.is_expanded
        await pilot.press("right")
        assert node.is_expanded
        await pilot.press("right")  # expanded: into its first environment
        assert tree.cursor_node is node.children[0]
        await pilot.press("left")  # a leaf: back to what holds it
        assert tree.cursor_node is node


async def test_a_new_environment_is_shown_and_selected(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main = app.main
        tree = main.nav_tree
        tree.focus()
        project_node = tree.cursor_node
        assert project_node is not None
        project_node.collapse()  # collapsed: the new item must still be shown
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        app.screen.query_one("#f-name", Input).value = "alice-desktop"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        await wait_for(
            pilot,
            lambda: (
                main.selection is not None
                and main.selection.environment is not None
                and main.selection.environment.name == "alice-desktop"
            ),
        )
        item = tree.cursor_item()
        assert item is not None
        assert item.environment is not None
        assert item.environment.name == "alice-desktop"
        assert tree.cursor_node is not None
        assert tree.cursor_node.parent is not None
        assert tree.cursor_node.parent.is_expanded


async def test_a_new_project_is_shown_and_selected(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main = app.main
        tree = main.nav_tree
        tree.focus()
        await pilot.press("left")  # the project collapsed
        await pilot.press("left")  # up to its team
        item = tree.cursor_item()
        assert item is not None
        assert item.project is None
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        app.screen.query_one("#f-name", Input).value = "mobile-app"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        await wait_for(
            pilot,
            lambda: (
                main.selection is not None
                and main.selection.project is not None
                and main.selection.project.name == "mobile-app"
                and main.selection.environment is None
            ),
        )
