"""Fixtures for the TUI tests: the real app on the local transport over a real database.

How to use::

    async def test_x(fresh_db_url):
        app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            ...

    def test_snap(snap_compare, demo_db_url, frozen_clock):
        app = make_test_app(demo_db_url, "alice", size=(80, 24), project="storefront")
        assert snap_compare(app, terminal_size=app.test_size, run_before=ready)

``make_test_app(db_url, user="alice", size=(120, 40), **open_at)`` builds the app with
``make_app`` (the CLI's factory), a backend factory that opens ``PostgresBackend`` on
``db_url`` as ``user``, default settings and no animations. ``open_at`` takes ``team=``,
``project=``, ``env=`` like the command line.

Autouse: every test gets its own state/config dirs (drafts, keys) and no keyring; the cursor does
not blink. ``frozen_clock`` freezes ``devsync_tui.core.clock`` at the seed's "now" plus 3 minutes
(the seed's timestamps are relative to when it was loaded; it is loaded in one transaction, so
alice's ``joined_at`` + 30 days is exactly that moment).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.widgets._footer import FooterKey

from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import clock
from devsync_tui.dashboard.app import DevSyncApp, make_app
from devsync_tui.dashboard.screens.main import MainScreen
from devsync_tui.dashboard.widgets.footer import Footer
from devsync_tui.settings import Settings

pytestmark = pytest.mark.db

#: Added to the seed's "now" for snapshots, so that times read "3 min ago" and not "just now".
CLOCK_OFFSET = timedelta(minutes=3)


def make_test_app(
    db_url: str, user: str = "alice", size: tuple[int, int] = (120, 40), **open_at: str
) -> DevSyncApp:
    """The real app, on the local transport over ``db_url``, signed in as ``user``."""

    async def factory(
        settings: Any, *, profile: str | None, user: str | None, progress: Any
    ) -> PostgresBackend:
        backend = PostgresBackend(db_url, user, embedded=False)
        # The header shows the host for a TCP URL (e.g. DEVSYNC_TEST_DATABASE_URL in CI); the
        # tests pin what the user sees in local mode so that snapshots do not depend on it.
        backend.label = "LOCAL"
        await backend.connect()
        return backend

    app = make_app(Settings(), factory, user=user, animations=False, **open_at)
    app.test_size = size  # type: ignore[attr-defined]
    return app


async def wait_ready(pilot: Pilot[Any], within: float = 10.0) -> None:
    """Wait until the workspace is loaded and no worker is busy (data on screen)."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        screen = next((s for s in app.screen_stack if isinstance(s, MainScreen)), None)
        # The other tabs' panes are mounted after the first view (no worker busy between:
        # an opening read in one round trip shows that view at once).
        ready = screen is not None and screen.selection is not None and screen._later_started
        if ready and not _busy(app):
            await pilot.pause(0.05)
            if not _busy(app):
                await pilot.wait_for_scheduled_animations()
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the app did not finish loading")


#: Worker groups that are not "loading": the change feed (runs for the life of the app) and
#: the flows that wait on a dialog the user has open.
_NOT_LOADING = (
    "live", "config-edit", "config-export", "tree-write", "members-write", "templates-write",
    "history-restore", "editor-save", "presence",
)  # fmt: skip


def _busy(app: DevSyncApp) -> bool:
    return any(w.is_running and w.group not in _NOT_LOADING for w in app.workers)


async def wait_for(pilot: Pilot[Any], condition: Any, within: float = 5.0) -> None:
    """Wait until ``condition()`` is true, letting the app run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not met in time")


def footer_settled(footer: Footer) -> bool:
    """The footer shows keys for its screen's bindings, with no recompose still pending."""
    return bool(footer.query(FooterKey)) and footer._shown == footer.shown()


def seed_now(db_url: str) -> datetime:
    """The moment the seed was loaded (its timestamps are relative to it)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "select joined_at + interval '30 days' from public.team_members "
            "where user_id = '00000000-0000-4000-a000-000000000001' "
            "and team_id = '00000000-0000-4000-b000-000000000001'"
        ).fetchone()
    assert row is not None
    assert isinstance(row[0], datetime)
    return row[0]


@pytest.fixture
def frozen_clock(demo_db_url: str) -> Iterator[datetime]:
    """Freeze the app's clock relative to the seeded data (for snapshots)."""
    yield from _frozen_at(seed_now(demo_db_url) + CLOCK_OFFSET)


@pytest.fixture
def aligned_clock(aligned_demo_db_url: str) -> Iterator[datetime]:
    """``frozen_clock`` for ``aligned_demo_db_url`` (snapshots that draw sparklines)."""
    yield from _frozen_at(seed_now(aligned_demo_db_url) + CLOCK_OFFSET)


def _frozen_at(at: datetime) -> Iterator[datetime]:
    clock.freeze(at)
    try:
        yield at
    finally:
        clock.freeze(None)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drafts, keys and logs of a test stay in its own temp dir; no OS keyring."""
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    from devsync_tui.core import crypto

    crypto._reset_for_tests()


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursors: snapshots must not depend on when they were taken."""
    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
    monkeypatch.setattr(TextArea, "cursor_blink", False, raising=False)
