"""Ctrl-C at a CLI prompt ends the command at once (issue 15, "Honest status"): the hidden
secret prompt (getpass), a plain value prompt, import's confirmation and `local reset`'s
question each say "Cancelled; nothing was written.", exit 130 and change nothing. Run in a
pseudo-terminal, as a person types."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _interrupt_at_prompt(devsync: DevsyncCLI, prompt: bytes, *argv: str) -> tuple[int, str, float]:
    """Run ``devsync ARGV`` on a pty, press Ctrl-C once ``prompt`` shows; (exit code, output,
    seconds from Ctrl-C to exit)."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "devsync_tui", *argv],
        env=devsync.subprocess_env(),
        cwd=devsync.home,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
        preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0),
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while prompt not in seen:
            assert time.monotonic() < deadline, f"no prompt: {seen!r}"
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                seen += os.read(leader, 4096)
        # At once: a Ctrl-C between the prompt's write and the read is seen at the next tick
        # of the question's wait (commands/prompt.py), not lost.
        os.write(leader, b"\x03")  # Ctrl-C, as the terminal sends it
        pressed = time.monotonic()
        try:
            code = child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after Ctrl-C: {seen!r}") from None
        took = time.monotonic() - pressed
        while True:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        os.close(leader)
    return code, seen.decode(errors="replace"), took


def _value(db_url: str, key: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*) from public.configurations where key = %s", (key,)
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("secret", [True, False], ids=["hidden-prompt", "value-prompt"])
def test_ctrl_c_at_the_value_prompt(devsync: DevsyncCLI, secret: bool) -> None:
    argv = ["env", "set", "NEW_SETTING", "--user", "bob", "--project", "storefront",
            "--env", "bob-laptop"] + (["--secret"] if secret else [])  # fmt: skip
    code, out, took = _interrupt_at_prompt(devsync, b"Value for NEW_SETTING", *argv)
    assert code == 130
    assert "Cancelled; nothing was written." in out
    assert "Traceback" not in out
    assert took < 3
    assert _value(devsync.db_url, "NEW_SETTING") == 0


def test_ctrl_c_at_the_import_confirmation(devsync: DevsyncCLI) -> None:
    dotenv = devsync.home / "new.env"
    dotenv.write_text("IMPORTED_ONE=1\nIMPORTED_TWO=2\n")
    code, out, took = _interrupt_at_prompt(
        devsync, b"[y/N]", "env", "import", str(dotenv), "--user", "bob",
        "--project", "storefront", "--env", "bob-laptop",
    )  # fmt: skip
    assert code == 130
    assert "Cancelled; nothing was written." in out
    assert took < 3
    assert _value(devsync.db_url, "IMPORTED_ONE") == 0


def test_ctrl_c_at_the_pull_question(devsync: DevsyncCLI) -> None:
    shop = devsync.home / "shop"
    (shop / ".git").mkdir(parents=True)
    (shop / ".env").write_text("NODE_ENV=staging-ish\n")
    code, out, took = _interrupt_at_prompt(
        devsync, b"[y/N]", "env", "pull", str(shop), "--user", "bob",
        "--project", "storefront", "--env", "bob-laptop",
    )  # fmt: skip
    assert code == 130
    assert "Cancelled; nothing was written." in out
    assert took < 3
    assert (shop / ".env").read_text() == "NODE_ENV=staging-ish\n"
    assert not (shop / ".npmrc").exists()
