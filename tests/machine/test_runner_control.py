"""``devsync run`` and what controls execution: the command is found with the invoking
process's PATH (never a stored one), ``--watch`` never restarts into a changed
execution-control variable, and a machine token's ``--watch`` polls for changes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.core import crypto
from devsync_tui.core.machine_token import MachineToken
from devsync_tui.core.models import ConfigType
from devsync_tui.machine.runner import Runner, RunOptions
from tests.support import demo

pytestmark = pytest.mark.db

S, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP
BOB_LAPTOP = {"user": "bob", "project": "storefront", "env": "bob-laptop"}
OpenAs = Callable[[str], Awaitable[Backend]]


@pytest.fixture(autouse=True)
def _no_key_file_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_notice_handler", lambda _message: None)


def _probe(folder: Path, name: str, out: Path) -> None:
    """An executable ``devsync-probe`` in ``folder`` that records which one ran, and PATH."""
    folder.mkdir()
    script = folder / "devsync-probe"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, pathlib\n"
        f"pathlib.Path({str(out)!r}).write_text({name!r} + '\\n' + os.environ['PATH'])\n"
    )
    script.chmod(0o755)


async def _set(backend: Backend, env: object, key: str, value: str) -> None:
    rows = await backend.list_configurations(S, env)  # type: ignore[arg-type]
    current = next((r for r in rows if r.key == key), None)
    await backend.save_configuration(
        S,
        env,  # type: ignore[arg-type]
        key,
        value,
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=current.version if current else None,
    )


async def test_a_stored_path_never_chooses_the_program(
    home: Path, open_as: OpenAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = home / "ran"
    _probe(home / "mine", "mine", out)
    _probe(home / "stored", "stored", out)
    monkeypatch.setenv("PATH", f"{home / 'mine'}{os.pathsep}{os.environ['PATH']}")
    alice = await open_as("alice")  # only an admin may store a PATH
    await _set(alice, None, "PATH", f"{home / 'stored'}{os.pathsep}/usr/bin:/bin")
    said: list[str] = []
    assert (
        await Runner(RunOptions(command=("devsync-probe",), **BOB_LAPTOP), said.append).run() == 0
    )
    which, path = out.read_text().split("\n", 1)
    assert which == "mine"  # found with devsync's own PATH
    assert path.startswith(str(home / "stored"))  # while the child got the stored one

    # A program only the stored PATH would find is not found at all.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    out.unlink()
    options = RunOptions(command=("devsync-probe",), **BOB_LAPTOP)
    assert await Runner(options, said.append).run() == 127
    assert said[-1] == "Command not found: devsync-probe."
    assert not out.exists()


WATCHED = """
import os, pathlib, sys, time
log, stop = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with log.open("a") as f:
    f.write(f"{os.getpid()} {os.environ.get('LOG_LEVEL')} {os.environ.get('NODE_OPTIONS')}\\n")
while not stop.exists():
    time.sleep(0.05)
"""


async def _until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_watch_does_not_restart_into_a_changed_execution_control_variable(
    home: Path, open_as: OpenAs
) -> None:
    log, stop = home / "starts", home / "stop"
    said: list[str] = []
    command = (sys.executable, "-c", WATCHED, str(log), str(stop))
    runner = Runner(RunOptions(command=command, watch=True, grace=5, **BOB_LAPTOP), said.append)
    task = asyncio.create_task(runner.run())
    try:
        await _until(lambda: log.exists() and log.read_text().count("\n") == 1)
        first = log.read_text()
        erin = await open_as("erin")
        await _set(erin, BOB_ENV, "NODE_OPTIONS", "--require=/tmp/changed.js")
        await _until(lambda: any("NODE_OPTIONS" in s for s in said))
        assert said[-1] == (
            "configuration changed (NODE_OPTIONS); NODE_OPTIONS decides which programs run, so "
            "the command is not restarted into it: it keeps running as it was started. Restart "
            "devsync run to take the change."
        )
        assert "/tmp/changed.js" not in " ".join(said)  # never a value
        # A later, ordinary change does not sneak the new NODE_OPTIONS in either.
        bob = await open_as("bob")
        await _set(bob, BOB_ENV, "LOG_LEVEL", "trace")
        await _until(lambda: any("LOG_LEVEL" in s for s in said))
        await asyncio.sleep(0.5)
        assert log.read_text() == first  # still the first start
        assert "LOG_LEVEL, NODE_OPTIONS" in said[-1]
        assert not any("restarting" in s for s in said)
    finally:
        stop.touch()
        assert await asyncio.wait_for(task, 20) == 0


async def test_a_machine_token_watches_by_polling(home: Path, open_as: OpenAs) -> None:
    bob = await open_as("bob")
    made = await bob.create_machine_token(BOB_ENV, "watcher", None)
    log, stop = home / "starts", home / "stop"
    said: list[str] = []
    options = RunOptions(
        command=(sys.executable, "-c", WATCHED, str(log), str(stop)),
        watch=True,
        grace=5,
        token=MachineToken(made.token, "a test"),
        poll_seconds=0.2,
    )
    task = asyncio.create_task(Runner(options, said.append).run())
    try:
        await _until(lambda: log.exists() and log.read_text().count("\n") == 1)
        assert said[0] == (
            "watching storefront/bob-laptop for configuration changes every 0.2 s (a machine "
            "token has no live feed)."
        )
        await _set(bob, BOB_ENV, "LOG_LEVEL", "trace")
        await _until(lambda: log.read_text().count("\n") == 2)
        assert log.read_text().splitlines()[1].split()[1] == "trace"
        assert "configuration changed (LOG_LEVEL); restarting." in said
    finally:
        stop.touch()
        assert await asyncio.wait_for(task, 20) == 0
