"""An unexpected error ends the app with one sentence and the details in the log: never
Textual's traceback, which prints local variables (a revealed secret could be one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devsync_tui.logging_setup import current_log_file
from tests.dashboard.conftest import make_test_app, wait_ready

pytestmark = pytest.mark.db

LOCAL_VALUE = "demo-value-that-must-not-show"


class Boom(RuntimeError):
    pass


def _explode() -> None:
    revealed = LOCAL_VALUE  # a local variable of the failing frame, as a secret could be
    raise Boom(f"kaboom after {len(revealed)} characters")


async def _crash(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.call_later(_explode)
        await pilot.pause(0.2)


def _read(path: Path) -> str:
    return path.read_text()


async def test_a_crash_shows_one_sentence_and_logs_the_details(
    demo_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_test_app(demo_db_url, "bob", project="storefront", env="bob-laptop")
    with pytest.raises(Boom):
        await _crash(app)
    assert app.return_code == 1
    shown = " ".join(capsys.readouterr().err.split())  # what the terminal shows at exit
    assert "DevSync stopped after an unexpected error (Boom)" in shown
    assert "Traceback" not in shown
    assert LOCAL_VALUE not in shown
    log = _read(current_log_file())
    assert "Boom: kaboom after 29 characters" in log
    assert LOCAL_VALUE not in log
