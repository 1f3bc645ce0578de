"""``core.private_file.write_output``: a path the user named is written, never replaced by
something else (a terminal, a socket, a circle of links)."""

from __future__ import annotations

import errno
import os
import select
import socket
import stat
from pathlib import Path

import pytest

from devsync_tui.core.private_file import write_output, write_private


def _read_pty(master: int) -> bytes:
    got = b""
    while select.select([master], [], [], 1)[0]:
        chunk = os.read(master, 65536)
        if not chunk:
            break
        got += chunk
    return got


def test_a_link_to_a_terminal_is_written_through(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        link = tmp_path / "tty"
        link.symlink_to(os.ttyname(slave))
        write_output(link, b"A=1\n")
        assert _read_pty(master).replace(b"\r\n", b"\n") == b"A=1\n"
        assert link.is_symlink()
        assert stat.S_ISCHR(os.stat(os.ttyname(slave)).st_mode)
    finally:
        os.close(slave)
        os.close(master)


def test_a_socket_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises(OSError, match="Cannot write to a socket") as caught:
            write_output(path, b"A=1\n")
        assert caught.value.filename == str(path)
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        server.close()


def test_a_circle_of_links_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symbolic links") as caught:
        write_output(tmp_path / "a", b"A=1\n")
    assert caught.value.errno == errno.ELOOP
    assert os.readlink(tmp_path / "a") == "b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_chain_of_links_writes_the_last_file(tmp_path: Path) -> None:
    target = tmp_path / "real.env"
    (tmp_path / "mid").symlink_to(target)
    (tmp_path / "first").symlink_to("mid")
    write_output(tmp_path / "first", b"A=1\n")
    assert target.read_bytes() == b"A=1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert (tmp_path / "first").is_symlink()
    assert (tmp_path / "mid").is_symlink()


def test_write_private_still_replaces_a_link(tmp_path: Path) -> None:
    # DevSync's own files (session, caches, pgpass): a link planted there is replaced, never
    # followed.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"keep")
    link = tmp_path / "own"
    link.symlink_to(elsewhere)
    write_private(link, b"A=1\n")
    assert not link.is_symlink()
    assert link.read_bytes() == b"A=1\n"
    assert elsewhere.read_bytes() == b"keep"
