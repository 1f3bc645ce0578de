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


def test_private_folder_makes_a_missing_one_private_and_refuses_links(tmp_path: Path) -> None:
    made = tmp_path / "made"
    old_umask = os.umask(0o022)
    try:
        assert file_lock.private_folder(made) is True
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert file_lock.private_folder(made) is False  # there already: nothing to do
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


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o711, 0o1777])
def test_an_existing_folder_is_used_as_it_is_never_chmod_ed(tmp_path: Path, mode: int) -> None:
    """A folder DevSync did not make (the settings file's, which may be the data folder the
    service user enters, or $HOME) keeps its mode: closing it locked pgserver out of pgdata.
    Others may not write to these (or only with the sticky bit, like /tmp)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    assert file_lock.private_folder(shared) is False
    with file_lock.locked_sync(shared / "x.lock", wait=1):
        pass
    assert stat.S_IMODE(shared.stat().st_mode) == mode
    assert stat.S_IMODE((shared / "x.lock").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o775, 0o777, 0o757])
def test_a_folder_others_may_write_to_is_refused_and_left_alone(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(file_lock.LockRefused) as refused:
        file_lock.private_folder(shared)
    assert str(refused.value) == (
        f"Other users may write to the folder {shared} (mode {mode:04o}), so DevSync will not "
        "keep its private files (sessions, locks) there; choose another folder, or run "
        f"`chmod go-w {shared}` if it need not be shared."
    )
    assert stat.S_IMODE(shared.stat().st_mode) == mode
    with pytest.raises(file_lock.LockRefused), file_lock.locked_sync(shared / "x.lock", wait=1):
        pass
    assert not (shared / "x.lock").exists()


def test_a_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a folder of another user needs root (CI runs as root)")
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    with pytest.raises(file_lock.LockRefused, match="belongs to another user"):
        file_lock.private_folder(foreign)
    assert stat.S_IMODE(foreign.stat().st_mode) == 0o700
