"""``devsync run``: environment, files, exit codes, signals, offline snapshots (local transport,
real Postgres). Signal tests run ``devsync`` as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devsync_tui.core import snapshot
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")
PY = sys.executable


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


DUMP_CHILD = """
import json, os, stat, sys
from pathlib import Path
files_dir = os.environ.get("DEVSYNC_FILES_DIR")
files = {}
if files_dir:
    root = Path(files_dir)
    files = {str(p.relative_to(root)): [p.read_text(), oct(stat.S_IMODE(p.stat().st_mode))]
             for p in root.rglob("*") if p.is_file()}
    files["<dir mode>"] = oct(stat.S_IMODE(root.stat().st_mode))
Path(sys.argv[1]).write_text(json.dumps({"env": dict(os.environ), "files": files,
                                         "files_dir": files_dir}))
sys.exit(int(sys.argv[2]))
"""


def _dump(devsync: DevsyncCLI, *args: str, code: int = 0) -> tuple[int, dict]:
    out = devsync.home / "dump.json"
    out.unlink(missing_ok=True)
    result = devsync("run", *args, "--", PY, "-c", DUMP_CHILD, str(out), str(code))
    return result.code, json.loads(out.read_text()) if out.exists() else {}


def test_child_gets_the_effective_configuration(devsync: DevsyncCLI) -> None:
    secret = "s3cret-$HOME-'q'"
    assert devsync("env", "set", "MY_SECRET", "--secret", *BOB, *BOB_LAPTOP, stdin=secret).code == 0
    code, dump = _dump(devsync, *BOB, *BOB_LAPTOP)
    assert code == 0
    env = dump["env"]
    assert env["MY_SECRET"] == secret
    assert env["BOB_DEBUG_PORT"] == "9229"  # override
    assert env["NODE_ENV"] == "production"  # project default
    assert env["DATABASE_URL"].startswith("postgres://bob:")  # bob's override, revealed
    assert ".npmrc" not in env  # files are files
    files = dump["files"]
    assert files[".npmrc"][0].startswith("registry=")
    assert files[".npmrc"][1] == "0o600"
    assert "config/app.json" in files
    assert files["<dir mode>"] == "0o700"
    assert not Path(dump["files_dir"]).exists()  # removed at exit


def test_exit_code_passes_through(devsync: DevsyncCLI) -> None:
    code, _ = _dump(devsync, *BOB, *BOB_LAPTOP, code=7)
    assert code == 7
    killed = devsync("run", *BOB, *BOB_LAPTOP, "--", "sh", "-c", "kill -9 $$")
    assert killed.code == 128 + 9


def test_withheld_secrets_are_not_set_and_said(devsync: DevsyncCLI) -> None:
    code, dump = _dump(devsync, "--user", "dave", *BOB_LAPTOP)
    assert code == 0
    assert "DATABASE_URL" not in dump["env"] or not dump["env"]["DATABASE_URL"].startswith(
        "postgres://bob:"
    )
    assert "LOG_LEVEL" in dump["env"]


def test_bad_commands(devsync: DevsyncCLI) -> None:
    assert devsync("run", *BOB, *BOB_LAPTOP).code == 2
    missing = devsync("run", *BOB, *BOB_LAPTOP, "--", "no-such-command-devsync")
    assert missing.code == 127
    assert "Command not found" in missing.err
    unlinked = devsync("run", *BOB, "--", "true")
    assert unlinked.code == 2


def test_found_but_not_executable_is_126_as_in_a_shell(devsync: DevsyncCLI) -> None:
    script = devsync.home / "noexec.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o644)
    for command, said in (
        ("./noexec.sh", "Command is not executable: ./noexec.sh."),
        (str(devsync.home), f"Command is not executable: {devsync.home}."),  # a folder
        ("./missing.sh", "Command not found: ./missing.sh."),
    ):
        result = devsync("run", *BOB, *BOB_LAPTOP, "--", command)
        assert (result.code, result.err) == (
            126 if "not executable" in said else 127,
            f"devsync: {said}\n",
        )
        assert result.out == ""


def test_run_offers_no_json(devsync: DevsyncCLI) -> None:
    # What run prints is the command's own output: a --json would be a promise it cannot keep.
    result = devsync("run", "--json", *BOB, *BOB_LAPTOP, "--", "true")
    assert result.code == 2
    assert "unrecognized arguments: --json" in result.err


def test_offline_snapshot_is_encrypted_and_used_when_unreachable(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "offline-secret-value-1234"
    assert devsync("env", "set", "MY_SECRET", "--secret", *BOB, *BOB_LAPTOP, stdin=secret).code == 0
    assert _dump(devsync, *BOB, *BOB_LAPTOP)[0] == 0  # online: writes the snapshot
    blobs = list((devsync.home / "state" / "snapshots").glob("*.bin"))
    assert len(blobs) == 1
    assert oct(blobs[0].stat().st_mode & 0o777) == "0o600"
    raw = blobs[0].read_bytes()
    assert secret.encode() not in raw
    assert b"BOB_DEBUG_PORT" not in raw

    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    started = time.monotonic()
    down = devsync("run", *BOB, *BOB_LAPTOP, "--", "true")
    assert down.code == 4
    assert time.monotonic() - started < 15
    code, dump = _dump(devsync, "--offline", *BOB, *BOB_LAPTOP)
    assert code == 0
    assert dump["env"]["MY_SECRET"] == secret
    assert dump["files"][".npmrc"][0].startswith("registry=")
    # Another target has no snapshot: unavailable, said plainly.
    other = devsync(
        "run", "--offline", *BOB, "--project", "storefront", "--env", "staging", "--", "true"
    )
    assert other.code == 4
    assert "no offline snapshot" in other.err


def test_offline_snapshot_opens_only_for_the_identity_that_fetched_it(
    devsync: DevsyncCLI,
) -> None:
    # The profile acts as bob; its snapshot holds bob's secrets. Once the profile acts as
    # someone else (here carol, a viewer who may not reveal them), the snapshot must not open.
    secret = "bob-only-secret-5678"
    assert devsync("env", "set", "MY_SECRET", "--secret", *BOB, *BOB_LAPTOP, stdin=secret).code == 0
    config = devsync.home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)

    def profile(user: str, url: str) -> None:
        config.write_text(
            f'default_profile = "p"\n[profiles.p]\nkind = "local"\n'
            f'database_url = "{url}"\nuser = "{user}"\n'
        )

    profile("bob", devsync.db_url)
    assert _dump(devsync, "--profile", "p", *BOB_LAPTOP)[0] == 0  # online: bob's snapshot
    down = "postgresql://nobody@127.0.0.1:1/none"
    profile("bob", down)
    code, dump = _dump(devsync, "--profile", "p", "--offline", *BOB_LAPTOP)
    assert code == 0
    assert dump["env"]["MY_SECRET"] == secret
    profile("carol", down)
    code, dump = _dump(devsync, "--profile", "p", "--offline", *BOB_LAPTOP)
    assert code == 4
    assert dump == {}  # the command never started with bob's values


def test_file_configurations_that_clash_are_one_sentence(
    devsync: DevsyncCLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "conf" and "conf/inner.txt" cannot both be written: one clear sentence, exit 2, and the
    # private folder is removed again.
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for key in ("conf", "conf/inner.txt"):
        assert devsync("env", "set", key, "--type", "file", *BOB, *BOB_LAPTOP, stdin="x").code == 0
    result = devsync("run", *BOB, *BOB_LAPTOP, "--", "true")
    assert result.code == 2
    assert "clashes with" in result.err
    assert "'conf'" in result.err
    assert "'conf/inner.txt'" in result.err
    assert "Traceback" not in result.err
    assert list(scratch.iterdir()) == []


def test_tampered_snapshot_is_refused(devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _dump(devsync, *BOB, *BOB_LAPTOP)[0] == 0
    blob = next((devsync.home / "state" / "snapshots").glob("*.bin"))
    data = bytearray(blob.read_bytes())
    data[-5] ^= 0xFF
    blob.write_bytes(bytes(data))
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = devsync("run", "--offline", *BOB, *BOB_LAPTOP, "--", "true")
    assert result.code == 4
    assert "altered" in result.err


SIGNAL_CHILD = """
import signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
def on(sig, frame):
    with out.open("a") as f:
        f.write(signal.Signals(sig).name + "\\n")
    if sig == signal.SIGTERM:
        sys.exit(42)
