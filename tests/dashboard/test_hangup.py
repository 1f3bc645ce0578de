"""The dashboard ends cleanly when its terminal goes away (``dashboard.hangup``).

The real ``devsync`` on a pty, in a new session: the pty is not its controlling terminal, so
closing the master sends no SIGHUP (an orphan of a harness or a dropped SSH session). Textual
alone then reads end of file forever at 100% CPU; the dashboard must instead quit as ``q``
does: exit code 0, its presence taken down (``backend.close``), within seconds, with no CPU
spent spinning.
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
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.devsync_cli import use_private_home

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

#: On screen once the configuration is drawn (a key of storefront in the seed).
DRAWN = b"FEATURE_FLAGS"
ALICE = "00000000-0000-4000-a000-000000000001"
#: CPU time (seconds) the dashboard may spend from the hang-up to its end: closing takes
#: ~0.1 s; spinning would take one CPU second per second until the deadline.
MAX_CPU_AFTER = 1.5
#: How long it may take to end (about 0.2 s here; generous for a loaded machine).
MAX_EXIT = 10.0


class Dashboard:
    """``devsync --user alice --project storefront`` on a pty in a new session."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.master: int | None
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.output = b""
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devsync_tui", "--user", "alice", "--project", "storefront"],
                stdin=slave, stdout=slave, stderr=slave, cwd=cwd, start_new_session=True,
                env=dict(os.environ, **env, TERM="xterm-256color"),
            )  # fmt: skip
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)

    def read(self, until: bytes | None = None, within: float = 0.0) -> None:
        """Read what it drew, until ``until`` was drawn or ``within`` seconds passed."""
        deadline = time.monotonic() + within
        while self.master is not None and (until is None or until not in self.output):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if select.select([self.master], [], [], min(left, 0.1))[0]:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:  # EIO: it closed its side
                    return

    def hang_up(self) -> None:
        """Close the master: the pty hangs up, and no SIGHUP is sent (not its terminal)."""
        if self.master is not None:
            os.close(self.master)
            self.master = None

    def cpu_seconds(self) -> float:
        """CPU time used so far (still readable while it is a zombie)."""
        utime, stime = self._stat()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def ended(self) -> bool:
        """Whether it has exited (a zombie until waited for)."""
        try:
            return self._stat()[0] in ("Z", "X")
        except FileNotFoundError:
            return True

    def _stat(self) -> list[str]:
        text = Path(f"/proc/{self.proc.pid}/stat").read_text()
        return text.rsplit(")", 1)[1].split()

    def wait_end(self, within: float) -> bool:
        """Wait until it exits (reading what it still draws), at most ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self.ended() and time.monotonic() < deadline:
            if self.master is not None:
                self.read(within=0.05)
            else:
                time.sleep(0.05)
        return self.ended()

    def kill(self) -> None:
        """End it and all it started, whatever state it is in."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.hang_up()


@pytest.fixture
def dashboard_env(
    fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    return use_private_home(fresh_db_url, tmp_path / "home", monkeypatch)


@contextlib.contextmanager
def drawn_dashboard(env: dict[str, str], cwd: Path) -> Iterator[Dashboard]:
    """The dashboard with its view drawn and its presence announced; killed at the end."""
    app = Dashboard(env, cwd)
    try:
        app.read(until=DRAWN, within=60)
        assert DRAWN in app.output, app.output.decode(errors="replace")[-2000:]
        deadline = time.monotonic() + 30
        while not _present(env) and time.monotonic() < deadline:
            app.read(within=0.1)
        assert _present(env), "the dashboard never announced its presence"
        # At once, while its first announcement may still be in flight: the backend counts
        # a row as left behind from the moment it asks (quitting here left it, 1 run in 5).
        yield app
    finally:
        app.kill()


def _present(env: dict[str, str]) -> bool:
    """Whether alice's dashboard has a presence row (``backend.close`` deletes it)."""
    with psycopg.connect(env["DEVSYNC_DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute("select count(*) from public.presence where user_id = %s", (ALICE,))
        found = row.fetchone()
    return found is not None and found[0] > 0


def _log(env: dict[str, str]) -> str:
    log = Path(env["DEVSYNC_STATE_DIR"]) / "devsync.log"
    return log.read_text(errors="replace") if log.exists() else ""


def test_the_dashboard_ends_when_its_terminal_hangs_up(
    dashboard_env: dict[str, str], tmp_path: Path
) -> None:
    with drawn_dashboard(dashboard_env, tmp_path) as app:
        cpu_before = app.cpu_seconds()
        app.hang_up()
        assert app.wait_end(MAX_EXIT), (
            f"still running {MAX_EXIT} s after its terminal hung up "
            f"({app.cpu_seconds() - cpu_before:.1f} s of CPU meanwhile)"
        )
        assert app.cpu_seconds() - cpu_before < MAX_CPU_AFTER
        assert app.proc.wait(5) == 0  # as quitting
    log = _log(dashboard_env)
    assert not _present(dashboard_env), f"its backend was not closed on the way out; log:\n{log}"
    assert "Traceback" not in log


def test_sighup_ends_the_dashboard_as_quitting_does(
    dashboard_env: dict[str, str], tmp_path: Path
) -> None:
    with drawn_dashboard(dashboard_env, tmp_path) as app:
        app.output = b""
        app.proc.send_signal(signal.SIGHUP)
        assert app.wait_end(MAX_EXIT), f"still running {MAX_EXIT} s after SIGHUP"
        assert app.proc.wait(5) == 0, "killed by SIGHUP, not a clean exit"
        app.read(within=0.5)  # the last of its output
        # The terminal is restored: the alternate screen left, the cursor shown.
        assert b"\x1b[?1049l" in app.output
        assert b"\x1b[?25h" in app.output
        assert b"Traceback" not in app.output
    log = _log(dashboard_env)
    assert not _present(dashboard_env), f"its backend was not closed on the way out; log:\n{log}"
    assert "Traceback" not in log
