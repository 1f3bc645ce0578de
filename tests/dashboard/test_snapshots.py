"""Snapshots of every screen and dialog at 80×24 and 120×40.

Deterministic: the clock is frozen relative to the seed (``frozen_clock``), no animations, no
cursor blink, the header's workspace label pinned. Update after a deliberate visual change with
``pytest tests/dashboard/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent

from devsync_tui.backend.errors import Unavailable
from devsync_tui.core import clock
from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.app import make_app
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from devsync_tui.dashboard.screens.conflict import ConflictDialog
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from devsync_tui.dashboard.screens.help import HelpScreen
from devsync_tui.dashboard.screens.history import HistoryScreen
from devsync_tui.dashboard.widgets.footer import Footer
from devsync_tui.settings import Settings
from tests.dashboard.conftest import footer_settled, make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, other_client
from tests.support import demo

pytestmark = pytest.mark.db

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Steps = Callable[[Pilot[Any]], Awaitable[None]]


def _tab(name: str) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await wait_ready(pilot)
        pilot.app.main.query_one(TabbedContent).active = name
        await wait_ready(pilot)
        pilot.app.main.query_one(f"#{name}").query_one("DataTable").focus()
        await wait_ready(pilot)

    return run


async def _config_focus(pilot: Pilot[Any], key: str = "DATABASE_URL") -> None:
    await wait_ready(pilot)
    config_pane(pilot.app).go_to_key(key)
    await wait_ready(pilot)


def _dialog(key: str | None, press: str, kind: type) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await _config_focus(pilot, key or "API_BASE_URL")
        await pilot.press(press)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
        await wait_ready(pilot)
        await pilot.pause(0.1)  # let the dialog's first focus settle (CI machines are busy)

    return run


def _tree_key(key: str) -> Steps:
    """Press ``key`` in the tree (new, rename, new team) and wait for its dialog."""

    async def run(pilot: Pilot[Any]) -> None:
        await wait_ready(pilot)
        pilot.app.main.nav_tree.focus()
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
        await wait_ready(pilot)
        await pilot.pause(0.1)

    return run


async def _palette(pilot: Pilot[Any]) -> None:
    await _config_focus(pilot)
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    pilot.app.screen.query_one(Input).value = "reveal"
    await wait_for(pilot, lambda: pilot.app.screen.query_one(CommandList).option_count > 0)
    await pilot.pause(0.3)  # the palette searches in a worker; let its list settle


async def _help(pilot: Pilot[Any]) -> None:
    await _config_focus(pilot)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))


SCREENS: dict[str, tuple[str, dict[str, str], Steps]] = {
    "env_config_bob": ("bob", {"project": "storefront", "env": "bob-laptop"}, _config_focus),
    "project_config_carol": ("carol", {"project": "storefront"}, _config_focus),
    "members_alice": ("alice", {"team": "acme"}, _tab("members")),
    "templates_bob": ("bob", {"project": "storefront"}, _tab("templates")),
    "activity_alice": ("alice", {"project": "storefront"}, _tab("activity")),
    "editor_env_var": ("alice", {"project": "storefront"}, _dialog("API_BASE_URL", "enter",
                                                                   ConfigEditor)),
    "editor_file": ("alice", {"project": "storefront"}, _dialog("config/app.json", "enter",
                                                                ConfigEditor)),
    "new_key": ("alice", {"project": "storefront"}, _dialog(None, "n", ConfigEditor)),
    "history": ("alice", {"project": "storefront"}, _dialog("LOG_LEVEL", "h", HistoryScreen)),
    "confirm_delete": ("alice", {"project": "storefront"}, _dialog("NODE_ENV", "d",
                                                                   ConfirmDialog)),
    "new_environment": ("bob", {"project": "storefront"}, _tree_key("n")),
    "new_team": ("alice", {"project": "storefront"}, _tree_key("N")),
    "rename_project": ("alice", {"project": "storefront"}, _tree_key("e")),
    "export": ("alice", {"project": "storefront"}, _dialog(None, "x", FormDialog)),
    "palette": ("alice", {"project": "storefront"}, _palette),
    "help": ("alice", {"project": "storefront"}, _help),
}  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(
    snap_compare: Any, demo_db_url: str, frozen_clock: Any, name: str, size: tuple[int, int]
) -> None:
    user, target, steps = SCREENS[name]
    app = make_test_app(demo_db_url, user, size=size, **target)
    assert snap_compare(app, terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", SIZES)
def test_conflict_dialog(
    snap_compare: Any, fresh_db_url: str, frozen_clock: Any, size: tuple[int, int]
) -> None:
    app = make_test_app(fresh_db_url, "bob", size=size, project="storefront", env="bob-laptop")

    async def steps(pilot: Pilot[Any]) -> None:
        await _config_focus(pilot, "BOB_DEBUG_PORT")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfigEditor))
        async with other_client(fresh_db_url, "bob") as other:
            await other.save_configuration(
                demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "BOB_DEBUG_PORT", "9000",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=1,
            )  # fmt: skip
        pilot.app.screen.query_one("#editor-line", Input).value = "9444"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictDialog))
        pane = config_pane(pilot.app)
        await wait_for(pilot, lambda: not pane.rows_table._flashing)  # the live flash is over
        await wait_ready(pilot)
        pilot.app.clear_notifications()

    # The conflicting write happens now, minutes after the seed was loaded (more minutes the
    # later this test runs in the session): 30.5 days on, every row reads in whole days and
    # the write reads "30 d ago" whether it came 1 minute or 11 hours after the seed.
    clock.freeze(frozen_clock + timedelta(days=30, hours=12))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def _starting_app(*, line: str | None = None, error: str | None = None) -> Any:
    """The app before it is connected: a first start reporting ``line`` (and taking its
    time), or one that fails with ``error``."""

    async def factory(settings: Any, *, profile: Any, user: Any, progress: Any) -> Any:
        if error is not None:
            raise Unavailable(error)
        progress(line)
        await asyncio.Event().wait()  # still creating the database

    return make_app(Settings(), factory, user="alice", animations=False)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("progress", "error"),
    [
        pytest.param(
            "Creating the local database in /home/you/.local/share/devsync", None, id="first_start"
        ),
        pytest.param(
            None, "The local database could not be started: disk full", id="cannot_connect"
        ),
    ],
)
def test_before_connecting(
    snap_compare: Any, progress: str | None, error: str | None, size: tuple[int, int]
) -> None:
    app = _starting_app(line=progress, error=error)
    expected = progress or error or ""

    async def steps(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: pilot.app.main_or_none is not None)
        line = pilot.app.main.query_one("#status-line")
        await wait_for(pilot, lambda: expected in str(line.render()))
        # The footer's keys come once the screen's bindings are known and its layout has
        # settled (over a second after the status line on a loaded machine): not a fixed wait.
        footer = pilot.app.main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer), within=20)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=steps)
