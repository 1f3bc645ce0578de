"""core.file_lock: per-user locks that hold across processes, in folders only the user enters."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from devsync_tui.core import file_lock


def _hold(path: str, ready: object, release: object) -> None:
    with file_lock.locked_sync(Path(path), wait=5):
        ready.set()  # type: ignore[attr-defined]
        release.wait(10)  # type: ignore[attr-defined]


def test_a_lock_held_by_another_process_makes_this_one_wait(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "x.lock"
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        began = time.monotonic()
        with pytest.raises(file_lock.LockTimeout), file_lock.locked_sync(path, wait=0.3):
            pass
        assert time.monotonic() - began >= 0.3
        release.set()
        holder.join(10)
        with file_lock.locked_sync(path, wait=5):  # free again once the holder is done
            pass
    finally:
        release.set()
        holder.join(10)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_dead_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "y.lock"
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(path), ready, release))
    holder.start()
    assert ready.wait(30)
    holder.kill()
    holder.join(10)
    with file_lock.locked_sync(path, wait=2):
        pass


async def test_two_holders_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "z.lock"
    async with file_lock.locked(path, wait=1):
        with pytest.raises(file_lock.LockTimeout):
            async with file_lock.locked(path, wait=0.1):
                pass


def test_private_folder_makes_tightens_and_refuses(tmp_path: Path) -> None:
    made = tmp_path / "made"
    assert file_lock.private_folder(made) is None
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    note = file_lock.private_folder(loose)
    assert note == f"Made {loose} private to you (it was open to other users)."
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    link = tmp_path / "link"
    link.symlink_to(made)
    with pytest.raises(file_lock.LockRefused, match="not a folder"):
        file_lock.private_folder(link)
    (made / "l.lock").symlink_to(tmp_path / "elsewhere")
    with (
        pytest.raises(file_lock.LockRefused, match="is a link"),
        file_lock.locked_sync(made / "l.lock", wait=1),
    ):
        pass
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        with pytest.raises(file_lock.LockRefused, match="belongs to another user"):
            file_lock.private_folder(foreign)
