"""``devsync run`` masks the secrets it injects in the child's output (real Postgres, real
child); ``--no-mask`` turns it off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")
SECRET = "tok-8f3a9c2e71"
PRINT = (
    "import os, sys; v = os.environ['SERVICE_TOKEN']; print('out', v); "
    "print('err', v, file=sys.stderr); print('pin', os.environ['PIN'])"
)


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    assert cli("env", "set", "SERVICE_TOKEN", "--secret", *BOB, stdin=SECRET).code == 0
    assert cli("env", "set", "PIN", "--secret", *BOB, stdin="123").code == 0
    return cli


def test_injected_secrets_are_concealed_in_stdout_and_stderr(devsync: DevsyncCLI) -> None:
    result = devsync("run", *BOB, "--", sys.executable, "-c", PRINT)
    assert result.code == 0
    assert "out <concealed by devsync: SERVICE_TOKEN>" in result.out
    assert "err <concealed by devsync: SERVICE_TOKEN>" in result.err
    assert SECRET not in result.out + result.err
    # Too short to mask (said once, at start); shown as it is.
    assert "pin 123" in result.out
    assert "not masked in the output: PIN" in result.err


def test_no_mask_passes_the_output_through(devsync: DevsyncCLI) -> None:
    out = devsync.home / "out.txt"
    script = f"import os, pathlib; pathlib.Path({str(out)!r}).write_text('x')"
    result = devsync("run", "--no-mask", *BOB, "--", sys.executable, "-c", script)
    assert result.code == 0
    assert "not masked" not in result.err
    proc = devsync.popen(
        "run", "--no-mask", *BOB, "--", sys.executable, "-c", PRINT, stdout=subprocess.PIPE
    )
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert f"out {SECRET}".encode() in stdout


def test_a_masked_run_as_a_subprocess_keeps_exit_code_and_bytes(devsync: DevsyncCLI) -> None:
    script = (
        "import os, sys; b = sys.stdout.buffer; "
        "b.write(b'\\x00\\xff' + os.environ['SERVICE_TOKEN'].encode() + b'\\n'); sys.exit(5)"
    )
    proc = devsync.popen("run", *BOB, "--", sys.executable, "-c", script, stdout=subprocess.PIPE)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 5
    assert stdout == b"\x00\xff<concealed by devsync: SERVICE_TOKEN>\n"
