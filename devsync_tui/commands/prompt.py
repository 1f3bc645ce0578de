"""Questions on the terminal that Ctrl-C ends at once.

Inside ``asyncio.run`` the first Ctrl-C only cancels the main task: a prompt blocked in
``input()`` or ``getpass`` (or in a thread) would go on waiting for Enter. ``ask`` lets
Ctrl-C interrupt the read itself and turns it into :class:`Cancelled`, which every command
reports as "Cancelled; nothing was written." with exit code 130. A prompt comes before any
write of its command, so that is true."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
from collections.abc import Callable

from devsync_tui.exit_codes import Cancelled

__all__ = ["Cancelled", "ask"]


def ask(prompt: str, *, secret: bool = False, eof_cancels: bool = True) -> str:
    """Ask on the terminal; the answer without its line break. Ctrl-C: :class:`Cancelled`.
    End of input (Ctrl-D) cancels too, unless ``eof_cancels`` is False (EOFError then)."""
    read: Callable[[str], str] = getpass.getpass if secret else input
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if main:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return read(prompt)
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
