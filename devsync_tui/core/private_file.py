"""Files only their owner may read, written whole or not at all.

:func:`write_private` is for DevSync's own files: whatever is at the path (a link too) is
replaced. :func:`write_output` is for a path the user named (``env export -o``): it never
replaces a link, a FIFO or a device.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

#: A folder of open descriptors (``/dev/fd``, ``/dev/stdout`` and ``/proc/self/fd`` lead there).
_FD_FOLDER = re.compile(r"/proc/\d+(/task/\d+)?/fd")
#: Links followed before giving up (the kernel's limit).
_MAX_LINKS = 40


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (a temp file beside it, fsynced,
    then renamed over it): a reader sees the old file or the new one, never half of one.

    An error raised before anything is written names ``path``, not the temp file.
    """
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, a path the user named, the way shell redirection would
    but never replacing what is there with something else.

    - Not a regular file once links are followed (a FIFO, a device, ``/dev/stdout``,
      ``/proc/self/fd/N``): written through, as ``>`` does: no create, no chmod, no rename.
    - A link to a regular file, or a dangling link: the link stays; the file it leads to is
      written by :func:`write_private` (0600, an existing file too: it holds secrets).
    - A regular file or a new path: :func:`write_private`.
    - A folder: IsADirectoryError naming ``path``, nothing written.
    """
    found = refuse_folder(path)
    if found is not None and (not stat.S_ISREG(found.st_mode) or _through_descriptor(path)):
        _write_through(path, data)
    else:
        write_private(_link_target(path), data)


def refuse_folder(path: Path) -> os.stat_result | None:
    """What ``path`` leads to (links followed), None when nothing is there; IsADirectoryError
    naming ``path`` when it is a folder (a command checks before it does any work)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(found.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    return found


def _through_descriptor(path: Path) -> bool:
    """Whether ``path`` leads to its file through an open descriptor (``/dev/stdout``,
    ``/proc/self/fd/N``) rather than a name: such a file is written through, never renamed
    over."""
    for _ in range(_MAX_LINKS):
        if not path.is_symlink():
            return False
        if _FD_FOLDER.fullmatch(os.path.realpath(path.parent)):
            return True
        path = path.parent / os.readlink(path)
    return False


def _write_through(path: Path, data: bytes) -> None:
    """Open what is at ``path`` for writing (never creating it) and write ``data``: a FIFO
    waits for its reader, as with ``>``. A socket cannot be opened: OSError naming ``path``."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOCTTY)
    except OSError as exc:
        if exc.errno == errno.ENXIO and stat.S_ISSOCK(path.stat().st_mode):
            raise OSError(exc.errno, "Cannot write to a socket", str(path)) from None
        raise
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _link_target(path: Path) -> Path:
    """The file ``path`` names: ``path`` itself, or for a link (dangling too) where its links
    lead, so that the link is kept. OSError (ELOOP) when they lead round in a circle."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    return target
