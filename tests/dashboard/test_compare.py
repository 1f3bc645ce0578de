"""Compare two environments in the dashboard (as `devsync env diff`, secrets masked) and
promote a key from one to the other under the normal write rules."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Select

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.screens.compare import CompareScreen
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import other_client, query_one, stored
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
        # The secret is compared by the database, not revealed: it differs, masked.
        assert marks == {
            "API_BASE_URL": "~", "BOB_DEBUG_PORT": "+", "CI": "-", "DATABASE_URL": "~",
            "LOG_LEVEL": "~",
        }  # fmt: skip
        secret = next(line for line in screen.lines if line.key == "DATABASE_URL")
        assert secret.a == "••••••••"
        assert secret.b == "•••••••• (differs)"
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


def _reveals(db_url: str) -> int:
    return int(
        query_one(db_url, "select count(*) from public.audit_log where action = 'secret.reveal'")
    )


async def test_comparing_reveals_nothing_until_asked(fresh_db_url: str) -> None:
    """Opening the comparison writes no "revealed" audit row (nothing is shown) yet says which
    secrets differ (the database compares); `r` on a secret line reveals both sides and shows
    them (two rows)."""
    before = _reveals(fresh_db_url)
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="ci-runner")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _open_compare(app, pilot, "bob-laptop")
        await pilot.pause(0.2)
        assert _reveals(fresh_db_url) == before
        assert screen.diff is not None
        assert screen.diff.cannot_compare == []
        assert [d.key for d in screen.diff.different if d.secret] == ["DATABASE_URL"]
        table = screen.query_one("#compare-table", DataTable)
        table.move_cursor(row=table.get_row_index("DATABASE_URL"))
        await pilot.pause()
        assert "reveals both values" in str(screen.query_one("#compare-keys").render())
        await pilot.press("r")
        await wait_for(pilot, lambda: "DATABASE_URL" in screen.revealed)
        line = next(x for x in screen.lines if x.key == "DATABASE_URL")
        assert line.mark == "~"
        assert "postgres" in line.a
        assert "postgres" in line.b
        assert _reveals(fresh_db_url) == before + 2
        await pilot.press("escape")


async def test_a_reveal_in_compare_is_masked_again_after_the_timeout(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="ci-runner")
    app.settings.reveal_timeout = 1.0
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _open_compare(app, pilot, "bob-laptop")
        table = screen.query_one("#compare-table", DataTable)
        await wait_for(pilot, lambda: "DATABASE_URL" in {x.key for x in screen.lines})
        table.move_cursor(row=table.get_row_index("DATABASE_URL"))
        await pilot.pause()
        await pilot.press("r")
        await wait_for(pilot, lambda: "DATABASE_URL" in screen.revealed)
        await wait_for(pilot, lambda: "DATABASE_URL" not in screen.revealed, 5)
        line = next(x for x in screen.lines if x.key == "DATABASE_URL")
        assert "postgres" not in line.a + line.b
        assert line.b == "•••••••• (differs)"


async def test_the_reason_stays_with_the_masked_side(fresh_db_url: str) -> None:
    """carol (viewer) compares staging, where QA_SEC is a secret, with ci-runner, where it is
    a plain value: the secret's side says she may not reveal it, the plain side shows it."""
    async with other_client(fresh_db_url, "alice") as alice:
        for env, secret, value in (("staging", True, "s3cr3t-v"), ("ci-runner", False, "plain")):
            await alice.save_configuration(
                demo.PROJECT_STOREFRONT, demo.ENVIRONMENTS_BY_NAME[env].id, "QA_SEC", value,
                is_secret=secret, type=ConfigType.ENV_VAR, expected_version=None,
            )  # fmt: skip
    app = make_test_app(fresh_db_url, "carol", size=(80, 24), project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        screen = await _open_compare(app, pilot, "ci-runner")
        line = next(x for x in screen.lines if x.key == "QA_SEC")
        assert line.mark == "?"
        assert line.a.startswith("••••••••")
        assert "may not reveal" in line.a
        assert line.b == "plain"
        await pilot.pause(0.1)
        table = screen.query_one("#compare-table", DataTable)
        cells = [getattr(c, "plain", str(c)) for c in table.get_row("QA_SEC")]
        assert cells[3] == "plain"
        assert "may not reveal" in cells[2] or cells[2].endswith("…")
        assert "reveal" not in {b.binding.action for b in screen.active_bindings.values()}


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_the_value_columns_use_the_width(fresh_db_url: str, size: tuple[int, int]) -> None:
    app = make_test_app(fresh_db_url, "alice", size=size, project="storefront", env="staging")
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        screen = await _open_compare(app, pilot, "ci-runner")
        await pilot.pause(0.1)
        table = screen.query_one("#compare-table", DataTable)
        used = sum(c.get_render_width(table) for c in table.ordered_columns)
        box = screen.query_one("#compare")
        assert used <= table.size.width
        assert used >= box.content_size.width - 6, (used, box.content_size.width)
        for row in range(table.row_count):
            for cell, column in zip(table.get_row_at(row), table.ordered_columns, strict=True):
                text = getattr(cell, "plain", str(cell))
                assert cell_len(text) <= column.width


def test_a_short_column_leaves_its_room_to_a_long_one() -> None:
    from devsync_tui.dashboard.screens.compare import VALUE_MIN, _share

    assert _share(60, 40, 12) == (48, 12)  # b needs less than its half
    assert _share(60, 5, 40) == (VALUE_MIN, 60 - VALUE_MIN)  # never under the minimum
    assert _share(60, 40, 40) == (30, 30)  # both need more: half each
    assert _share(60, 10, 12) == (10, 50)  # both fit: the rest goes to b
