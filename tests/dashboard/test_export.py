"""Export as .env: a safe file name from the environment's, and replacing a file asks first
(the file is written readable by the user only)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest
from textual.widgets import Input

from devsync_tui.dashboard.panes.config_actions import safe_file_name
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane
from tests.support import demo

BOB_ENV = demo.ENV_BOB_LAPTOP


def test_safe_file_name() -> None:
    assert safe_file_name("qa/env ../x") == "qa_env_._x"
    assert safe_file_name("..hidden") == "hidden"
    assert safe_file_name("/") == "devsync"
    assert safe_file_name("bob-laptop") == "bob-laptop"
    for name in ("a/b", "../../etc/passwd", ".x", "~/x", "a\\b"):
        cleaned = safe_file_name(name)
        assert "/" not in cleaned
        assert "\\" not in cleaned
        assert not cleaned.startswith(".")


@pytest.mark.db
async def test_export_name_is_safe_and_replacing_asks_first(
    fresh_db_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "update public.environments set name = 'qa/env ../x' where id = %s", (BOB_ENV,)
        )
    target = tmp_path / "out.env"
    target.write_text("KEEP=1\n")
    os.chmod(target, 0o644)
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="qa/env ../x")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()

        async def answer_replace(answer: str) -> None:
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert f"Replace {target}?" in str(app.screen.query_one(".dialog-text").render())
            await pilot.click(answer)
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        field = app.screen.query_one("#f-path", Input)
        assert field.value == "qa_env_._x.env"
        field.value = str(target)
        await answer_replace("#cancel")
        # Not replacing goes back to the form, the path kept to choose another.
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.screen.query_one("#f-path", Input).value == str(target)
        await pilot.pause(0.3)
        assert target.read_text() == "KEEP=1\n"
        await answer_replace("#confirm")
        await wait_for(pilot, lambda: "BOB_DEBUG_PORT" in target.read_text())
        assert "KEEP=1" not in target.read_text()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
