"""The first frame of a start with a cached view: the screen as the dashboard last drew that
view (``core.view_cache.ScreenFrame``), written to the terminal as soon as the cache is read,
before Textual is even imported, with the header's mark saying it is cached and how old.

Why: the dashboard's main screen costs ~0.2-0.3 s of CPU to build before it can draw
anything (its widgets, styles and layout); the recorded frame is the same picture for the
cost of reading the cache. It is shown only where it is the same picture: the same terminal
size, colour variables, theme and read-only flag as when it was drawn, and a start that opens
where the cache was (no ``--team``/``--project``/``--env``, or ones naming that place) and
connects (not ``--offline``: its screen says read-only and offers fewer keys than a recorded
one); ``DEVSYNC_FRAME_REPLAY=0`` turns it off.

While it is on screen the terminal is put in the mode Textual uses (no echo, keys not
line-buffered, ctrl+c a key, not a signal): what the user types waits for the dashboard,
instead of being echoed over the picture. The terminal's own settings are handed to
Textual's driver (``dashboard.held_driver``), which restores them at the end, and which holds
the dashboard's output until its screen is settled so that it replaces the picture in one
write. If the start ends before Textual has taken over, ``undo`` restores the terminal.

Imports no UI.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from devsync_tui.core import clock
from devsync_tui.core.view_cache import FRAME_TOKEN, CachedView, ScreenFrame
from devsync_tui.dashboard.link_marks import link_mark

log = logging.getLogger("devsync.view_cache")

#: Set to "0" to never replay a recorded frame.
SWITCH = "DEVSYNC_FRAME_REPLAY"
#: The variables that decide how the dashboard's output looks (colours, terminal quirks).
TERMINAL_VARIABLES = (
    "TERM",
    "COLORTERM",
    "TERM_PROGRAM",
    "NO_COLOR",
    "FORCE_COLOR",
    "TEXTUAL_COLOR_SYSTEM",
    "TTY_COMPATIBLE",
)
# Terminal control: the alternate screen, no cursor, no line wrap (Textual sets the same),
# and a synchronized update around the picture (ignored where unsupported).
_ENTER = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[?2026h\x1b[H\x1b[2J"
_DRAWN = "\x1b[?2026l"
_LEAVE = "\x1b[?7h\x1b[?1049l\x1b[?25h"


def terminal_signature(environ: dict[str, str] | None = None) -> str:
    """What a frame is drawn for, besides its size and the settings (see ``ScreenFrame``)."""
    source = os.environ if environ is None else environ
    return json.dumps({name: source.get(name) for name in TERMINAL_VARIABLES}, sort_keys=True)


def mark(saved_at: datetime, *, now: datetime | None = None) -> tuple[str, str]:
    """The header's mark for a replayed frame and its colour, as the header says it while
    a start that connects shows its cached view."""
    return link_mark("connecting", "", saved_at, now=now)


def mark_width() -> int:
    """The cells a recorded frame keeps for the mark: the longest it is for a view up to
    999 days old (older: cut short)."""
    now = clock.now()
    ages = (timedelta(minutes=59), timedelta(hours=23), timedelta(days=999))
    return max(len(mark(now - age, now=now)[0]) for age in ages)


def frame_text(frame: ScreenFrame, saved_at: datetime) -> str | None:
    """The terminal output that draws ``frame`` with its mark (None: its header has no place
    for the mark)."""
    header = frame.header
    at = header.find(FRAME_TOKEN)
    if at < 0:
        return None
    rest = header[at:]
    width = len(rest) - len(rest.lstrip(FRAME_TOKEN))
    label = mark(saved_at)[0]
    if len(label) > width:
        label = label[: width - 1] + "…"
    line = header[:at] + label.rjust(width) + header[at + width :]
    return _ENTER + line + frame.body + _DRAWN


class Replay:
    """One start's replayed frame: ``show`` (from the thread reading the cache), then either
    ``hand_over`` (Textual's driver takes the terminal) or ``undo``."""

    def __init__(
        self,
        *,
        theme: str,
        read_only: bool,
        opens: Callable[[CachedView], bool],
        terminal: tuple[int, int] = (0, 2),
    ) -> None:
        """``opens``: whether this start opens the place a cached view shows; ``terminal``:
        where the dashboard reads keys and draws (Textual: stdin and stderr)."""
        self._opens = opens
        self._in, self._out = terminal
        self._theme = theme
        self._read_only = read_only
        self._done = threading.Event()
        self._lock = threading.Lock()
        #: The terminal's settings before the frame was shown (None: nothing shown).
        self._original: list[Any] | None = None
        self._handed = False
        self._drawn = False

    def show(self, view: CachedView | None) -> None:
        """Draw ``view``'s recorded frame if it fits this terminal; never raises."""
        try:
            with self._lock:
                frame = None if view is None else view.frame
                if (
                    view is not None
                    and frame is not None
                    and not self._handed
                    and self._opens(view)
                ):
                    self._show(frame, view.saved_at)
        except Exception:  # any failure: no replay, the dashboard draws as it always does
            log.debug("the recorded frame was not replayed", exc_info=True)
        finally:
            self._done.set()

    def _show(self, frame: ScreenFrame, saved_at: datetime) -> None:
        size = os.get_terminal_size(self._out)
        fits = (
            (frame.width, frame.height) == (size.columns, size.lines)
            and frame.terminal == terminal_signature()
            and frame.theme == self._theme
            and frame.read_only == self._read_only
        )
        text = frame_text(frame, saved_at) if fits else None
        if text is None:
            return
        import termios  # not on Windows (``for_start`` replays nothing there)

        original = termios.tcgetattr(self._in)
        quiet = termios.tcgetattr(self._in)
        quiet[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
        quiet[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR)
        termios.tcsetattr(self._in, termios.TCSANOW, quiet)
        self._original = original
        _write_all(self._out, text)
        self._drawn = True

    @property
    def shown(self) -> bool:
        """Whether ``show`` drew the recorded frame (False before it ran)."""
        return self._drawn

    def hand_over(self, wait: float = 5.0) -> list[Any] | None:
        """Textual's driver takes the terminal: the settings to restore at its end if the
        frame is on screen (None: it is not, Textual proceeds as always)."""
        self._done.wait(wait)
        with self._lock:
            self._handed = True
            return self._original

    def undo(self, wait: float = 5.0) -> None:
        """The start ends before Textual took over: the terminal as it was."""
        self._done.wait(wait)
        with self._lock:
            original, self._original = self._original, None
            if self._handed or original is None:
                return
            self._handed = True
            import termios

            with contextlib.suppress(OSError, termios.error):
                _write_all(self._out, _LEAVE)
                termios.tcsetattr(self._in, termios.TCSANOW, original)


def _write_all(fd: int, text: str) -> None:
    data = text.encode("utf-8")
    while data:
        written = os.write(fd, data)
        data = data[written:]


def for_start(
    *, theme: str, read_only: bool, offline: bool, opens: Callable[[CachedView], bool]
) -> Replay | None:
    """A ``Replay`` for this start, or None where none applies (switched off, ``--offline``,
    Windows)."""
    if offline or sys.platform == "win32" or os.environ.get(SWITCH, "1") == "0":
        return None
    return Replay(theme=theme, read_only=read_only, opens=opens)
