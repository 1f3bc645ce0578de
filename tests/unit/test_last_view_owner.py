"""Whose cached last view a start reads: a local profile's cache belongs to the database it
connects to — its URL, ``DEVSYNC_DATABASE_URL``, or the embedded database of the data
directory in use — so one workspace never opens on another's view."""

from __future__ import annotations

from pathlib import Path

import pytest

from devsync_tui.dashboard import last_view
from devsync_tui.settings import LocalProfile, Settings

EMBEDDED = Settings(profiles={"local": LocalProfile()}, default_profile="local")


def _owner(settings: Settings = EMBEDDED) -> str | None:
    return last_view.owner(settings, profile=None, user="alice")


def test_each_embedded_data_directory_has_its_own_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEVSYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path / "one"))
    one = _owner()
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path / "two"))
    two = _owner()
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path / "one" / ".." / "one"))
    assert one is not None
    assert two is not None
    assert one != two
    assert _owner() == one  # the same directory, however it is spelled


def test_the_database_url_from_the_environment_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path))
    embedded = _owner()
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://me@db-a/devsync")
    a = _owner()
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://me@db-b/devsync")
    b = _owner()
    assert len({embedded, a, b}) == 3
    # A profile naming its own server ignores the environment.
    named = Settings(
        profiles={"local": LocalProfile(database_url="postgresql://me@db-a/devsync")},
        default_profile="local",
    )
    assert _owner(named) == a


def test_the_owner_key_holds_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://me:hunter2@db/devsync")
    found = _owner()
    assert found is not None
    assert "hunter2" not in found
