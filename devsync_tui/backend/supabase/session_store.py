"""Where a Supabase session is kept, without supabase-py: the OS keyring, else a 0600 JSON file
under ``locations.config_dir()``. ``session.SessionStorage`` (what supabase-py is handed) stores
through this; ``peek`` reads a stored value directly, e.g. whose cached view the dashboard
opens (``dashboard.last_view``) before its first frame, which must not pay for importing
``supabase_auth`` (~0.25 s).

A value found in the file is the value, and is written back there (``SessionStorage``): it
went to the file because no keyring could take it, and on a headless machine finding it there
first spares every start keyring's import and backend discovery (0.15-0.2 s of CPU here). So
``keyring`` is imported only when the file does not hold the value.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from devsync_tui import locations
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.core import file_lock
from devsync_tui.core.keyring_choice import keyring_disabled
from devsync_tui.core.private_file import write_private

log = logging.getLogger("devsync.session")

#: Keyring service name; the keyring "username" is ``<namespace>|<key>``.
KEYRING_SERVICE = "devsync"
#: The fallback file's name inside ``locations.config_dir()``.
FALLBACK_FILE = "session.json"
_NOTICE_FLAG = "notice_shown"

_file_lock = threading.Lock()
#: Bumped by every change this process makes to a stored session (the file or the keyring):
#: with the file's ``stat`` it tells a process cheaply whether the stored session may have
#: changed since it last looked (``SessionStorage.stamp``).
_generation = 0


def generation() -> int:
    """How many changes this process has made to stored sessions (see ``_generation``)."""
    return _generation


def changed() -> None:
    """Note a change this process made to a stored session."""
    global _generation
    _generation += 1


def fallback_path() -> Path:
    """The 0600 file used when no keyring backend can store a secret."""
    return locations.config_dir() / FALLBACK_FILE


def keyring_usable() -> bool:
    """True when keyring has a backend that can store secrets (not the ``fail`` backend) and
    ``DEVSYNC_KEYRING`` does not keep it out."""
    if keyring_disabled():
        return False
    try:
        import keyring  # deferred: see the module's docstring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is "no keyring"
        return False
    if isinstance(backend, fail.Keyring):
        return False
    priority = getattr(backend, "priority", 1)
    try:
        return float(priority) > 0
    except (TypeError, ValueError):
        return True


class _FallbackFile:
    """A JSON object ``{"namespaces": {ns: {key: value}}, "notice_shown": bool}`` in a 0600 file.

    Every write goes to a fresh temporary file created with mode 0600 (``mkstemp`` uses
    ``O_EXCL`` and 0600, so the file is never readable by others, not even briefly) in the same
    directory, then ``os.replace``-d over the old one, so a reader never sees half a file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            text = self._read_own()
        except FileNotFoundError:
            return {"namespaces": {}}
        except OSError as exc:
            log.warning("cannot read the session file %s: %s", self.path, exc)
            return {"namespaces": {}}
        if text is None:
            log.warning("ignoring the session file %s: it belongs to another user", self.path)
            return {"namespaces": {}}
        try:
            data = json.loads(text)
        except ValueError:
            log.warning("the session file %s is not JSON; ignoring it", self.path)
            return {"namespaces": {}}
        if not isinstance(data, dict) or not isinstance(data.get("namespaces"), dict):
            return {"namespaces": {}}
        return data

    def _read_own(self) -> bytes | None:
        """The file's content, or None when it is not this user's: in a shared sticky folder
        someone else could have put a session of theirs there first."""
        with self.path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_uid != os.geteuid():
                return None
            return handle.read()

    def stamp(self) -> tuple[int, int, int, int] | None:
        """What changes whenever the file does (None: there is no file): a write replaces it
        (a new inode), and a sign-out or a refresh changes its size or times. One ``stat``
        (the whole check is about 5 microseconds): made before every request
        (``SupabaseRest._fresh``)."""
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def write(self, data: dict[str, Any]) -> None:
        # A folder no other user can change (made 0700 if missing; an existing one is never
        # chmod-ed, and refused when it is another user's or open to their writes): the
        # session and its lock live there.
        try:
            file_lock.private_folder(self.path.parent)
        except file_lock.LockRefused as exc:
            raise PermissionDenied(str(exc)) from None
        write_private(self.path, json.dumps(data).encode("utf-8"))
        changed()

    def get(self, namespace: str, key: str) -> str | None:
        with _file_lock:
            value = self.read()["namespaces"].get(namespace, {}).get(key)
        return value if isinstance(value, str) else None

    def holds(self, namespace: str) -> bool:
        """Whether the file holds any value of ``namespace``."""
        with _file_lock:
            return bool(self.read()["namespaces"].get(namespace))

    def set(self, namespace: str, key: str, value: str) -> bool:
        """Store; returns True when this is the first time the fallback file holds a session
        (the caller shows the notice then)."""
        with _file_lock:
            data = self.read()
            data["namespaces"].setdefault(namespace, {})[key] = value
            first = not data.get(_NOTICE_FLAG)
            data[_NOTICE_FLAG] = True
            self.write(data)
        return first

    def remove(self, namespace: str, key: str) -> None:
        with _file_lock:
            data = self.read()
            entries = data["namespaces"].get(namespace)
            if not entries or key not in entries:
                return
            del entries[key]
            if not entries:
                del data["namespaces"][namespace]
            self.write(data)


def peek(namespace: str, key: str) -> str | None:
    """The value stored under ``key`` for ``namespace`` (the file first, then the keyring, as
    ``SessionStorage`` reads), or None. Never writes."""
    value = _FallbackFile(fallback_path()).get(namespace, key)
    if value is not None or not keyring_usable():
        return value
    import keyring  # deferred: see the module's docstring

    try:
        return keyring.get_password(KEYRING_SERVICE, f"{namespace}|{key}")
    except Exception:  # unusable after all: nothing stored there
        return None
