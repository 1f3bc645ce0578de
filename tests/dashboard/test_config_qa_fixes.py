"""The Configuration tab after a QA pass: a reveal never outlives the rights that allowed it
(in the table and in History), History re-masks like the table, a long value's detail stays
a few lines, a team shows no stale detail or dead keys, the "Changed" ages stay current, the
key editor keeps what was typed across a type change, the conflict dialog names who saved,
and a new key's draft is talked about truthfully."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input, Select, Static, TextArea

from devsync_tui.core import clock
from devsync_tui.core.models import ConfigType, Role
from devsync_tui.dashboard.panes import configuration
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from devsync_tui.dashboard.screens.conflict import ConflictDialog
from devsync_tui.dashboard.screens.history import HistoryScreen
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane, other_client
from tests.support import demo

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP
MASK = "••••••••"


def _offered(app) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values()}


def _detail(pane) -> str:
    return str(pane.query_one("#config-detail", Static).render())


async def test_demoted_user_loses_a_revealed_secret_at_once(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    app.settings.reveal_timeout = 300  # only the demotion may mask it
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(pane.revealed))
        assert "Revealed" in _detail(pane)
        async with other_client(fresh_db_url, "alice") as alice:
            await alice.set_member_role(demo.TEAM_ACME, demo.BOB.id, Role.VIEWER)
        await wait_for(pilot, lambda: not pane.revealed, within=10)
        await wait_for(pilot, lambda: "🔒" in cell_text(pane, "DATABASE_URL", 1), within=10)
        await wait_for(pilot, lambda: "reveal" not in _offered(app))
        assert "Revealed" not in _detail(pane)
        assert "Viewers never see secret values." in _detail(pane)
        await pilot.press("r")  # not offered, and nothing is shown either
        await pilot.pause(0.3)
        assert not pane.revealed


async def test_history_reveal_is_masked_by_r_by_the_timeout_and_by_a_demotion(
    fresh_db_url: str,
) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    app.settings.reveal_timeout = 1.5
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        assert isinstance(history, HistoryScreen)
        await wait_for(pilot, lambda: bool(history.entries))
        value = history.query_one("#history-value", Static)
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(history.revealed))
        assert MASK not in str(value.render())
        await pilot.press("r")  # r again masks
        assert not history.revealed
        assert MASK in str(value.render())
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(history.revealed))
        await wait_for(pilot, lambda: not history.revealed, within=8)  # the timeout
        assert MASK in str(value.render())

        app.settings.reveal_timeout = 300
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(history.revealed))
        async with other_client(fresh_db_url, "alice") as alice:
            await alice.set_member_role(demo.TEAM_ACME, demo.BOB.id, Role.VIEWER)
        await wait_for(pilot, lambda: not history.revealed, within=10)
        assert "🔒" in str(value.render()) or MASK in str(value.render())
        await wait_for(pilot, lambda: not history.access.can_reveal(BOB_ENV), within=10)
        assert "🔒" in str(value.render())


async def test_type_change_keeps_the_value_and_drops_the_stale_error(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        editor.query_one("#editor-key", Input).value = "../secrets.toml"
        editor.query_one("#editor-line", Input).value = "x=1"
        await pilot.press("ctrl+s")
        error = editor.query_one("#editor-error", Static)
        await wait_for(pilot, lambda: str(error.render()).strip() != "")
        editor.query_one("#editor-type", Select).value = ConfigType.FILE.value
        area = editor.query_one("#editor-area", TextArea)
        await wait_for(pilot, lambda: area.display)
        assert area.text == "x=1"
        assert str(error.render()).strip() == ""
        area.load_text("x=1\ny=2")
        editor.query_one("#editor-type", Select).value = ConfigType.ENV_VAR.value
        await pilot.pause(0.1)
        # Two lines: still in the multi-line box, both kept.
        assert area.display
        assert editor.value() == "x=1\ny=2"
        area.load_text("z=3")
        editor.query_one("#editor-type", Select).value = ConfigType.FILE.value
        await pilot.pause(0.1)
        editor.query_one("#editor-type", Select).value = ConfigType.ENV_VAR.value
        await pilot.pause(0.1)
        line = editor.query_one("#editor-line", Input)
        assert line.display
        assert line.value == "z=3"


async def test_a_long_value_leaves_the_table_in_sight(fresh_db_url: str) -> None:
    async with other_client(fresh_db_url, "alice") as alice:
        await alice.save_configuration(
            STORE, None, "LONG_VAL", "y" * 6000,
            is_secret=False, type=ConfigType.ENV_VAR, expected_version=None,
        )  # fmt: skip
    app = make_test_app(fresh_db_url, "alice", size=(80, 24), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("LONG_VAL")
        await pilot.pause(0.1)
        detail = pane.query_one("#config-detail", Static)
        assert detail.size.height <= 6
        assert pane.rows_table.table.size.height >= 5
        text = _detail(pane)
        assert "6,000 characters" in text
        assert "enter opens it" in text
        assert text.count("y") < 400


async def test_a_team_shows_no_detail_and_offers_no_dead_keys(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.pause()
        assert "Secret" in _detail(pane)
        app.main.nav_tree.select_item((demo.TEAM_ACME, None, None))
        await wait_for(pilot, lambda: pane.view is None)
        await pilot.pause()
        assert _detail(pane).strip() == ""
        for action in ("history", "export", "reveal", "copy", "new", "delete", "edit"):
            assert not pane.check_action(action, ()), action


async def test_changed_ages_stay_current_without_a_rebuild(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(configuration, "AGE_TICK_SECONDS", 0.1)
    now = clock.now()
    clock.freeze(now)
    try:
        app = make_test_app(fresh_db_url, "alice", size=(160, 40), project="storefront")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            pane = config_pane(app)
            pane.go_to_key("NODE_ENV")
            await pilot.pause()
            column = list(pane.rows_table.table.ordered_columns).index(
                next(c for c in pane.rows_table.table.ordered_columns if str(c.label) == "Changed")
            )
            before = cell_text(pane, "NODE_ENV", column)
            rebuilds = []
            original = pane.rows_table.set_rows
            monkeypatch.setattr(
                pane.rows_table, "set_rows", lambda rows: (rebuilds.append(1), original(rows))
            )
            clock.freeze(now + timedelta(days=3))
            await wait_for(pilot, lambda: cell_text(pane, "NODE_ENV", column) != before)
            assert "d ago" in cell_text(pane, "NODE_ENV", column)
            assert pane.rows_table.cursor_key == "NODE_ENV"
            assert rebuilds == []
    finally:
        clock.freeze(None)


async def test_conflict_dialog_names_who_saved(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("BOB_DEBUG_PORT")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        async with other_client(fresh_db_url, "alice") as alice:
            await alice.save_configuration(
                STORE, BOB_ENV, "BOB_DEBUG_PORT", "9000",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=1,
            )  # fmt: skip
        editor.query_one("#editor-line", Input).value = "9444"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        texts = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "saved by alice as version 2" in texts


async def test_new_key_draft_is_worded_for_a_new_key(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        editor.query_one("#editor-key", Input).value = "DRAFTED_KEY"
        editor.query_one("#editor-line", Input).value = "fake-value"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor))
        said = [n.message for n in app._notifications]
        assert any("press n here again" in m and "DRAFTED_KEY" in m for m in said), said
        assert not any("open the key again" in m for m in said)
        config_pane(app).rows_table.focus_table()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        await pilot.pause()
        note = str(editor.query_one("#editor-note", Static).render())
        assert "(a new key)" in note
        assert "version new" not in note
        assert editor.query_one("#editor-key", Input).value == "DRAFTED_KEY"
        assert editor.value() == "fake-value"


async def test_history_ages_stay_current(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "AGE_TICK_SECONDS", 0.1)
    now = clock.now()
    clock.freeze(now)
    try:
        app = make_test_app(fresh_db_url, "alice", size=(160, 40), project="storefront")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            config_pane(app).go_to_key("LOG_LEVEL")
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
            history = app.screen
            await wait_for(pilot, lambda: len(history.entries) == 3)
            table = history.query_one("#history-table")

            def when(row: int) -> str:
                return str(table.get_row_at(row)[3])

            before = [when(i) for i in range(3)]
            clock.freeze(now + timedelta(days=40))
            await wait_for(pilot, lambda: when(0) != before[0])
            ages = [history.entries[i].changed_at for i in range(3)]
            assert [when(i) for i in range(3)] == [clock.ago(t) for t in ages]
            assert table.cursor_row == 0
    finally:
        clock.freeze(None)


async def test_a_secret_is_dots_in_the_editor(fresh_db_url: str) -> None:
    """Opening the editor on a secret does not put its value on screen (QA): the one-line box
    is a password box while "Secret" is ticked, and shows the text once it is unticked."""
    from textual.widgets import Checkbox

    app = make_test_app(fresh_db_url, "alice", project="storefront", env="ci-runner")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("STRIPE_SECRET_KEY")
        await pilot.pause()
        pane.action_edit()
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        line = editor.query_one("#editor-line", Input)
        await wait_for(pilot, lambda: bool(line.value))
        secret = line.value
        assert len(secret) > 8
        assert line.password
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert secret[:8] not in shown
        editor.query_one("#editor-secret", Checkbox).value = False
        await pilot.pause()
        assert not line.password
        assert secret[:8] in app.export_screenshot().replace("&#160;", " ")
