"""The tree's keys act only on the node under its cursor that is on screen (a filter that hides
it leaves nothing selected), `esc` clears an applied filter, and the status marks turn stale
as time passes, by Health's rule and clock, without reading anything again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from devsync_tui.core import clock
from devsync_tui.core.models import EnvStatus
from devsync_tui.core.staleness import STALE, shown_status
from devsync_tui.dashboard.app import DevSyncApp
from devsync_tui.dashboard.screens.dialogs import FormDialog
from devsync_tui.dashboard.screens.main import MainScreen
from devsync_tui.dashboard.widgets import nav_tree
from devsync_tui.dashboard.widgets.footer import Footer
from devsync_tui.dashboard.widgets.nav_tree import NavTree
from tests.dashboard.conftest import footer_settled, make_test_app, wait_for, wait_ready
from tests.dashboard.pane_host import freeze_clock_to_seed
from tests.support import demo

pytestmark = pytest.mark.db

STOREFRONT = (demo.TEAM_ACME, demo.PROJECT_STOREFRONT, None)
NOTHING_SELECTED = "Select a team, project or environment first."


def _offered(app: DevSyncApp) -> dict[str, str | None]:
    """The keys the main screen offers in its footer now: key -> command id."""
    return {
        key: active.binding.id
        for key, active in app.main.active_bindings.items()
        if active.binding.show and active.enabled
    }


def _footer(app: DevSyncApp) -> set[str]:
    return {str(key.description) for key in app.main.query_one(Footer).query(FooterKey)}


async def test_keys_do_nothing_to_a_node_the_filter_hides(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main, tree = app.main, app.main.nav_tree
        assert tree.has_focus
        assert {"d", "e"} <= _offered(app).keys()  # alice is an admin of Acme
        assert "escape" not in _offered(app)  # no filter: nothing for esc to clear

        await pilot.press("slash", *"zzz", "enter")
        await wait_for(pilot, lambda: tree.has_focus and not tree._nodes_iter())
        assert tree.cursor_item() is None
        assert main.check_action("delete_item", ()) is False
        assert main.check_action("rename_item", ()) is False
        offered = _offered(app)
        assert "d" not in offered
        assert "e" not in offered
        assert offered["escape"] == "tree.clear"
        footer = main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer))
        assert "Clear" in _footer(app)
        assert not {"Delete", "Rename"} & _footer(app)

        await pilot.press("d", "e")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MainScreen)  # no question, no rename dialog
        # Run anyway (as a stale palette entry could): nothing selected, said so.
        main.action_delete_item()
        await wait_for(
            pilot, lambda: any(n.message == NOTHING_SELECTED for n in app._notifications)
        )
        await pilot.pause(0.1)
        assert isinstance(app.screen, MainScreen)

        # esc in the tree clears the applied filter: everything again, the cursor back.
        await pilot.press("escape")
        await wait_for(pilot, lambda: not tree.filter_text and bool(tree._nodes_iter()))
        assert len(tree._nodes_iter()) == 1 + 2 + len(demo.ENVIRONMENTS)
        assert tree.has_focus
        await wait_for(pilot, lambda: tree.cursor_item() is not None)
        item = tree.cursor_item()
        assert item is not None
        assert item.key == STOREFRONT
        await wait_for(pilot, lambda: {"d", "e"} <= _offered(app).keys())
        assert "escape" not in _offered(app)
        await wait_for(pilot, lambda: footer_settled(footer))
        assert "Clear" not in _footer(app)


async def test_keys_act_on_what_the_filter_leaves_under_the_cursor(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main, tree = app.main, app.main.nav_tree
        # storefront is filtered out; its team (which holds billing-api) stays, the cursor on it.
        await pilot.press("slash", *"billing", "enter")
        await wait_for(pilot, lambda: tree.has_focus and tree.filter_text == "billing")
        await wait_for(pilot, lambda: main.selection is not None and main.selection.project is None)
        item = tree.cursor_item()
        assert item is not None
        assert item.key == (demo.TEAM_ACME, None, None)
        assert main._acted_on() is main.selection
        await pilot.press("e")
        await wait_for(pilot, lambda: not isinstance(app.screen, MainScreen))
        assert isinstance(app.screen, FormDialog)
        assert app.screen._title == "Rename team"


@pytest.fixture
def seed_clock(demo_db_url: str) -> Iterator[None]:
    freeze_clock_to_seed(demo_db_url)  # ci-runner last reported a minute ago: syncing
    yield
    clock.freeze(None)


def _mark(tree: NavTree, name: str) -> str:
    for node in tree._nodes_iter():
        item = node.data
        if item is not None and item.environment is not None and item.environment.name == name:
            return str(node.label)[0]
    raise AssertionError(f"{name} is not in the tree")


async def test_a_machine_turns_stale_in_the_tree_as_time_passes(
    demo_db_url: str, seed_clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nav_tree, "MARK_TICK_SECONDS", 0.05)
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tree = app.main.nav_tree
        assert _mark(tree, "ci-runner") == "◐"  # syncing, reported a minute ago
        assert _mark(tree, "staging") == "◌"  # missed two reports already
        populated: list[Any] = []
        populate = tree.populate

        def counted(*data: Any) -> None:
            populated.append(data)
            populate(*data)

        monkeypatch.setattr(tree, "populate", counted)
        await pilot.pause(0.2)
        assert _mark(tree, "ci-runner") == "◐"  # the tick changes only what time changed

        # Two intervals and a second without a report: Health calls it stale, and so does
        # the tree, with nothing read again.
        later = clock.now() + timedelta(minutes=1, seconds=1)
        clock.freeze(later)
        data = app.main._data
        assert data is not None
        envs = data.environments[demo.PROJECT_STOREFRONT]
        ci = next(e for e in envs if e.id == demo.ENV_CI_RUNNER)
        assert shown_status(EnvStatus(ci.status), ci.last_sync_at, clock.now()) == STALE
        await wait_for(pilot, lambda: _mark(tree, "ci-runner") == "◌")
        assert _mark(tree, "staging") == "◌"
        assert populated == []


async def test_clearing_the_filter_restores_what_was_expanded(demo_db_url: str) -> None:
    """A filter expands every match and drops what does not match; cleared, the tree is
    expanded as it was before: billing-api open again, storefront (closed by hand) closed."""
    app = make_test_app(demo_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        tree = app.main.nav_tree

        def expanded() -> dict[str, bool]:
            return {
                str(node.data.project.name): node.is_expanded
                for node in tree._nodes_iter()
                if node.data is not None
                and node.data.project is not None
                and node.data.environment is None
            }

        assert expanded() == {"billing-api": True, "storefront": True}
        storefront = next(n for n in tree._nodes_iter() if n.data and n.data.key == STOREFRONT)
        storefront.collapse()
        await pilot.pause()
        await pilot.press("slash", *"bob", "enter")
        await wait_for(pilot, lambda: "billing-api" not in expanded())
        assert expanded() == {"storefront": True}  # the match is shown, its project open
        await pilot.press("escape")
        await wait_for(pilot, lambda: not tree.filter_text)
        await pilot.pause()
        assert expanded() == {"billing-api": True, "storefront": False}
