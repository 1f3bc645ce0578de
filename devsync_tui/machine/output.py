"""The child's stdout or stderr, read by ``devsync run`` and written on with secrets masked.

Where our own stream is a terminal the child gets a pseudo-terminal of its own for that stream
(one per stream), so it still sees a terminal: colours, progress bars and prompts behave as
they would without DevSync. The pty starts with our terminal's window size (and follows it:
:meth:`MaskedStream.resize` on SIGWINCH) and passes bytes through untranslated (no ``\\n`` to
``\\r\\n``: our own terminal does that). Elsewhere (a pipe, a file) the child gets a pipe.

Chunks are masked (``core/masking.py``) and written at once; what the masker holds back (the
start of what may be a secret) is written after :data:`QUIET_SECONDS` without more output, so a
prompt without a newline shows promptly. When the reader downstream goes away (``| head``) the
stream is closed, so the child sees a broken pipe as it would without DevSync.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import termios
import time
from collections.abc import Mapping
from typing import IO

from devsync_tui.core.masking import Masker

#: How long held-back bytes wait for more output before they are written.
QUIET_SECONDS = 0.05
#: After the child has ended: how long to wait for output still in flight before giving up on
#: the stream (a process the child left behind may hold it open for ever).
DRAIN_IDLE_SECONDS = 0.5
_READ = 65536


def is_terminal(stream: IO[str]) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _write(stream: IO[str], data: bytes) -> None:
    """Write ``data`` to ``stream`` as bytes when it has a binary buffer (it does, unless a test
    replaced it with a text-only one)."""
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()


def _copy_window_size(source: IO[str], fd: int) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        size = fcntl.ioctl(source.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


class MaskedStream:
    """One output stream of the child: the end it writes to, and our reader of the other."""

    def __init__(self, stream: IO[str], masks: Mapping[bytes, str]) -> None:
        self.stream = stream
        self.masker = Masker(masks)
        self.tty = is_terminal(stream)
        if self.tty:
            self._read_fd, self.child_fd = pty.openpty()
            attrs = termios.tcgetattr(self.child_fd)
            attrs[1] &= ~termios.OPOST  # bytes as written: our own terminal translates
            termios.tcsetattr(self.child_fd, termios.TCSANOW, attrs)
            _copy_window_size(stream, self.child_fd)
        else:
            self._read_fd, self.child_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._eof: asyncio.Future[None] | None = None
        self._quiet: asyncio.TimerHandle | None = None
        self._last_read = time.monotonic()
        self._closed = False

    def start(self) -> None:
        """After the child started: close its end here and read ours."""
        os.close(self.child_fd)
        self.child_fd = -1
        loop = asyncio.get_running_loop()
        self._eof = loop.create_future()
        loop.add_reader(self._read_fd, self._readable)

    def resize(self) -> None:
        """Give the pty our terminal's current window size (on SIGWINCH)."""
        if self.tty and not self._closed:
            _copy_window_size(self.stream, self._read_fd)

    def _readable(self) -> None:
        try:
            chunk = os.read(self._read_fd, _READ)
        except BlockingIOError:
            return
        except OSError:  # EIO: every writer of the pty is gone
            chunk = b""
        if not chunk:
            self._emit(self.masker.flush())
            self.close()
            return
        self._last_read = time.monotonic()
        self._emit(self.masker.feed(chunk))
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        if self.masker.pending:
            loop = asyncio.get_running_loop()
            self._quiet = loop.call_later(QUIET_SECONDS, self._release)

    def _release(self) -> None:
        self._quiet = None
        if not self._closed:
            self._emit(self.masker.flush())

    def _emit(self, data: bytes) -> None:
        if not data or self._closed:
            return
        try:
            _write(self.stream, data)
        except (BrokenPipeError, ValueError):
            # Nobody reads our output any more: stop reading theirs, so the child gets
            # EPIPE/EIO as it would have without us.
            self.close()

    async def drain(self) -> None:
        """Wait for the end of the stream after the child ended (bounded: see module doc)."""
        # Idle from now: what the child wrote last may not have been read yet.
        self._last_read = time.monotonic()
        while self._eof is not None and not self._eof.done():
            idle = time.monotonic() - self._last_read
            if idle >= DRAIN_IDLE_SECONDS:
                self._emit(self.masker.flush())
                self.close()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._eof), DRAIN_IDLE_SECONDS - idle)

    def close(self) -> None:
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        if self.child_fd >= 0:
            os.close(self.child_fd)
            self.child_fd = -1
        if self._closed:
            return
        self._closed = True
        if self._eof is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                asyncio.get_running_loop().remove_reader(self._read_fd)
            if not self._eof.done():
                self._eof.set_result(None)
        os.close(self._read_fd)