signal.signal(signal.SIGTERM, on)
signal.signal(signal.SIGUSR1, on)
out.write_text("ready\\n")
while True:
    time.sleep(0.05)
"""


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_signals_are_forwarded_and_the_exit_code_returns(devsync: DevsyncCLI) -> None:
    out = devsync.home / "signals.log"
    proc = devsync.popen(
        "run", *BOB, *BOB_LAPTOP, "--", PY, "-c", SIGNAL_CHILD, str(out), stderr=subprocess.PIPE
    )
    try:
        _wait_for(lambda: out.exists() and "ready" in out.read_text())
        proc.send_signal(signal.SIGUSR1)
        _wait_for(lambda: "SIGUSR1" in out.read_text())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 42
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.read_text().splitlines() == ["ready", "SIGUSR1", "SIGTERM"]


def test_snapshot_lookup_key_is_the_encryption_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    from datetime import UTC, datetime

    from devsync_tui.core import crypto

    crypto._reset_for_tests()
    snap = snapshot.Snapshot("p", "proj", "e", "env", datetime.now(UTC), {"A": "1"}, {"f": "x"})
    a = snapshot.lookup_key(env="a")
    b = snapshot.lookup_key(env="b")
    snapshot.save(a, snap)
    assert snapshot.load(a) == snap
    os.replace(snapshot.path_for(a), snapshot.path_for(b))  # moved to another target
    with pytest.raises(snapshot.SnapshotError):
        snapshot.load(b)
    crypto._reset_for_tests()


WATCH_CHILD = """
import os, signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
with out.open("a") as f:
    f.write(f"{os.getpid()} {os.environ.get('LOG_LEVEL')} {os.environ.get('NEW_KEY', '-')}\\n")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(0.05)
