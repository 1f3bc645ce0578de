"""Compare two environments in the dashboard (as `devsync env diff`, secrets masked) and
promote a key from one to the other under the normal write rules."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from devsync_tui.dashboard.screens.compare import CompareScreen
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import stored
from tests.support import demo

pytestmark = pytest.mark.db


async def _open_compare(app, pilot, other: str) -> CompareScreen:  # type: ignore[no-untyped-def]
    app.main.query_one("#config-table").focus()
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
    select = app.screen.query_one(Select)
    select.value = str(demo.ENVIRONMENTS_BY_NAME[other].id)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    await wait_for(pilot, lambda: screen.diff is not None)
    return screen


async def test_compare_shows_the_cli_diff_masked_and_promotes(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="ci-runner")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _open_compare(app, pilot, "bob-laptop")
        marks = {line.key: line.mark for line in screen.lines}
        assert marks == {
            "API_BASE_URL": "~", "BOB_DEBUG_PORT": "+", "CI": "-", "DATABASE_URL": "~",
            "LOG_LEVEL": "~",
        }  # fmt: skip
        secret = next(line for line in screen.lines if line.key == "DATABASE_URL")
        assert secret.a == "••••••••"
        assert "postgres" not in secret.b
        table = screen.query_one("#compare-table")
        table.move_cursor(row=table.get_row_index("LOG_LEVEL"))
        await pilot.pause()
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await wait_for(pilot, lambda: getattr(app.screen.focused, "id", None) == "cancel")
        await pilot.press("tab", "enter")  # the confirm button
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: "LOG_LEVEL" not in {x.key for x in screen.lines})
        value, _version = stored(
            fresh_db_url, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "LOG_LEVEL"
        )
        assert value == "warn"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)


async def test_promote_is_not_offered_into_an_environment_one_may_not_change(
    fresh_db_url: str,
) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _open_compare(app, pilot, "staging")
        assert screen.lines
        await pilot.pause()
        offered = {b.binding.action for b in screen.active_bindings.values()}
        assert "promote" not in offered
        await pilot.press("p")
        await pilot.pause()
        assert app.screen is screen  # nothing asked, nothing written
        assert screen.promote_refusal(screen.lines[0]) == "You may not change staging."
