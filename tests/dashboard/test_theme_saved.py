"""A theme picked in the palette is saved in the settings file (and nothing else with it)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from devsync_tui.settings import load_settings
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready

pytestmark = pytest.mark.db


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def test_the_theme_chosen_is_saved(demo_db_url: str) -> None:
    path = Path(os.environ["DEVSYNC_CONFIG"])
    _write(path, 'reveal_timeout = 12.0\n\n[keymap]\nreveal = "v"\n')
    app = make_test_app(demo_db_url, "alice", project="storefront")
    app.settings.read_only = True  # a flag of this run: not written into the file
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.theme = "nord"
        await wait_for(pilot, lambda: "nord" in _read(path))
    saved = tomllib.loads(_read(path))
    assert saved["theme"] == "nord"
    assert saved["reveal_timeout"] == 12.0
    assert saved["keymap"] == {"reveal": "v"}
    assert "read_only" not in saved
    assert load_settings(path, environ={}).theme == "nord"
