"""The real ``devsync`` on a pty, started twice: the second start's very first output is the
screen the first one recorded (with the cached mark), before Textual draws anything; the
keys typed meanwhile reach the dashboard; the terminal is the user's own again at the end.
"""

from __future__ import annotations

import os
import sys
import termios
import time
from pathlib import Path

import pytest

from devsync_tui.core import view_cache
from devsync_tui.dashboard import last_view
from devsync_tui.settings import load_settings
from tests.dashboard.test_hangup import MAX_EXIT, Dashboard, dashboard_env

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux pty"),
]

__all__ = ["dashboard_env"]  # the fixture, shared with the hang-up tests

#: What the replay writes first (frame_replay._ENTER), and where its picture ends.
REPLAY_START = b"\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[?2026h\x1b[H\x1b[2J"
REPLAY_END = b"\x1b[?2026l"
LIVE = "● live".encode()
CACHED = "◌ cached ·".encode()
#: A key of storefront's project defaults (the view ``--project storefront`` opens).
KEY = b"FEATURE_FLAGS"


def _frame_kept() -> bool:
    owner = last_view.owner(load_settings(), profile=None, user="alice")
    view = view_cache.load(owner) if owner is not None else None
    return view is not None and view.frame is not None


def _first_start(env: dict[str, str], cwd: Path) -> None:
    """Once live, until the view is kept with its screen; quit with q."""
    app = Dashboard(env, cwd)
    try:
        app.read(until=LIVE, within=60)
        assert LIVE in app.output, app.output.decode(errors="replace")[-2000:]
        deadline = time.monotonic() + 10
        while not _frame_kept() and time.monotonic() < deadline:
            app.read(within=0.1)
        assert _frame_kept(), "the view was not kept with its screen"
        assert app.master is not None
        os.write(app.master, b"q")
        assert app.wait_end(MAX_EXIT)
        assert app.proc.wait(5) == 0
    finally:
        app.kill()


def test_a_second_start_draws_the_recorded_screen_first(
    dashboard_env: dict[str, str], tmp_path: Path
) -> None:
    _first_start(dashboard_env, tmp_path)
    app = Dashboard(dashboard_env, tmp_path)
    try:
        app.read(until=REPLAY_END, within=30)
        assert app.output.startswith(REPLAY_START), app.output[:200]
        picture = app.output[: app.output.index(REPLAY_END)]
        assert CACHED in picture
        assert KEY in picture
        assert app.master is not None
        os.write(app.master, b"j")  # typed while the picture is up: not echoed over it
        app.read(until=LIVE, within=60)
        assert LIVE in app.output  # the dashboard took over
        after = app.output[app.output.index(REPLAY_END) :]
        assert not after.startswith(b"j")
        lflag = termios.tcgetattr(app.master)[3]
        assert not lflag & termios.ECHO  # Textual's mode while it runs
        os.write(app.master, b"q")
        assert app.wait_end(MAX_EXIT)
        assert app.proc.wait(5) == 0
        # The user's terminal again: echo and line editing, ctrl+c a signal.
        lflag = termios.tcgetattr(app.master)[3]
        assert lflag & termios.ECHO
        assert lflag & termios.ICANON
        assert lflag & termios.ISIG
        assert b"Traceback" not in app.output
    finally:
        app.kill()


def test_switched_off_the_dashboard_draws_its_own_first_frame(
    dashboard_env: dict[str, str], tmp_path: Path
) -> None:
    _first_start(dashboard_env, tmp_path)
    app = Dashboard(dict(dashboard_env, DEVSYNC_FRAME_REPLAY="0"), tmp_path)
    try:
        app.read(until=CACHED, within=60)
        assert CACHED in app.output
        assert not app.output.startswith(REPLAY_START)
    finally:
        app.kill()
