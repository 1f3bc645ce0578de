"""machine.child + machine.output: a real child process, its secrets masked on a real pty (our
"terminal" is a pty.openpty pair) and on a pipe; split writes, binary output, prompts."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from devsync_tui.machine import output
from devsync_tui.machine.child import Child

SECRET = "s3cr3t-v@lue-42"
MASKS = {SECRET.encode(): "API_TOKEN"}
CONCEALED = b"<concealed by devsync: API_TOKEN>"

CHILD = r"""
import os, sys, time
s = os.environ["API_TOKEN"]
out = sys.stdout.buffer
out.write(f"tty={os.isatty(1)} err_tty={os.isatty(2)}\n".encode()); out.flush()
out.write(s[:5].encode()); out.flush(); time.sleep(0.02)   # split across writes
out.write(s[5:9].encode()); out.flush(); time.sleep(0.02)
out.write((s[9:] + "|\n").encode()); out.flush()
out.write(b"\x00\xff\xfe" + s.encode() + b"\x80\n"); out.flush()  # binary around it
sys.stderr.write("err " + s + "\n"); sys.stderr.flush()
out.write(b"Password: "); out.flush()                       # a prompt, no newline
time.sleep(float(sys.argv[1]))
"""


class Terminal:
    """A pty pair standing in for the user's terminal: we write to ``slave``, read ``master``."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.stream = io.TextIOWrapper(io.FileIO(slave, "w"), write_through=True)
        os.set_blocking(self.master, False)
        self.data = b""
        self.times: list[tuple[float, bytes]] = []

    def read(self) -> bytes:
        try:
            while chunk := os.read(self.master, 65536):
                self.data += chunk
                self.times.append((time.monotonic(), chunk))
        except (BlockingIOError, OSError):
            pass
        return self.data.replace(b"\r\n", b"\n")

    def close(self) -> None:
        self.stream.close()
        os.close(self.master)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal()
    yield term
    term.close()


async def _until(predicate: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)


class Collected(io.TextIOWrapper):
    """A non-terminal stream (a pipe or a file, as seen by devsync run)."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), write_through=True)

    def value(self) -> bytes:
        buffer = self.buffer
        assert isinstance(buffer, io.BytesIO)
        return buffer.getvalue()


async def _run(masks: dict[bytes, str], pause: float, terminal: Terminal) -> tuple[int, float]:
    """Run the child with stdout on the terminal; returns (exit status, seconds until the
    prompt was on the terminal, measured from the child's start)."""
    child = Child([sys.executable, "-c", CHILD, str(pause)], {"API_TOKEN": SECRET}, {}, masks)
    started = time.monotonic()
    await child.start()
    prompt_at = -1.0
    waiter = asyncio.ensure_future(child.wait())
    while not waiter.done():
        if prompt_at < 0 and b"Password: " in terminal.read():
            prompt_at = time.monotonic() - started
        await asyncio.sleep(0.005)
    terminal.read()
    return await waiter, prompt_at


async def test_secrets_are_masked_on_a_terminal_and_on_a_pipe(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = Collected()
    monkeypatch.setattr(sys, "stdout", terminal.stream)
    monkeypatch.setattr(sys, "stderr", err)
    status, prompt_at = await _run(MASKS, 1.0, terminal)
    assert status == 0
    shown = terminal.read()
    assert b"tty=True err_tty=False\n" in shown  # a pty for the terminal, a pipe for the file
    assert SECRET.encode() not in shown
    assert SECRET[5:].encode() not in shown
    assert CONCEALED + b"|\n" in shown
    assert b"\x00\xff\xfe" + CONCEALED + b"\x80\n" in shown  # binary bytes pass untouched
    assert err.value() == b"err " + CONCEALED + b"\n"
    # The prompt was on screen long before the child ended (it sleeps 1 s after it).
    assert 0 <= prompt_at < 0.9
    assert shown.endswith(b"Password: ")


async def test_without_masks_the_child_writes_to_our_streams_itself(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = Child([sys.executable, "-c", "print('x')"], {}, {}, None)
    await child.start()
    assert child.streams == []
    assert await child.wait() == 0


async def test_a_window_size_change_reaches_the_childs_pty(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl
    import struct
    import termios

    def set_size(rows: int, cols: int) -> None:
        fcntl.ioctl(terminal.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    set_size(30, 100)
    monkeypatch.setattr(sys, "stdout", terminal.stream)
    script = (
        "import os, signal, sys, time\n"
        "signal.signal(signal.SIGUSR1, lambda *_: print(os.get_terminal_size(1), flush=True))\n"
        "print(os.get_terminal_size(1), flush=True)\n"
        "time.sleep(3)\n"
    )
    child = Child([sys.executable, "-c", script], {"API_TOKEN": SECRET}, {}, MASKS)
    await child.start()
    await _until(lambda: b"columns=100, lines=30" in terminal.read(), 10)
    set_size(40, 120)
    child.resize()  # what the SIGWINCH relay does
    child.send(__import__("signal").SIGUSR1)
    await _until(lambda: b"columns=120, lines=40" in terminal.read(), 10)
    child.send(__import__("signal").SIGTERM)
    await child.wait()
    assert b"columns=100, lines=30" in terminal.read()
    assert b"columns=120, lines=40" in terminal.read()


async def test_held_back_bytes_are_released_after_a_quiet_spell(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "s3cr3t" could begin the secret: it is held only for QUIET_SECONDS.
    monkeypatch.setattr(sys, "stdout", terminal.stream)
    script = "import sys, time; sys.stdout.write('s3cr3t'); sys.stdout.flush(); time.sleep(1)"
    child = Child([sys.executable, "-c", script], {}, {}, MASKS)
    await child.start()
    await _until(lambda: b"s3cr3t" in terminal.read(), 0.9)
    assert b"s3cr3t" in terminal.read()
    assert child.process is not None
    assert child.process.returncode is None  # still running
    assert output.QUIET_SECONDS <= 0.05
    await child.wait()


async def test_a_reader_that_goes_away_stops_the_child_as_a_broken_pipe_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.FileIO(write_end, "w")))
    os.close(read_end)  # `devsync run -- yes | head -1`: head is gone
    script = "import sys\nwhile True:\n    sys.stdout.write('y\\n'); sys.stdout.flush()\n"
    child = Child([sys.executable, "-c", script], {}, {}, MASKS)
    await child.start()
    status = await asyncio.wait_for(child.wait(), 20)
    assert status != 0  # EPIPE / SIGPIPE, not an endless loop


async def test_the_last_words_of_a_long_silent_child_are_not_lost(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", terminal.stream)
    script = (
        "import os, sys, time; time.sleep(0.8); "
        "sys.stdout.write('bye ' + os.environ['API_TOKEN'] + '\\n')"
    )
    for _ in range(3):
        terminal.data = b""
        child = Child([sys.executable, "-c", script], {"API_TOKEN": SECRET}, {}, MASKS)
        await child.start()
        assert await child.wait() == 0
        assert terminal.read() == b"bye " + CONCEALED + b"\n"
