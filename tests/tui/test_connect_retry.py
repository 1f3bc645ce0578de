"""When connecting fails the dashboard says why, and ctrl+r tries again (real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from devsync_tui import warm_start
from devsync_tui.app import make_app
from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres import PostgresBackend
from devsync_tui.settings import LocalProfile, Settings
from devsync_tui.widgets.status_header import StatusHeader
from tests.tui.conftest import wait_for, wait_ready

pytestmark = pytest.mark.db


def _flaky_factory(db_url: str, failures: int) -> Any:
    """Refuses the first ``failures`` attempts, then connects to ``db_url``."""
    attempts: list[int] = []

    async def factory(settings: Any, *, profile: Any, user: Any, progress: Any) -> PostgresBackend:
        attempts.append(1)
        if len(attempts) <= failures:
            raise Unavailable("The database refused the connection.")
        backend = PostgresBackend(db_url, user, embedded=False)
        await backend.connect()
        return backend

    return factory


@pytest.mark.parametrize("warm", [False, True], ids=["plain", "warm"])
async def test_ctrl_r_tries_again(demo_db_url: str, warm: bool) -> None:
    settings = Settings(profiles={"t": LocalProfile(database_url=demo_db_url)}, default_profile="t")
    started = None
    if warm:
        started = warm_start.begin(
            settings, profile=None, user="bob", team=None, project="storefront", env=None
        )
        assert started is not None
    app = make_app(
        settings,
        _flaky_factory(demo_db_url, failures=1),
        user="bob",
        project="storefront",
        animations=False,
        warm_start=started,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None)
        header = app.main.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.link == "offline")
        line = str(app.main.query_one("#status-line").render())
        assert "The database refused the connection." in line
        assert "ctrl+r tries again" in line
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: header.link == "live")
        await wait_ready(pilot)
        assert app.main.selection is not None
        assert app.main.selection.project is not None
        assert app.main.selection.project.name == "storefront"
        assert not app.main.query_one("#status-line").display
