"""``devsync env export --output``: where the file goes when PATH is not a plain new file (a
FIFO, a descriptor, a link, a folder), and ``--json`` with ``--format``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from devsync_tui.logging_setup import current_log_file
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _export(devsync: DevsyncCLI, *argv: str) -> str:
    """What ``env export`` prints on stdout (the reference the files are compared with)."""
    result = devsync("env", "export", *argv, *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert result.out
    return result.out


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def _leftovers(folder: Path) -> list[str]:
    """Temp files left beside the output (``.NAME.xxxx``)."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_a_fifo_is_written_through_not_replaced(devsync: DevsyncCLI) -> None:
    expected = _export(devsync)
    fifo = devsync.home / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(reader, True)
    keep_open = os.open(fifo, os.O_WRONLY)  # no EOF for the reader before devsync writes
    chunks: list[bytes] = []

    def read_all() -> None:
        while chunk := os.read(reader, 65536):
            chunks.append(chunk)

    thread = threading.Thread(target=read_all, daemon=True)
    thread.start()
    try:
        result = devsync("env", "export", "-o", str(fifo), *BOB, *BOB_LAPTOP)
    finally:
        os.close(keep_open)
        thread.join(timeout=10)
        os.close(reader)
    assert result.code == 0, result.err
    assert b"".join(chunks).decode() == expected
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert _leftovers(devsync.home) == []


def test_a_link_to_an_open_descriptor_is_written_through(devsync: DevsyncCLI) -> None:
    expected = _export(devsync)
    read_end, write_end = os.pipe()
    link = devsync.home / "to-pipe"
    link.symlink_to(f"/proc/self/fd/{write_end}")
    try:
        result = devsync("env", "export", "--output", str(link), *BOB, *BOB_LAPTOP)
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        got = pipe.read().decode()
    assert result.code == 0, result.err
    assert got == expected
    assert link.is_symlink()
    assert os.readlink(link) == f"/proc/self/fd/{write_end}"


def test_a_link_to_stdout_prints_in_a_child_process(devsync: DevsyncCLI) -> None:
    # What QA ran as `-o /dev/stdout`, through a link of our own so that a regression could
    # only replace the link, never the machine's /dev/stdout.
    expected = _export(devsync)
    link = devsync.home / "mystdout"
    link.symlink_to("/proc/self/fd/1")
    child = devsync.popen(
        "env", "export", "-o", "mystdout", *BOB, *BOB_LAPTOP, stdout=subprocess.PIPE
    )
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert out.decode() == expected
    assert os.readlink(link) == "/proc/self/fd/1"


def test_a_link_to_a_regular_file_is_kept_and_its_file_written(devsync: DevsyncCLI) -> None:
    expected = _export(devsync)
    folder = devsync.home / "real"
    folder.mkdir()
    target = folder / "app.env"
    target.write_text("OLD=1\n")
    target.chmod(0o644)
    link = devsync.home / "app.env"
    link.symlink_to(target)
    result = devsync("env", "export", "-o", str(link), *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text() == expected
    assert _private(target)  # it holds secrets: 0600 like any file export writes
    assert _leftovers(folder) == []
    assert _leftovers(devsync.home) == []


def test_a_dangling_link_creates_its_target(devsync: DevsyncCLI) -> None:
    expected = _export(devsync)
    link = devsync.home / "app.env"
    link.symlink_to("later.env")  # relative, like most dotfile links
    result = devsync("env", "export", "-o", str(link), *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert link.is_symlink()
    target = devsync.home / "later.env"
    assert target.read_text() == expected
    assert _private(target)


def test_a_dangling_link_into_a_missing_folder_writes_nothing(devsync: DevsyncCLI) -> None:
    link = devsync.home / "app.env"
    missing = devsync.home / "nowhere" / "app.env"
    link.symlink_to(missing)
    result = devsync("env", "export", "-o", str(link), *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert f"No such file or directory ({missing})." in result.err
    assert os.readlink(link) == str(missing)
    assert "Traceback" not in result.err


def test_a_folder_or_a_link_to_one_is_refused(devsync: DevsyncCLI) -> None:
    folder = devsync.home / "out"
    folder.mkdir()
    link = devsync.home / "out-link"
    link.symlink_to(folder)
    log_file = current_log_file()
    logged_before = log_file.stat().st_size if log_file.exists() else 0
    for path in (folder, link):
        result = devsync("env", "export", "-o", str(path), *BOB, *BOB_LAPTOP)
        assert result.code == 2
        # Refused before anything is read: no notes, no secret revealed for nothing.
        assert result.err == f"devsync: Is a directory ({path}).\n"
    assert list(folder.iterdir()) == []
    assert link.is_symlink()
    assert _leftovers(devsync.home) == []
    # bad input, said in one sentence: the log does not call it a crash (no traceback)
    with log_file.open(encoding="utf-8") as handle:  # what these two runs logged (shared log)
        handle.seek(logged_before)
        log = handle.read()
    assert "Is a directory" in log
    assert "unhandled error" not in log
    assert "Traceback" not in log


def test_a_regular_file_is_still_replaced_atomically_and_made_private(
    devsync: DevsyncCLI,
) -> None:
    expected = _export(devsync)
    out = devsync.home / "app.env"
    out.write_text("OLD=1\n" * 1000)
    out.chmod(0o644)
    before = out.stat().st_ino
    result = devsync("env", "export", "-o", str(out), *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert out.read_text() == expected
    assert _private(out)
    assert out.stat().st_ino != before  # renamed over, not rewritten in place
    new = devsync.home / "new.env"
    assert devsync("env", "export", "-o", str(new), *BOB, *BOB_LAPTOP).code == 0
    assert new.read_text() == expected
    assert _private(new)
    assert _leftovers(devsync.home) == []


def test_json_is_format_json_and_a_conflicting_format_is_refused(devsync: DevsyncCLI) -> None:
    as_json = _export(devsync, "--json")
    assert as_json == _export(devsync, "--format", "json")
    assert isinstance(json.loads(as_json), dict)
    assert _export(devsync, "--json", "--format", "json") == as_json
    result = devsync("env", "export", "--json", "--format", "shell", *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert result.out == ""
    assert "--json" in result.err
    assert "shell" in result.err
