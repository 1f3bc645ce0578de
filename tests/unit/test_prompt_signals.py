"""Ctrl-C ends a question even when the kernel hands the signal to another thread.

Ctrl-C is a signal to the whole process; the kernel delivers it to any thread that does not
block it, the event loop's executor workers included. Only the main thread's blocked read is
interrupted by it, so a question that simply waits in ``read`` went on waiting (CI saw
``devsync env import`` hang after Ctrl-C when the signal landed on the ``asyncio_0`` worker).
Here a worker thread takes SIGINT itself (``pthread_kill``), in a real pseudo-terminal with
the question on it: the plain prompt and the hidden one (echo off, on ``/dev/tty``) must both
end as :class:`Cancelled` at once. And the hidden one still hides what is typed."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import sys
import termios
import textwrap
import time

import pytest

_SCRIPT = textwrap.dedent(
    """
    import signal, sys, threading, time
    from devsync_tui.commands.prompt import Cancelled, ask

    def worker():
        time.sleep(float(sys.argv[2]))
        if float(sys.argv[2]) >= 0:
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # this thread, not main

    threading.Thread(target=worker, daemon=True).start()
    try:
        answer = ask("Question: ", secret=sys.argv[1] == "secret")
    except Cancelled:
        print("CANCELLED", flush=True)
    else:
        print("ANSWER=" + answer, flush=True)
    """
)


def _on_a_terminal(*argv: str) -> tuple[subprocess.Popen[bytes], int]:
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # /dev/tty is this pty
    )
    os.close(follower)
    return child, leader


def _read_until(leader: int, marker: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        if select.select([leader], [], [], 0.1)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("kind", ["plain", "secret"])
def test_ctrl_c_on_a_worker_thread_ends_the_question(kind: str) -> None:
    child, leader = _on_a_terminal(kind, "0.5")
    try:
        seen = _read_until(leader, b"Question: ", 30)
        assert b"Question: " in seen
        started = time.monotonic()
        seen += _read_until(leader, b"CANCELLED", 5)
        took = time.monotonic() - started
        if b"CANCELLED" not in seen:
            os.write(leader, b"\n")  # let the old behaviour end rather than hang the suite
        assert b"CANCELLED" in seen, seen
        assert took < 2
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)


def test_the_hidden_question_reads_the_line_without_showing_it() -> None:
    child, leader = _on_a_terminal("secret", "-1")
    try:
        seen = _read_until(leader, b"Question: ", 30)
        os.write(leader, b"hunter2 x\n")
        seen += _read_until(leader, b"ANSWER=", 10)
        seen += _read_until(leader, b"\n", 2)
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)
    text = seen.decode()
    assert "ANSWER=hunter2 x" in text
    assert text.count("hunter2") == 1  # printed once by the script, never echoed as typed


def test_the_plain_question_reads_the_line() -> None:
    child, leader = _on_a_terminal("plain", "-1")
    try:
        _read_until(leader, b"Question: ", 30)
        os.write(leader, b"yes please\n")
        seen = _read_until(leader, b"ANSWER=yes please", 10)
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(leader)
    assert b"ANSWER=yes please" in seen
