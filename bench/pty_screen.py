"""Run a terminal program on a pseudo-terminal and watch its screen (pyte) for a marker.

Used by the startup benchmark: the same harness times DevSync and the reference app, from
process start until the marker text is on the emulated screen.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence

import pyte


def _shows(shown: str, text: str) -> bool:
    return text[1:] not in shown if text.startswith("!") else text in shown


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, every thread) process ``pid`` has used so far."""
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    return float("nan")


def time_to_text(
    argv: Sequence[str],
    marker: str,
    *,
    columns: int = 120,
    lines: int = 40,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    cpu: dict[str, float] | None = None,
) -> float:
    """Seconds from spawning ``argv`` until ``marker`` is visible on its screen (``cpu``: see
    ``times_to_screens``; its key is ``"marker"``)."""
    found = times_to_screens(
        argv, {"marker": (marker,)}, columns=columns, lines=lines, timeout=timeout, env=env,
        cpu=cpu,
    )  # fmt: skip
    return found["marker"]


def times_to_screens(
    argv: Sequence[str],
    screens: dict[str, Sequence[str]],
    *,
    columns: int = 120,
    lines: int = 40,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    linger: float = 0.0,
    cpu: dict[str, float] | None = None,
) -> dict[str, float]:
    """Seconds from spawning ``argv`` until each named screen is first seen: a screen is seen
    when every one of its texts is visible at once (a text written ``!text``: not visible).
    Returns when all were seen (after ``linger`` more seconds of the program running: e.g.
    for it to write a cache). ``cpu``, if given, receives for each screen the CPU seconds
    (user + system, all threads) the program had used when it was seen: unlike the wall time,
    that does not grow with other processes' load."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
    if env:
        full_env.update(env)
    seen: dict[str, float] = {}
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=slave, stdout=slave, stderr=slave, env=full_env, start_new_session=True
    )
    os.close(slave)
    try:
        deadline = start + timeout
        while time.perf_counter() < deadline and len(seen) < len(screens):
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                # The time the output arrived, not the time this emulator (pure Python, far
                # slower than a real terminal) has finished parsing it.
                arrived = time.perf_counter()
                stream.feed(data)
                shown = "\n".join(screen.display)
                for name, texts in screens.items():
                    if name not in seen and all(_shows(shown, text) for text in texts):
                        seen[name] = arrived - start
                        if cpu is not None:
                            cpu[name] = _cpu_seconds(proc.pid)
            elif proc.poll() is not None:
                break
        if len(seen) < len(screens):
            missing = [name for name in screens if name not in seen]
            raise TimeoutError(f"{missing} never appeared; screen:\n" + "\n".join(screen.display))
        end = time.perf_counter() + linger
        while time.perf_counter() < end and proc.poll() is None:
            if select.select([master], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    os.read(master, 65536)
        return seen
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
