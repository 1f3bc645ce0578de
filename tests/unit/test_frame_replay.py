"""dashboard.frame_replay: the recorded screen drawn before the UI, on a real pseudo-terminal;
kept with the cached view (core.view_cache), encrypted like it."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import pty
import select
import struct
import termios
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.core import clock, crypto, view_cache
from devsync_tui.core.view_cache import FRAME_TOKEN, CachedView, ScreenFrame
from devsync_tui.dashboard import frame_replay
from devsync_tui.dashboard.frame_replay import Replay, frame_text, mark_width
from tests.unit.test_view_cache import ALICE, _view

WIDTH, HEIGHT = 100, 30
#: A line of the recorded body (the move to line 2, then text).
BODY = "\x1b[2;1H\x1b[1mDATABASE_URL\x1b[0m  ••••••••"


@pytest.fixture(autouse=True)
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    monkeypatch.setenv("TERM", "xterm-256color")
    crypto._reset_for_tests()
    yield tmp_path
    crypto._reset_for_tests()


def _frame(**more: Any) -> ScreenFrame:
    token = FRAME_TOKEN * mark_width()
    fields: dict[str, Any] = {
        "width": WIDTH,
        "height": HEIGHT,
        "terminal": frame_replay.terminal_signature(),
        "theme": "textual-dark",
        "read_only": False,
        "body": BODY,
        "header": f"\x1b[1;1H\x1b[1mDevSync\x1b[0m  alice · admin   \x1b[33m{token}\x1b[0m",
    }
    return ScreenFrame(**(fields | more))


def _cached(minutes: int = 3, **frame: Any) -> CachedView:
    saved = clock.now() - timedelta(minutes=minutes)
    return _view(saved_at=saved, frame=_frame(**frame))


class Terminal:
    """A pseudo-terminal of WIDTH × HEIGHT: the slave is the dashboard's stdin and stderr."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
        self.before = termios.tcgetattr(self.slave)

    def replay(self, **settings: Any) -> Replay:
        opens = settings.pop("opens", lambda view: True)
        chosen = {"theme": "textual-dark", "read_only": False} | settings
        return Replay(**chosen, opens=opens, terminal=(self.slave, self.slave))

    def drawn(self) -> str:
        out = b""
        while select.select([self.master], [], [], 0.2)[0]:
            out += os.read(self.master, 65536)
        return out.decode("utf-8")

    def lflag(self) -> int:
        return int(termios.tcgetattr(self.slave)[3])

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    found = Terminal()
    yield found
    found.close()


def test_the_frame_is_drawn_with_its_age_and_the_keys_wait_for_the_dashboard(
    terminal: Terminal,
) -> None:
    replay = terminal.replay()
    replay.show(_cached(minutes=3))
    drawn = terminal.drawn()
    assert drawn.startswith("\x1b[?1049h")  # the alternate screen, as Textual's
    assert "◌ cached · 3 min old · connecting" in drawn
    assert FRAME_TOKEN not in drawn
    assert BODY in drawn
    # No echo, no line editing, ctrl+c a key: typing lands in the dashboard, not on screen.
    assert not terminal.lflag() & (termios.ECHO | termios.ICANON | termios.ISIG)
    # Textual's driver takes over: the settings it restores at its end are the user's own.
    assert replay.hand_over() == terminal.before
    replay.undo()  # nothing to undo once handed over
    assert terminal.drawn() == ""


def test_a_start_that_ends_before_the_dashboard_restores_the_terminal(
    terminal: Terminal,
) -> None:
    replay = terminal.replay()
    replay.show(_cached())
    terminal.drawn()
    replay.undo()
    assert termios.tcgetattr(terminal.slave) == terminal.before
    assert terminal.drawn().endswith("\x1b[?1049l\x1b[?25h")  # the screen as it was, a cursor
    replay.undo()  # twice: nothing more
    assert terminal.drawn() == ""


@pytest.mark.parametrize(
    ("why", "frame", "settings"),
    [
        ("another size", {"width": WIDTH + 1}, {}),
        ("another terminal", {"terminal": '{"TERM": "vt100"}'}, {}),
        ("another theme", {"theme": "nord"}, {}),
        ("read-only now", {}, {"read_only": True}),
        ("another place asked for", {}, {"opens": lambda view: False}),
        ("no place for the mark", {"header": "\x1b[1;1HDevSync"}, {}),
    ],
)
def test_a_frame_drawn_for_another_start_is_not_replayed(
    terminal: Terminal, why: str, frame: dict[str, Any], settings: dict[str, Any]
) -> None:
    replay = terminal.replay(**settings)
    replay.show(_cached(**frame))
    assert terminal.drawn() == "", why
    assert termios.tcgetattr(terminal.slave) == terminal.before
    assert replay.hand_over() is None  # Textual proceeds as always


def test_no_frame_or_no_view_draws_nothing(terminal: Terminal) -> None:
    replay = terminal.replay()
    replay.show(dataclasses.replace(_cached(), frame=None))
    replay.show(None)
    assert terminal.drawn() == ""
    assert replay.hand_over() is None


def test_a_very_old_view_cuts_the_mark_short_rather_than_the_line() -> None:
    frame = _frame()
    text = frame_text(frame, clock.now() - timedelta(days=100_000))
    assert text is not None
    header = text[text.index("\x1b[1;1H") : text.index(BODY)]
    assert "◌ cached · " in header
    assert "…" in header
    assert len(header) == len(frame.header)  # the same cells: the rest of the line stays


def test_switched_off_and_offline_starts_replay_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def start(offline: bool) -> Replay | None:
        return frame_replay.for_start(
            theme="textual-dark", read_only=False, offline=offline, opens=lambda view: True
        )

    assert start(offline=False) is not None
    # --offline: its screen says read-only and offers fewer keys than a recorded one.
    assert start(offline=True) is None
    monkeypatch.setenv(frame_replay.SWITCH, "0")
    assert start(offline=False) is None


def test_the_frame_is_kept_encrypted_with_the_view() -> None:
    view = _cached()
    assert view_cache.save(ALICE, view)
    blob = view_cache.path_for(ALICE).read_bytes()
    assert b"DATABASE_URL" not in blob  # encrypted, like the rest of the view
    loaded = view_cache.load(ALICE)
    assert loaded is not None
    assert loaded.frame == view.frame


def test_a_damaged_or_missing_frame_leaves_the_view_usable() -> None:
    for damaged in ({"width": "wide"}, {"header": None}, "not a frame"):
        raw = dataclasses.replace(_cached(), frame=None).to_json()
        data = raw[:-1] + b',"frame":' + json.dumps(damaged).encode() + b"}"
        loaded = CachedView.from_json(data)
        assert loaded is not None
        assert loaded.frame is None


def test_a_frame_too_large_is_not_kept() -> None:
    big = _cached(body="x" * (view_cache.MAX_FRAME_CHARS + 1))
    assert view_cache.save(ALICE, big)
    loaded = view_cache.load(ALICE)
    assert loaded is not None
    assert loaded.frame is None
