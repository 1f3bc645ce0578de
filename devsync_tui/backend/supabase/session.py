"""Where a Supabase session (access + refresh token) is kept between runs.

``SessionStorage`` is the ``AsyncSupportedStorage`` handed to supabase-py: it stores in the OS
keyring, and where keyring has no usable backend (the default on a headless server: no D-Bus
session) in a 0600 JSON file under ``locations.config_dir()``, with a one-time notice saying so.

Importing this module imports ``supabase_auth`` (~0.25 s), so only the Supabase transport and the
login command import it, inside their functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import keyring
from keyring.backends import fail
from keyring.errors import PasswordDeleteError
from supabase_auth import AsyncSupportedStorage

from devsync_tui import locations
from devsync_tui.backend.errors import PermissionDenied, Unavailable
from devsync_tui.core import file_lock
from devsync_tui.core.private_file import write_private

log = logging.getLogger("devsync.session")

#: Keyring service name; the keyring "username" is ``<namespace>|<key>``.
KEYRING_SERVICE = "devsync"
#: The fallback file's name inside ``locations.config_dir()``.
FALLBACK_FILE = "session.json"
_NOTICE_FLAG = "notice_shown"
#: How long a process waits for another one's refresh (a refresh is one HTTP request).
LOCK_TIMEOUT = 30.0

_file_lock = threading.Lock()


def fallback_path() -> Path:
    """The 0600 file used when no keyring backend can store a secret."""
    return locations.config_dir() / FALLBACK_FILE


def keyring_usable() -> bool:
    """True when keyring has a backend that can store secrets (not the ``fail`` backend)."""
    try:
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
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"namespaces": {}}
        except OSError as exc:
            log.warning("cannot read the session file %s: %s", self.path, exc)
            return {"namespaces": {}}
        try:
            data = json.loads(text)
        except ValueError:
            log.warning("the session file %s is not JSON; ignoring it", self.path)
            return {"namespaces": {}}
        if not isinstance(data, dict) or not isinstance(data.get("namespaces"), dict):
            return {"namespaces": {}}
        return data

    def write(self, data: dict[str, Any]) -> None:
        try:
            file_lock.private_folder(self.path.parent)
        except file_lock.LockRefused as exc:
            raise PermissionDenied(str(exc)) from None
        write_private(self.path, json.dumps(data).encode("utf-8"))

    def get(self, namespace: str, key: str) -> str | None:
        with _file_lock:
            value = self.read()["namespaces"].get(namespace, {}).get(key)
        return value if isinstance(value, str) else None

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


class SessionStorage(AsyncSupportedStorage):
    """supabase-py session storage: OS keyring first, else the 0600 fallback file.

    ``namespace`` keeps sessions of different Supabase projects (profiles) apart. Keyring
    calls may block (D-Bus, macOS Keychain), so they run in a worker thread.
    """

    def __init__(
        self,
        namespace: str,
        *,
        use_keyring: bool | None = None,
        path: Path | None = None,
    ) -> None:
        self.namespace = namespace
        self._use_keyring = keyring_usable() if use_keyring is None else use_keyring
        self._file = _FallbackFile(path or fallback_path())
        #: Set the first time a session lands in the fallback file; read with ``pop_notice``.
        self._notice: str | None = None
        self._lock_depth = 0

    @property
    def lock_path(self) -> Path:
        """The inter-process lock of the stored session: beside the session file (also when
        the session itself is in the keyring), in a folder only this user can enter."""
        return self._file.path.with_suffix(".lock")

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold the session lock: every DevSync process of this user that reads, refreshes or
        replaces the stored session does so holding it. Re-entering from this storage is a no-op
        (the supabase-py writes of a sign-in or refresh happen inside our own locked block)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        try:
            async with file_lock.locked(self.lock_path, wait=LOCK_TIMEOUT):
                self._lock_depth = 1
                try:
                    yield
                finally:
                    self._lock_depth = 0
        except file_lock.LockRefused as exc:
            raise PermissionDenied(str(exc)) from None
        except file_lock.LockTimeout:
            raise Unavailable(
                f"Another DevSync process has held the session lock {self.lock_path} for "
                f"{LOCK_TIMEOUT:.0f} s; try again."
            ) from None

    @property
    def location(self) -> str:
        """Where sessions go, for ``devsync whoami`` and the notice."""
        if self._use_keyring:
            return "the system keyring"
        return str(self._file.path)

    def pop_notice(self) -> str | None:
        """The one-time notice about the fallback file (None when there is nothing to say)."""
        notice, self._notice = self._notice, None
        return notice

    def _account(self, key: str) -> str:
        return f"{self.namespace}|{key}"

    # -- synchronous core (also used by `devsync logout` without an event loop) ---------------
    def get_sync(self, key: str) -> str | None:
        if self._use_keyring:
            try:
                value = keyring.get_password(KEYRING_SERVICE, self._account(key))
            except Exception as exc:
                log.warning("keyring read failed (%s); using the session file", type(exc).__name__)
                self._use_keyring = False
            else:
                if value is not None:
                    return value
        return self._file.get(self.namespace, key)

    def set_sync(self, key: str, value: str) -> None:
        if self._use_keyring:
            try:
                keyring.set_password(KEYRING_SERVICE, self._account(key), value)
                return
            except Exception as exc:  # NoKeyringError, PasswordSetError, D-Bus errors, size limits
                log.warning("keyring write failed (%s); using the session file", type(exc).__name__)
                self._use_keyring = False
        if self._file.set(self.namespace, key, value):
            self._notice = (
                f"No system keyring is available: your DevSync session is stored in "
                f"{self._file.path} (readable only by you)."
            )

    def remove_sync(self, key: str) -> None:
        try:
            with contextlib.suppress(PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, self._account(key))
        except Exception as exc:  # no backend at all: nothing stored there
            log.debug("keyring delete skipped: %s", type(exc).__name__)
        self._file.remove(self.namespace, key)

    # -- AsyncSupportedStorage ------------------------------------------------------------------
    async def get_item(self, key: str) -> str | None:
        if self._use_keyring:
            return await asyncio.to_thread(self.get_sync, key)
        return self.get_sync(key)

    async def set_item(self, key: str, value: str) -> None:
        if self._use_keyring:
            await asyncio.to_thread(self.set_sync, key, value)
        else:
            self.set_sync(key, value)

    async def remove_item(self, key: str) -> None:
        await asyncio.to_thread(self.remove_sync, key)
