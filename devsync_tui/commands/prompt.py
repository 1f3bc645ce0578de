"""Questions on the terminal that Ctrl-C ends at once.

Inside ``asyncio.run`` the first Ctrl-C only cancels the main task: a prompt blocked in
``input()`` or ``getpass`` (or in a thread) would go on waiting for Enter. ``ask`` lets
Ctrl-C interrupt the read itself and turns it into :class:`Cancelled`, which every command
reports as "Cancelled; nothing was written." with exit code 130. A prompt comes before any
write of its command, so that is true.

Ctrl-C is a signal to the whole process, and the kernel may hand it to any thread that does
not block it: to a worker of the event loop's executor as well as to the main thread. Only
the main thread's blocked ``read`` is interrupted by it, so a read that simply waits could
miss Ctrl-C for good (the interpreter only raises it at its next bytecode). On a terminal
``ask`` therefore waits for the answer's line with a short ``select`` timeout and reads only
once a line is there: Ctrl-C, whichever thread received it, ends the question within
:data:`_TICK` seconds. (With stdin not a terminal, ``input`` and ``getpass`` as they are.)"""

from __future__ import annotations

import getpass
import locale
import os
import select
import signal
import sys
import threading
from collections.abc import Callable

from devsync_tui.exit_codes import Cancelled

__all__ = ["Cancelled", "ask"]

#: Longest wait between two looks at a pending Ctrl-C while a question waits for its line.
_TICK = 0.1


def ask(prompt: str, *, secret: bool = False, eof_cancels: bool = True) -> str:
    """Ask on the terminal; the answer without its line break. Ctrl-C: :class:`Cancelled`.
    End of input (Ctrl-D) cancels too, unless ``eof_cancels`` is False (EOFError then)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if main:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _reader(secret, main)(prompt)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # off the prompt's line
        raise Cancelled from None
    except EOFError:
        if not eof_cancels:
            raise
        print(file=sys.stderr)
        raise Cancelled from None
    finally:
        if main and previous is not None:
            signal.signal(signal.SIGINT, previous)


def _reader(secret: bool, main: bool) -> Callable[[str], str]:
    if not main or os.name != "posix" or not _stdin_is_a_terminal():
        return getpass.getpass if secret else input
    return _hidden_line if secret else _line


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        return False


def _wait_for_line(fd: int) -> None:
    """Until ``fd`` has input (a whole line, on a terminal in its usual line mode), looking at
    pending signals every :data:`_TICK` seconds (Python runs their handlers between ticks)."""
    while not select.select([fd], [], [], _TICK)[0]:
        pass


def _line(prompt: str) -> str:
    """``input(prompt)`` for a terminal on stdin: what ``input`` does when it cannot use
    readline, with the wait interruptible by Ctrl-C on any thread."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    _wait_for_line(sys.stdin.fileno())
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.removesuffix("\n")


def _hidden_line(prompt: str) -> str:
    """``getpass.getpass(prompt)`` on the controlling terminal, echo off, with the wait
    interruptible by Ctrl-C on any thread. Without a terminal: getpass itself (which warns
    that the answer may show, and reads stdin)."""
    import termios

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return getpass.getpass(prompt)
    try:
        try:
            before = termios.tcgetattr(fd)
        except termios.error:
            return getpass.getpass(prompt)
        quiet = list(before)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        try:
            os.write(fd, prompt.encode(locale.getpreferredencoding(False), "replace"))
            answer = _read_line(fd)
        finally:
            termios.tcsetattr(fd, termios.TCSAFLUSH, before)
            os.write(fd, b"\n")  # the Enter that was not echoed
        return answer.decode(locale.getpreferredencoding(False), "surrogateescape")
    finally:
        os.close(fd)


def _read_line(fd: int) -> bytes:
    """One line from a terminal file descriptor, without its line break; EOFError at end."""
    got = b""
    while not got.endswith(b"\n"):
        _wait_for_line(fd)
        chunk = os.read(fd, 4096)
        if not chunk:
            if got:
                return got
            raise EOFError
        got += chunk
    return got.removesuffix(b"\n")
