"""When connecting fails the dashboard says why, and ctrl+r tries again (real PostgreSQL)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from typing import Any

import pytest

from devsync_tui.backend.errors import NotSignedIn, Unavailable
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard import last_view
from devsync_tui.dashboard.app import make_app
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from devsync_tui.settings import LocalProfile, Settings
from tests.dashboard.conftest import wait_for, wait_ready

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


@pytest.mark.parametrize("cached", [False, True], ids=["plain", "cached"])
async def test_ctrl_r_tries_again(demo_db_url: str, cached: bool) -> None:
    settings = Settings(profiles={"t": LocalProfile(database_url=demo_db_url)}, default_profile="t")
    owner = last_view.owner(settings, profile=None, user="bob")
    if cached:  # a start that saw the view live first
        first = make_app(
            settings,
            _flaky_factory(demo_db_url, failures=0),
            user="bob",
            project="storefront",
            animations=False,
            cache_owner=owner,
        )
        async with first.run_test(size=(100, 30)) as pilot:
            await wait_ready(pilot)
            await wait_for(pilot, lambda: last_view.load(owner) is not None)
    app = make_app(
        settings,
        _flaky_factory(demo_db_url, failures=1),
        user="bob",
        project="storefront",
        animations=False,
        cached=last_view.load(owner),
        cache_owner=owner,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None)
        header = app.main.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.link == "offline")
        assert (header.cached_at is not None) == cached
        line = str(app.main.query_one("#status-line").render())
        assert "The database refused the connection." in line
        assert "ctrl+r tries again" in line
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: header.link == "live")
        await wait_ready(pilot)
        assert header.cached_at is None
        assert app.main.selection is not None
        assert app.main.selection.project is not None
        assert app.main.selection.project.name == "storefront"
        assert not app.main.query_one("#status-line").display


async def test_a_refusal_offers_no_retry(demo_db_url: str) -> None:
    async def unknown_user(settings: Any, **_: Any) -> PostgresBackend:
        raise NotSignedIn("No user 'nosuch' here; known users: alice, bob.")

    app = make_app(Settings(), unknown_user, user="nosuch", animations=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.main_or_none is not None)
        header = app.main.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.link == "offline")
        line = str(app.main.query_one("#status-line").render())
        assert "known users: alice, bob." in line
        assert "q quits." in line
        assert "ctrl+r" not in line
        assert app.failure_code == 3


def test_quitting_after_a_refusal_exits_non_zero_without_a_traceback(demo_db_url: str) -> None:
    """`devsync --user nosuch` on a real terminal: one sentence on screen, q, exit 2 (an
    unknown name is bad input)."""
    env = dict(os.environ, DEVSYNC_DATABASE_URL=demo_db_url, TERM="xterm-256color")
    env.pop("DEVSYNC_PROFILE", None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devsync_tui", "--user", "nosuch"],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"q quits" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                seen += os.read(master, 65536)
        assert b"q quits" in seen, seen.decode(errors="replace")[-2000:]
        os.write(master, b"q")
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(10) == 2
        assert b"Traceback" not in seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