"""


def test_watch_restarts_the_child_when_its_configuration_changes(devsync: DevsyncCLI) -> None:
    out = devsync.home / "watch.log"
    proc = devsync.popen(
        "run",
        "--watch",
        "--grace",
        "5",
        *BOB,
        *BOB_LAPTOP,
        "--",
        PY,
        "-c",
        WATCH_CHILD,
        str(out),
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: out.exists() and out.read_text().count("\n") == 1)
        first_pid, level, _ = out.read_text().split()
        assert level == "debug"
        # No waiting for the feed: a change made before it subscribes is caught when it goes
        # live (the runner compares then).
        # Another environment's change is not relevant: no restart for it.
        other = ("--user", "erin", "--project", "storefront", "--env", "staging")
        assert devsync("env", "set", "UNRELATED=1", *other).code == 0
        # A change from another connection to a key the child uses: restart with the value.
        assert devsync("env", "set", "LOG_LEVEL=trace", *BOB, *BOB_LAPTOP).code == 0
        _wait_for(lambda: out.read_text().count("\n") >= 2)
        second_pid, level, _ = out.read_text().splitlines()[1].split()
        assert level == "trace"
        assert second_pid != first_pid
        # A new project default is inherited, so it is relevant too.
        assert (
            devsync(
                "env", "set", "NEW_KEY=fresh", *BOB, "--project", "storefront", "--project-default"
            ).code
            == 0
        )
        _wait_for(lambda: out.read_text().count("\n") >= 3)
        assert out.read_text().splitlines()[2].split()[1:] == ["trace", "fresh"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        err = proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.read_text().count("\n") == 3
    assert "configuration changed (LOG_LEVEL); restarting." in err
    with pytest.raises(ProcessLookupError):
        os.kill(int(first_pid), 0)


SLOW_STOP_CHILD = """
import os, signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
with out.open("a") as f:
    f.write(f"{os.getpid()}\\n")
def on_term(*_):
    Path(sys.argv[2]).write_text("stopping")
    time.sleep(1.5)  # takes its time to stop, as a server draining requests does
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
while True:
    time.sleep(0.05)
"""


def test_a_stop_signal_during_a_restart_stops_it(devsync: DevsyncCLI) -> None:
    out = devsync.home / "starts.log"
    stopping = devsync.home / "stopping"
    proc = devsync.popen(
        "run", "--watch", "--grace", "5", *BOB, *BOB_LAPTOP,
        "--", PY, "-c", SLOW_STOP_CHILD, str(out), str(stopping),
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for(lambda: out.exists() and out.read_text().count("\n") == 1)
        assert devsync("env", "set", "LOG_LEVEL=trace", *BOB, *BOB_LAPTOP).code == 0
        _wait_for(stopping.exists)  # the restart is stopping the child
        proc.send_signal(signal.SIGTERM)  # the service manager stops DevSync meanwhile
        code = proc.wait(timeout=10)
        err = proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0  # the child's own exit status
    time.sleep(0.5)
    assert out.read_text().count("\n") == 1, "no new child was started"
    assert "restarting" in err
    assert "Traceback" not in err
