"""`devsync --read-only` and the `read_only` setting; the read-only backend's allowlist."""

from __future__ import annotations

from pathlib import Path

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.readonly import READS, WRITES
from devsync_tui.cli import build_parser
from devsync_tui.settings import SettingsError, dump_settings, load_settings


def test_the_flag_is_parsed() -> None:
    assert build_parser(()).parse_args(["--read-only"]).read_only is True
    assert build_parser(()).parse_args([]).read_only is False


def test_the_setting_is_read_and_saved(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("read_only = true\n", encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.read_only is True
    assert "read_only = true" in dump_settings(settings)
    path.write_text('read_only = "yes"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="line 1: 'read_only' must be true or false"):
        load_settings(path, environ={})


def test_every_backend_call_is_a_known_read_or_refused() -> None:
    """Every call of the contract is classified: a read left out breaks its view in a
    read-only dashboard (Config drift, required keys and accepted risks did), a write let
    through breaks the promise."""
    calls = {n for n in dir(Backend) if not n.startswith("_") and callable(getattr(Backend, n))}
    # Each listed read is a real call of the contract (a typo would let nothing through).
    assert READS - {"answer_now"} <= calls
    assert not READS & WRITES
    assert calls - READS - WRITES == set()
    assert calls >= WRITES
    assert {"save_configuration", "reveal_secret", "reveal_history_secret", "create_team"} <= WRITES
    assert not {n for n in READS if n.startswith(("save", "delete", "create", "reveal"))}
