"""The dashboard and execution-control variables (PATH, LD_PRELOAD, …): a non-admin is not
offered to edit or delete one (the action, reached another way, says why), and a refusal from
the server (a new key typed in the editor) is the database's one sentence."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from textual.widgets import Input, Static

from devsync_tui.core.models import AuditEntry
from devsync_tui.dashboard.panes.activity import describe, who
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, query_one, stored
from tests.support import demo

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP
SENTENCE = "Only team admins may set or change LD_PRELOAD: it decides which programs run."


def _ld_preload(db_url: str) -> None:
    """An LD_PRELOAD override in bob's laptop, written without a user (as an admin's tool)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "select private.write_configuration(%s, %s, 'LD_PRELOAD', '/opt/acme/libfast.so',"
            " false, 'env_var', null)",
            (STORE, BOB_ENV),
        )


def _offered(app: object) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values()}  # type: ignore[attr-defined]


async def test_the_env_owner_is_not_offered_to_change_one(fresh_db_url: str) -> None:
    _ld_preload(fresh_db_url)
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("LD_PRELOAD")
        await pilot.pause()
        assert not {"delete", "select_cursor"} & _offered(app)
        await pilot.press("enter")
        await wait_ready(pilot)
        assert not isinstance(app.screen, ConfigEditor)
        await pilot.press("d")
        await wait_ready(pilot)
        assert not app._notifications  # the key is not bound here: nothing happens
        # reached some other way (the command palette), the action says why
        pane.action_delete()
        await wait_for(pilot, lambda: any(n.message == SENTENCE for n in app._notifications))
        pane.action_edit()
        await wait_ready(pilot)
        assert not isinstance(app.screen, ConfigEditor)
        assert stored(fresh_db_url, STORE, BOB_ENV, "LD_PRELOAD") == ("/opt/acme/libfast.so", 1)
        # an ordinary key of the same environment: offered again
        pane.go_to_key("BOB_DEBUG_PORT")
        await pilot.pause()
        assert {"delete", "select_cursor"} <= _offered(app)


async def test_an_admin_is_offered_it(fresh_db_url: str) -> None:
    _ld_preload(fresh_db_url)
    app = make_test_app(fresh_db_url, "erin", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("LD_PRELOAD")
        await pilot.pause()
        assert {"delete", "select_cursor"} <= _offered(app)


async def test_a_new_key_refused_by_the_server_is_one_sentence(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
        editor = app.screen
        editor.query_one("#editor-key", Input).value = "LD_PRELOAD"
        editor.query_one("#editor-line", Input).value = "/tmp/x.so"
        await pilot.press("ctrl+s")
        error = editor.query_one("#editor-error", Static)
        await wait_for(pilot, lambda: SENTENCE in str(error.render()))
        assert isinstance(app.screen, ConfigEditor)  # the input stays, nothing was written
        assert editor.query_one("#editor-line", Input).value == "/tmp/x.so"
        written = query_one(
            fresh_db_url, "select count(*) from configurations where key = 'LD_PRELOAD'"
        )
        assert written == 0


def test_activity_names_the_machine() -> None:
    """A machine's use and reveals have no actor: the Who column names the token."""
    base = {
        "id": 1,
        "team_id": demo.TEAM_ACME,
        "actor_id": None,
        "actor_username": None,
        "target_type": "machine_token",
        "target_id": "00000000-0000-4000-f000-000000000001",
        "project_id": STORE,
        "environment_id": BOB_ENV,
        "created_at": datetime(2026, 12, 4, tzinfo=UTC),
    }
    used = AuditEntry(action="token.use", details={"token": "ci box"}, **base)
    assert who(used) == "machine ci box"
    assert describe(used) == "machine token used: ci box"
    revealed = AuditEntry(
        action="secret.reveal", details={"key": "DATABASE_URL", "token": "ci box"}, **base
    )
    assert (who(revealed), describe(revealed)) == ("machine ci box", "revealed DATABASE_URL")
    made = AuditEntry(
        action="token.create", details={"name": "ci box"}, **{**base, "actor_username": "bob"}
    )
    assert (who(made), describe(made)) == ("bob", "created machine token ci box")
