"""Fixtures for the machine library: a private home on a fresh database, and backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.postgres.backend import PostgresBackend
from tests.support.devsync_cli import use_private_home


@pytest.fixture
def home(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings, state and keys under a temp dir (the working directory, not a checkout),
    with ``DEVSYNC_DATABASE_URL`` on a fresh copy of the demo database."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)
    use_private_home(fresh_db_url, home, monkeypatch)
    return home


@pytest.fixture
async def open_as(
    home: Path, fresh_db_url: str
) -> AsyncIterator[Callable[[str], Awaitable[Backend]]]:
    """``await open_as("alice")``: a connected backend acting as that demo user."""
    opened: list[Backend] = []

    async def open_(username: str) -> Backend:
        backend = PostgresBackend(fresh_db_url, username, embedded=False)
        await backend.connect()
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        await backend.close()
