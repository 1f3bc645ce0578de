"""Export as .env to a path that cannot be written: one plain sentence in the dialog (no
errno, no repr), which stays open with the path kept to correct; the corrected path is
written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from devsync_tui.dashboard.panes.config_actions import _unwritable, _write_problem
from devsync_tui.dashboard.screens.dialogs import FormDialog
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane


def _error(app: Any) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


def test_sentences_for_paths_that_cannot_be_written(tmp_path: Path) -> None:
    missing = tmp_path / "nodir" / "x.env"
    assert _unwritable(missing) == f"The folder {tmp_path / 'nodir'} does not exist."
    assert _unwritable(tmp_path) == f"{tmp_path} is a folder; name a file in it."
    a_file = tmp_path / "f"
    a_file.write_text("")
    assert _unwritable(a_file / "x.env") == f"{a_file} is not a folder."
    assert _unwritable(tmp_path / "ok.env") is None
    error = FileNotFoundError(2, "No such file or directory", str(missing))
    assert _write_problem(missing, error) == f"The folder {tmp_path / 'nodir'} does not exist."
    full = OSError(28, "No space left on device", str(tmp_path / "ok.env"))
    assert _write_problem(tmp_path / "ok.env", full) == (
        f"Could not write {tmp_path / 'ok.env'}: no space left on device."
    )


@pytest.mark.db
async def test_a_missing_folder_keeps_the_dialog_and_the_path(
    demo_db_url: str, tmp_path: Path
) -> None:
    wrong = tmp_path / "nodir" / "x.env"
    right = tmp_path / "x.env"
    app = make_test_app(demo_db_url, "carol", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).rows_table.focus_table()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        field = dialog.query_one("#f-path", Input)
        field.value = str(wrong)
        await pilot.press("enter")
        sentence = f"The folder {tmp_path / 'nodir'} does not exist."
        await wait_for(pilot, lambda: _error(app) == sentence and not dialog.saving)
        assert app.screen is dialog
        assert field.value == str(wrong)
        assert not any("Errno" in n.message for n in app._notifications)
        assert not wrong.parent.exists()

        field.value = str(right)
        await pilot.press("enter")
        await wait_for(pilot, right.exists)
        await wait_for(pilot, lambda: any("Wrote" in n.message for n in app._notifications))
        assert not isinstance(app.screen, FormDialog)
