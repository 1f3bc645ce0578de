"""Inter-process locks on files that only their owner may touch.

A lock is an exclusive ``flock`` on a 0600 file in a folder that only the current user can
enter. ``flock`` belongs to the open file, so two holders in one process exclude each other as
two processes do, and the kernel releases it when the holder dies (no stale lock to clean up).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

#: How often a waiting holder tries again (seconds).
POLL = 0.02


class LockRefused(Exception):
    """The lock's folder or file is not private to this user (the message is one sentence)."""


class LockTimeout(Exception):
    """Another holder kept the lock longer than the caller would wait."""


def private_folder(folder: Path) -> str | None:
    """Make sure ``folder`` exists and only its owner, this user, can enter it.

    A missing folder is made with mode 0700. A folder of this user that others may enter is
    tightened to 0700 and the returned sentence says so (None: nothing was changed). A folder
    that belongs to someone else is refused (``LockRefused``).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = os.stat(folder, follow_symlinks=False)
    except OSError as exc:
        raise LockRefused(f"Cannot use the folder {folder}: {exc.strerror}.") from None
    if not stat.S_ISDIR(info.st_mode):
        raise LockRefused(f"{folder} is not a folder (a link or a file is in its place).")
    if info.st_uid != os.geteuid():
        raise LockRefused(
            f"The folder {folder} belongs to another user; DevSync keeps its locks only in a "
            "folder of yours."
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)
        return f"Made {folder} private to you (it was open to other users)."
    return None


def _open(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LockRefused(f"The lock file {path} is a link; remove it.") from None
        raise LockRefused(f"Cannot open the lock file {path}: {exc.strerror}.") from None
    info = os.fstat(fd)
    if info.st_uid != os.geteuid():
        os.close(fd)
        raise LockRefused(f"The lock file {path} belongs to another user; remove it.")
    if stat.S_IMODE(info.st_mode) != 0o600:
        os.fchmod(fd, 0o600)
    return fd


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.asynccontextmanager
async def locked(path: Path, *, wait: float) -> AsyncIterator[None]:
    """Hold the lock ``path`` (waiting without blocking the event loop, up to ``wait`` s)."""
    private_folder(path.parent)
    fd = _open(path)
    try:
        deadline = time.monotonic() + wait
        while not _try(fd):
            if time.monotonic() >= deadline:
                raise LockTimeout(str(path))
            await asyncio.sleep(POLL)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


@contextlib.contextmanager
def locked_sync(path: Path, *, wait: float) -> Iterator[None]:
    """``locked`` for code without an event loop."""
    private_folder(path.parent)
    fd = _open(path)
    try:
        deadline = time.monotonic() + wait
        while not _try(fd):
            if time.monotonic() >= deadline:
                raise LockTimeout(str(path))
            time.sleep(POLL)
        yield
    finally:
        os.close(fd)
