"""Configuration tab behaviour on the local transport over a real database: editing, conflicts
(their wording fits the case), history, reveal, live updates, the detail line and the value
column's width."""

from __future__ import annotations

import psycopg
import pytest
from textual.widgets import Input, Static

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from devsync_tui.dashboard.screens.conflict import ConflictDialog
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane, other_client, query_one, stored
from tests.support import demo

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


async def _open_editor(pilot, key: str) -> ConfigEditor:
    pane = config_pane(pilot.app)
    pane.go_to_key(key)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfigEditor))
    editor = pilot.app.screen
    assert isinstance(editor, ConfigEditor)
    return editor


async def test_saved_value_is_in_the_database(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _open_editor(pilot, "BOB_DEBUG_PORT")
        editor.query_one("#editor-line", Input).value = "9230"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("9230", 2)
        await wait_ready(pilot)
        assert cell_text(config_pane(app), "BOB_DEBUG_PORT", 1) == "9230"


async def test_conflict_dialog_when_someone_saved_first(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _open_editor(pilot, "BOB_DEBUG_PORT")
        # Another of bob's sessions saves version 2 while this editor is open.
        async with other_client(fresh_db_url, "bob") as other:
            await other.save_configuration(
                STORE, BOB_ENV, "BOB_DEBUG_PORT", "9000",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=1,
            )  # fmt: skip
        editor.query_one("#editor-line", Input).value = "9444"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        dialog = app.screen
        assert "9000" in str(dialog.query_one("#conflict-theirs").render())
        # Nothing was written by the refused save.
        assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("9000", 2)
        await pilot.click("#overwrite")
        await wait_for(
            pilot, lambda: stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT")[1] == 3
        )
        assert stored(fresh_db_url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("9444", 3)


async def test_keep_theirs_writes_nothing(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _open_editor(pilot, "LOG_LEVEL")
        async with other_client(fresh_db_url, "bob") as other:
            await other.save_configuration(
                STORE, BOB_ENV, "LOG_LEVEL", "trace",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=1,
            )  # fmt: skip
        editor.query_one("#editor-line", Input).value = "error"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.click("#theirs")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor | ConflictDialog))
        assert stored(fresh_db_url, STORE, BOB_ENV, "LOG_LEVEL") == ("trace", 2)


@pytest.mark.parametrize(("user", "allowed"), [("alice", True), ("bob", True), ("carol", False)])
async def test_reveal_follows_the_role(fresh_db_url: str, user: str, allowed: bool) -> None:
    # A reveal writes an audit row: never on the shared demo database.
    app = make_test_app(fresh_db_url, user, project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.press("r")
        await wait_ready(pilot)
        secret, _ = stored(fresh_db_url, STORE, BOB_ENV, "DATABASE_URL")
        shown = cell_text(pane, "DATABASE_URL", 1)
        if allowed:
            assert secret is not None
            assert shown == secret[: len(shown) - 1] + "…" or shown == secret
            row = next(r for r in pane.view.rows if r.key == "DATABASE_URL")
            assert pane.revealed[row.configuration_id] == secret
            await pilot.press("r")  # r again masks
            assert "••••••••" in cell_text(pane, "DATABASE_URL", 1)
        else:
            assert pane.revealed == {}
            assert "🔒" in shown
            detail = str(pane.query_one("#config-detail").render())
            assert "Viewers never see secret values." in detail
        reveals = query_one(
            fresh_db_url,
            "select count(*) from public.audit_log where action = 'secret.reveal' "
            "and actor_id = %s",
            (demo.USERS_BY_NAME[user].id,),
        )
        assert reveals == (1 if allowed else 0)


async def test_revealed_secret_masks_again_after_the_timeout(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    # long enough that a loaded machine still sees the revealed state before it ends
    app.settings.reveal_timeout = 1.5
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(pane.revealed))
        await wait_for(pilot, lambda: not pane.revealed, within=8)
        assert "••••••••" in cell_text(pane, "DATABASE_URL", 1)


async def test_live_update_shows_without_a_key_press(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        assert cell_text(pane, "NODE_ENV", 1) == "production"
        async with other_client(fresh_db_url, "erin") as other:
            await other.save_configuration(
                STORE, None, "NODE_ENV", "staging",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=1,
            )  # fmt: skip
        await wait_for(pilot, lambda: cell_text(pane, "NODE_ENV", 1) == "staging")
        assert "NODE_ENV" in pane.rows_table._flashing


async def test_viewer_is_not_offered_edits(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "carol", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("NODE_ENV")
        await pilot.pause()
        offered = {b.binding.action for b in app.screen.active_bindings.values()}
        # NODE_ENV is no secret: its value may be copied; there is nothing to reveal.
        assert {"copy", "history", "export"} <= offered
        assert not {"new", "delete", "select_cursor", "reveal"} & offered
        await pilot.press("enter", "n", "d")
        await wait_ready(pilot)
        assert not isinstance(app.screen, ConfigEditor)


async def test_new_key_and_delete(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        editor.query_one("#editor-key", Input).value = "NEW_FLAG"
        editor.query_one("#editor-line", Input).value = "on"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        assert stored(fresh_db_url, STORE, None, "NEW_FLAG") == ("on", 1)
        await wait_ready(pilot)
        config_pane(app).go_to_key("NEW_FLAG")
        await pilot.press("d")
        await pilot.pause(0.1)
        await pilot.click("#confirm")
        await wait_for(
            pilot,
            lambda: (
                query_one(
                    fresh_db_url,
                    "select count(*) from public.configurations where key = 'NEW_FLAG'",
                )
                == 0
            ),
        )


async def test_history_restores_an_old_version(fresh_db_url: str) -> None:
    from devsync_tui.dashboard.screens.dialogs import ConfirmDialog
    from devsync_tui.dashboard.screens.history import HistoryScreen

    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("LOG_LEVEL")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        await wait_for(pilot, lambda: len(history.entries) == 3)
        assert [e.version for e in history.entries] == [3, 2, 1]
        await pilot.press("down", "down")  # version 1: "info"
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: stored(fresh_db_url, STORE, None, "LOG_LEVEL")[1] == 4)
        assert stored(fresh_db_url, STORE, None, "LOG_LEVEL") == ("info", 4)
        await wait_for(pilot, lambda: len(history.entries) == 4)


async def test_conflict_edit_a_merge(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        editor = await _open_editor(pilot, "API_BASE_URL")
        async with other_client(fresh_db_url, "bob") as other:
            await other.save_configuration(
                STORE, BOB_ENV, "API_BASE_URL", "http://localhost:5000",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=1,
            )  # fmt: skip
        editor.query_one("#editor-line", Input).value = "http://localhost:4001"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.click("#merge")
        await wait_for(pilot, lambda: app.screen is editor)
        assert editor.expected == 2  # the merge is based on their version now
        editor.query_one("#editor-line", Input).value = "http://localhost:5001"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        assert stored(fresh_db_url, STORE, BOB_ENV, "API_BASE_URL") == ("http://localhost:5001", 3)


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
        assert "Set for bob-laptop only" in text
        await pilot.press(*"zzz")
        await pilot.pause()
        assert pane.rows_table.cursor_key is None
        assert str(detail.render()).strip() == ""


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
        # At 100 columns the value gets at least 30 characters beside the tree (the columns
        # the detail line also says give way), and more without it.
        assert with_tree >= 30
        assert without_tree > with_tree
        # The whole table still fits: nothing is pushed out of sight on the right.
        table = pane.rows_table.table
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= pane.size.width
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: len(cell_text(pane, "DATABASE_URL", 1)) == with_tree)


async def test_delete_conflict_on_a_plain_key_shows_its_value(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("NODE_ENV")
        _, version = stored(fresh_db_url, STORE, None, "NODE_ENV")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        # Erin saves while alice is asked to confirm (saved before "d", the live feed could
        # bring the new version to alice's row first, and there would be no conflict).
        async with other_client(fresh_db_url, "erin") as erin:
            await erin.save_configuration(
                STORE, None, "NODE_ENV", "staging-changed",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=version,
            )  # fmt: skip
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
        editor = await _open_editor(pilot, "BOB_DEBUG_PORT")
        row = next(r for r in config_pane(app).view.rows if r.key == "BOB_DEBUG_PORT")  # type: ignore[union-attr]
        async with other_client(fresh_db_url, "bob") as other:
            await other.delete_configuration(row.configuration_id, row.version)
        editor.query_one("#editor-line", Input).value = "9555"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        texts = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "deleted" in texts
        assert "secret" not in texts
