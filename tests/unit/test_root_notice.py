"""What DevSync changed on the machine starting its database as root (a system user, folder
permissions) is said on stderr and kept in the log — not only in the dashboard's loading line,
which shows for a moment (issue 15, "Honest status")."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from devsync_tui.backend.postgres import server


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_root_changes_go_to_stderr_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path))
    made = ["/var/lib/devsync/abc (0700, pgserver)"]
    keep = _Keep()
    logger = logging.getLogger("devsync.local")
    logger.addHandler(keep)
    try:
        server._tell_root_once(tmp_path / "pgdata", False, made, server._tell_stderr)
    finally:
        logger.removeHandler(keep)
    err = capsys.readouterr().err
    assert "devsync: Running as root: PostgreSQL runs as the system user 'pgserver'" in err
    assert "(created now with useradd)." in err
    assert "no folder above it was changed" in err
    assert "Made: /var/lib/devsync/abc (0700, pgserver)." in err
    assert any("created now with useradd" in line for line in keep.lines)
    assert any("/var/lib/devsync/abc" in line for line in keep.lines)
    assert any("useradd" in line for line in server.root_notices())


def test_ensure_running_says_it_on_stderr_not_in_the_loading_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path))

    def start(_report, tell) -> str:  # type: ignore[no-untyped-def]
        tell("Running as root: a change")
        return "postgresql:///postgres?host=/nowhere"

    monkeypatch.setattr(server, "_start_server", start)
    monkeypatch.setattr(server, "_ensure_schema", lambda *_a: None)
    monkeypatch.setattr(server, "_write_schema_stamp", lambda *_a: None)
    loading: list[str] = []
    server.ensure_running(loading.append)
    assert "devsync: Running as root: a change" in capsys.readouterr().err
    assert "Running as root: a change" not in loading


def test_repeating_them_after_the_terminal_hung_up_is_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dashboard ended because its terminal hung up: stderr is that dead terminal (EIO).
    Nothing can be said there, and the end must not become an "unhandled error"."""
    import io

    from devsync_tui.dashboard import launch

    class _HungUp(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(server, "root_notices", lambda: ["Running as root: a change"])
    monkeypatch.setattr("sys.stderr", _HungUp())
    launch._repeat_root_notice()  # no exception


_LOCAL_START = """
import sys
from pathlib import Path
from types import SimpleNamespace

from devsync_tui import cli
from devsync_tui.backend.postgres import server
from devsync_tui.commands import local

def ensure_running(progress, **_options):
    pgdata = Path(sys.argv[1]) / "pgdata"
    server._tell_root_once(pgdata, False, [f"{pgdata} (pgserver's, private)"], server._tell_stderr)
    return "postgresql:///devsync?host=/nowhere"

server.ensure_running = ensure_running
server.status = lambda: SimpleNamespace(pid=1, data_dir=Path(sys.argv[1]) / "pgdata")
local._apply_retention = lambda _url: None
sys.exit(cli.main(["local", "start"]))
"""


def test_local_start_says_each_root_line_once(tmp_path: Path) -> None:
    """``devsync local start`` as root: each line once, with its ``devsync:`` prefix (the log
    keeps them; Python's last-resort handler must not print them a second time, bare). A
    process of its own: pytest's log capture would hide the last-resort handler here."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DEVSYNC_DATA_DIR": str(tmp_path),
        "DEVSYNC_STATE_DIR": str(tmp_path / "state"),
        "DEVSYNC_CONFIG": str(tmp_path / "config.toml"),
        "DEVSYNC_KEYRING": "off",
    }
    env.pop("DEVSYNC_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", _LOCAL_START, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    made = f"Made: {tmp_path / 'pgdata'} (pgserver's, private)."
    assert lines.count(f"devsync: {made}") == 1
    assert all(line.startswith("devsync: ") for line in lines), lines
    assert sum("Running as root" in line for line in lines) == 1
    log = (tmp_path / "state" / "devsync.log").read_text()
    assert made in log
