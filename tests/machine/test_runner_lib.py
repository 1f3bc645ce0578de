"""machine.runner as a library: options in, messages through ``say``, nothing printed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devsync_tui.core import crypto
from devsync_tui.machine.runner import Runner, RunOptions

pytestmark = pytest.mark.db


@pytest.fixture(autouse=True)
def _no_key_file_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    # core.crypto tells a person once that the key lives in a file (no keyring in tests); that
    # is core's notice (the CLI shows it, the dashboard toasts it), not the runner's output.
    monkeypatch.setattr(crypto, "_notice_handler", lambda _message: None)


BOB_LAPTOP = {"user": "bob", "project": "storefront", "env": "bob-laptop"}


def _writer(out: Path) -> tuple[str, ...]:
    # The child writes what it got into a file: its stdout is not ours to read.
    code = (
        f"import os, pathlib; pathlib.Path({str(out)!r}).write_text(os.environ['BOB_DEBUG_PORT'])"
    )
    return (sys.executable, "-c", code)


async def test_the_child_gets_the_configuration_and_nothing_is_printed(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []
    out = home / "debug_port"
    runner = Runner(RunOptions(command=_writer(out), **BOB_LAPTOP), said.append)
    assert await runner.run() == 0
    assert out.read_text() == "9229"
    assert capsys.readouterr() == ("", "")


async def test_offline_uses_the_snapshot_and_says_so(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = home / "debug_port"
    assert await Runner(RunOptions(command=_writer(out), **BOB_LAPTOP), print).run() == 0
    out.unlink()
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://x@127.0.0.1:9/x?connect_timeout=1")
    said: list[str] = []
    capsys.readouterr()
    options = RunOptions(command=_writer(out), offline=True, **BOB_LAPTOP)
    assert await Runner(options, said.append).run() == 0
    assert out.read_text() == "9229"
    assert said[0].startswith("backend unreachable; using the offline snapshot of storefront/bob")
    assert capsys.readouterr() == ("", "")


async def test_a_command_that_cannot_start_is_said_not_raised(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []
    options = RunOptions(command=("/no/such/command",), **BOB_LAPTOP)
    assert await Runner(options, said.append).run() == 127
    assert said == ["Command not found: /no/such/command."]
    assert capsys.readouterr() == ("", "")
