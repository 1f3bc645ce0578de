"""The dashboard ends when its terminal hangs up (stdin at end of file) or on SIGHUP.

Why: Textual's ``LinuxDriver`` (8.2.8) reads keys in a thread that loops on
``select(stdin, 0.1)``; an empty read (end of file: what a pty slave returns once its master
is closed) only ends one pass, and the next ``select`` reports stdin readable again at once.
A dashboard that loses its terminal without getting SIGHUP (started without a controlling
terminal: ``setsid``, a harness, an SSH session dropped where SIGHUP does not reach it) then
spins one CPU at 100% forever.

``HangUpDriver`` watches stdin in one more thread, blocked in ``poll`` for POLLHUP, POLLERR
and POLLNVAL only (never woken by keys, no timeout). When the terminal hangs up it stops
Textual's input thread and asks the app to exit, as quitting does (the last view is written,
the backend closed). SIGHUP is handled the same way, unless it is ignored (``nohup``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import threading
from typing import TYPE_CHECKING, Any, TextIO, cast

from textual.drivers.linux_driver import LinuxDriver  # not on Windows: imported where it is used

if TYPE_CHECKING:
    from textual.app import App

#: What ends the watch on stdin: the other end is gone, an error, or stdin is not open.
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


class HangUpDriver(LinuxDriver):
    """Textual's ``LinuxDriver`` that ends the app when the terminal hangs up, or on SIGHUP."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._watcher: threading.Thread | None = None
        self._wake: int | None = None  # written to stop the watcher
        if self._file is not None:
            self._file = cast(Any, _Output(self._file))  # what WriterThread uses of it

    def start_application_mode(self) -> None:
        super().start_application_mode()  # type: ignore[no-untyped-call]
        loop = asyncio.get_running_loop()
        if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
            # Left in place until the event loop closes: SIGHUP during the shutdown is then
            # the same request again, not the end of a half-written last view.
            with contextlib.suppress(ValueError, RuntimeError):  # not the main thread
                loop.add_signal_handler(signal.SIGHUP, self._app.exit)
        self._stop_watching()  # resumed after ctrl+z: a new one
        woken, self._wake = os.pipe()
        self._watcher = threading.Thread(
            target=self._watch, args=(woken, loop), name="devsync-hangup", daemon=True
        )
        self._watcher.start()

    def disable_input(self) -> None:
        self._stop_watching()
        super().disable_input()

    def _watch(self, woken: int, loop: asyncio.AbstractEventLoop) -> None:
        poller = select.poll()
        poller.register(self.fileno, _GONE)
        poller.register(woken, select.POLLIN)
        try:
            events = poller.poll()
        finally:
            os.close(woken)
        if any(fd == woken for fd, _ in events):
            return  # stopped (the app ends or is suspended)
        # Textual's input thread would read end of file forever: stop it.
        self.exit_event.set()
        with contextlib.suppress(RuntimeError):  # the event loop is already closed
            loop.call_soon_threadsafe(self._app.exit)

    def _stop_watching(self) -> None:
        wake, self._wake = self._wake, None
        if wake is None:
            return
        with contextlib.suppress(OSError):
            os.write(wake, b"x")
        os.close(wake)
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join()
        self._watcher = None


class _Output:
    """The terminal as Textual's writer thread writes to it, with errors dropped: that thread
    dies of the first one (EIO once the terminal hung up), and the app then blocks on its
    queue of 30 writes, never to end."""

    def __init__(self, file: TextIO) -> None:
        self._file = file

    def write(self, text: str) -> None:
        with contextlib.suppress(OSError):
            self._file.write(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()
