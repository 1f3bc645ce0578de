"""Textual's driver for a start that replayed a recorded frame (``dashboard.frame_replay``):
the dashboard's output is held until its screen has settled, then written at once, so the
replayed picture is replaced by the settled screen in one step (not by the main screen's
first frames, before its footer, tabs and tree are drawn); and the terminal's own settings,
which the replay had changed, are what the driver restores at the end."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver  # not on Windows: imported where used

from devsync_tui.dashboard.hangup import HangUpDriver

#: The longest the output is held (seconds from the driver's start): a screen that never
#: settles (an error) is drawn anyway.
HOLD_MAX = 2.0
#: Around the held output: one synchronized update (ignored where unsupported).
_SYNC_ON, _SYNC_OFF = "\x1b[?2026h", "\x1b[?2026l"


def driver_class(chosen: type[Driver]) -> type[Driver]:
    """``HeldDriver`` where Textual chose its ``LinuxDriver``; else ``chosen``."""
    return HeldDriver if chosen is LinuxDriver else chosen


class HeldDriver(HangUpDriver):
    """``HangUpDriver`` that holds its output while a replayed frame is on screen."""

    _held: list[str] | None = None

    def start_application_mode(self) -> None:
        replay = getattr(self._app, "replay", None)
        original = replay.hand_over() if replay is not None else None
        if original is not None:
            self._held = []
            asyncio.get_running_loop().call_later(HOLD_MAX, self.release)
        super().start_application_mode()
        if original is not None:
            self.attrs_before = original  # what the terminal was before the replay

    def write(self, data: str) -> None:
        if self._held is not None:
            self._held.append(data)
        else:
            super().write(data)

    def release(self) -> None:
        """Write what was held (once; later output goes straight to the terminal)."""
        held, self._held = self._held, None
        if held:
            super().write(_SYNC_ON + "".join(held) + _SYNC_OFF)
            self.flush()

    def stop_application_mode(self) -> None:
        self.release()
        super().stop_application_mode()


def release(driver: Any) -> None:
    """Release ``driver``'s held output, if it is a ``HeldDriver`` (else nothing)."""
    if isinstance(driver, HeldDriver):
        driver.release()
