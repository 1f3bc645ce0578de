"""Helpers for TUI tests: read the database out of band, find panes, open another client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg

from devsync_tui.backend.base import Backend
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType, Configuration
from devsync_tui.dashboard.app import DevSyncApp
from devsync_tui.dashboard.panes.configuration import ConfigurationPane
from devsync_tui.dashboard.panes.tabs import TABS
from devsync_tui.dashboard.screens.main import MainScreen


def save_soon(backend: Backend, project: UUID, key: str) -> asyncio.Future[Configuration]:
    """A save of a new project default ``key`` = "v", started now and left running."""
    return asyncio.ensure_future(
        backend.save_configuration(
            project, None, key, "v", is_secret=False, type=ConfigType.ENV_VAR, expected_version=None
        )
    )


def tab_key(tab_id: str) -> str:
    """The number key that shows the tab ``tab_id`` (1 for the first tab, …)."""
    return str(next(n for n, tab in enumerate(TABS, 1) if tab.id == tab_id))


def stored(db_url: str, project: UUID, env: UUID | None, key: str) -> tuple[str | None, int]:
    """(value, version) of a configuration as stored, read as the superuser; secrets' values
    come from configuration_secrets."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select coalesce(c.value, s.value), c.version from public.configurations c "
            "left join public.configuration_secrets s on s.configuration_id = c.id "
            "where c.project_id = %s and c.environment_id is not distinct from %s and c.key = %s",
            (project, env, key),
        ).fetchone()
    assert row is not None, f"{key} is not stored"
    return (None if row[0] is None else str(row[0])), int(row[1])


def query_one(db_url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def main_screen(app: DevSyncApp) -> MainScreen:
    return app.main


def config_pane(app: DevSyncApp) -> ConfigurationPane:
    return app.main.query_one(ConfigurationPane)


def cell_text(pane: ConfigurationPane, key: str, column: int) -> str:
    """The plain text of one cell of the configuration table."""
    table = pane.rows_table.table
    row = table.get_row(key)
    cell = row[column]
    return getattr(cell, "plain", str(cell))


@asynccontextmanager
async def other_client(db_url: str, user: str) -> AsyncIterator[PostgresBackend]:
    """Another user's connection, as a teammate's DevSync would have."""
    backend = PostgresBackend(db_url, user, embedded=False)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()
