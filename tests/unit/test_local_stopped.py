"""The embedded database stopped with ``devsync local stop``: a failed stop says what pg_ctl
said and takes its "stopped on purpose" mark back; a command that starts it again says so
(``devsync local start`` does not need to). The real server is in tests/cli/test_local_cli.py;
here pg_ctl and the server's state are stand-ins, so every branch runs as any user."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres import cluster, pgctl, server

DENIED = 'pg_ctl: could not access directory "/x/pgdata": Permission denied'


@pytest.fixture
def pgdata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(tmp_path))
    folder = tmp_path / "pgdata"
    folder.mkdir()
    (folder / "PG_VERSION").write_text("18\n")
    monkeypatch.setattr(cluster, "pgdata", lambda: folder)
    monkeypatch.setattr(cluster, "run_as", lambda **_k: cluster.RunAs(0, 0, None))
    return folder


def _running(monkeypatch: pytest.MonkeyPatch, *answers: bool) -> None:
    """``_postmaster`` answers running (or not) in turn; the last answer repeats."""
    left = list(answers)

    def postmaster(_pgdata: Path) -> object | None:
        now = left.pop(0) if len(left) > 1 else left[0]
        return SimpleNamespace(pid=1) if now else None

    monkeypatch.setattr(server, "_postmaster", postmaster)


def _pg_ctl_fails(monkeypatch: pytest.MonkeyPatch, output: str) -> None:
    def run(program: str, _args: object, _who: object, **_k: object) -> str:
        raise subprocess.CalledProcessError(1, program, output)

    monkeypatch.setattr(pgctl, "run", run)


def test_a_failed_stop_says_what_pg_ctl_said_and_leaves_no_stopped_mark(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _running(monkeypatch, True)  # still running after the failed stop
    _pg_ctl_fails(monkeypatch, f"{DENIED}\n")
    with pytest.raises(Unavailable) as failed:
        server.stop()
    assert str(failed.value) == (
        f"Could not stop the local database ({DENIED}); PostgreSQL's log is {pgdata / 'log'}."
    )
    assert "CalledProcessError" not in str(failed.value)
    assert not cluster.stopped_marker().exists()
    assert not server.stopped_on_purpose()


def test_a_stop_that_failed_but_stopped_it_keeps_the_mark(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _running(monkeypatch, True, False)  # pg_ctl complained, yet the server is gone
    _pg_ctl_fails(monkeypatch, "pg_ctl: server does not shut down\n")
    with pytest.raises(Unavailable, match="server does not shut down"):
        server.stop()
    assert server.stopped_on_purpose()


def test_a_stop_that_worked_marks_it_stopped_on_purpose(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _running(monkeypatch, True)
    monkeypatch.setattr(pgctl, "run", lambda *_a, **_k: "server stopped\n")
    assert server.stop() is True
    assert server.stopped_on_purpose()


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (subprocess.CalledProcessError(1, "pg_ctl", f"waiting\n{DENIED}\nIs it there?\n"), DENIED),
        (
            subprocess.CalledProcessError(1, "initdb", "running bootstrap\nFATAL:  no space\n"),
            "FATAL:  no space",
        ),
        (subprocess.CalledProcessError(3, "pg_ctl", ""), "pg_ctl exited with status 3"),
        (subprocess.CalledProcessError(1, "pg_ctl", "pg_ctl: " + "x" * 400), None),
        (subprocess.TimeoutExpired(["/opt/pg/bin/pg_ctl", "stop"], 60), "pg_ctl did not finish"),
        (PermissionError(13, "Permission denied"), "Permission denied"),
    ],
)
def test_what_a_program_said_is_one_short_line(error: BaseException, said: str | None) -> None:
    line = pgctl.said(error)
    assert "\n" not in line
    assert len(line) <= 200
    if said is None:
        assert line.startswith("pg_ctl: xxx")
        assert line.endswith("…")
    else:
        assert line.startswith(said)


def _start_stand_ins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``ensure_running`` without a server: what its ``_start_server`` was asked to do."""
    started: list[str] = []

    def start(_report: object, _tell: object) -> str:
        started.append("start")
        return "postgresql:///postgres?host=/nowhere"

    monkeypatch.setattr(server, "_start_server", start)
    monkeypatch.setattr(server, "_ensure_schema", lambda *_a: None)
    monkeypatch.setattr(server, "_write_schema_stamp", lambda *_a: None)
    return started


def _mark_stopped() -> None:
    marker = cluster.stopped_marker()
    marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker.touch()


def test_a_command_that_starts_it_again_says_so_once(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _start_stand_ins(monkeypatch)
    _running(monkeypatch, False)
    _mark_stopped()
    loading: list[str] = []
    server.ensure_running(loading.append)
    err = capsys.readouterr().err
    assert err == f"devsync: {server.STARTED_AGAIN}\n"
    assert server.STARTED_AGAIN == (
        "Started the local database again (it was stopped with `devsync local stop`)."
    )
    assert loading == []  # not only in the dashboard's passing loading line
    assert not server.stopped_on_purpose()
    server.ensure_running()  # nothing was stopped on purpose any more: nothing to say
    assert capsys.readouterr().err == ""
    assert started == ["start", "start"]


def test_the_notice_goes_where_the_caller_says(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _start_stand_ins(monkeypatch)
    _running(monkeypatch, False)
    _mark_stopped()
    notices: list[str] = []
    server.ensure_running(notice=notices.append)
    assert notices == [server.STARTED_AGAIN]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("case", ["asked", "running", "deleted", "never stopped"])
def test_nothing_to_say(
    case: str,
    pgdata: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`devsync local start` (asked for it), a server something else started meanwhile, a
    cluster `local delete` removed (created anew, not started again), no stop at all."""
    _start_stand_ins(monkeypatch)
    _running(monkeypatch, case == "running")
    if case != "never stopped":
        _mark_stopped()
    if case == "deleted":
        (pgdata / "PG_VERSION").unlink()
    server.ensure_running(asked=case == "asked")
    assert capsys.readouterr().err == ""
    assert not server.stopped_on_purpose()  # any start ends "stopped on purpose"
