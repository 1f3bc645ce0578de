"""Inter-process locks on files that only their owner may touch.

A lock is an exclusive ``flock`` on a 0600 file of the current user's, in a folder no other user
can change (:func:`private_folder`). ``flock`` belongs to the open file, so two holders in one
process exclude each other as two processes do, and the kernel releases it when the holder dies
(no stale lock to clean up).
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


def private_folder(folder: Path) -> bool:
    """Make sure ``folder`` exists and no other user can change what is in it; True when it
    was made now.

    A missing folder is made with mode 0700 (whatever the umask). An existing folder is never
    changed: it may be one DevSync did not make (the settings file's folder can be the user's
    home, or the data folder another account must enter), and closing it would lock others out
    without a word. So one that belongs to someone else, or that other users may write to
    without the sticky bit (they could rename or replace the files in it), is refused
    (``LockRefused``, one sentence). A sticky folder such as /tmp is accepted: others cannot
    replace this user's files there, and a file they put there first is refused by its owner.
    """
    try:
        folder.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        made = False
    except OSError as exc:
        raise LockRefused(f"Cannot use the folder {folder}: {exc.strerror}.") from None
    else:
        made = True
    try:
        if made:
            os.chmod(folder, 0o700)  # whatever the umask
        info = os.stat(folder, follow_symlinks=False)
    except OSError as exc:
        raise LockRefused(f"Cannot use the folder {folder}: {exc.strerror}.") from None
    if not stat.S_ISDIR(info.st_mode):
        raise LockRefused(f"{folder} is not a folder (a link or a file is in its place).")
    if info.st_uid != os.geteuid():
        raise LockRefused(
            f"The folder {folder} belongs to another user; DevSync keeps its private files "
            "(sessions, locks) only in a folder of yours."
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        raise LockRefused(
            f"Other users may write to the folder {folder} (mode {mode:04o}), so DevSync will "
            "not keep its private files (sessions, locks) there; choose another folder, or "
            f"run `chmod go-w {folder}` if it need not be shared."
        )
    return made


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
