"""Where a Supabase session (access + refresh token) is kept between runs.

``SessionStorage`` is the ``AsyncSupportedStorage`` handed to supabase-py: it stores in the OS
keyring, and where keyring has no usable backend (the default on a headless server: no D-Bus
session) in a 0600 JSON file under ``locations.config_dir()``, with a one-time notice saying so.
A value in the file stays there (read first, written back there): see ``session_store``.

Importing this module imports ``supabase_auth`` (~0.25 s), so only the Supabase transport and the
login command import it, inside their functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import keyring
from keyring.errors import PasswordDeleteError
from supabase_auth import AsyncSupportedStorage

from devsync_tui.backend.errors import PermissionDenied, Unavailable

# Kept importable from here (the login command, tests and benches name them so).
from devsync_tui.backend.supabase.session_store import FALLBACK_FILE as FALLBACK_FILE
from devsync_tui.backend.supabase.session_store import KEYRING_SERVICE as KEYRING_SERVICE
from devsync_tui.backend.supabase.session_store import _FallbackFile
from devsync_tui.backend.supabase.session_store import fallback_path as fallback_path
from devsync_tui.backend.supabase.session_store import keyring_usable as keyring_usable
from devsync_tui.core import file_lock

log = logging.getLogger("devsync.session")

#: How long a process waits for another one's refresh (a refresh is one HTTP request).
LOCK_TIMEOUT = 30.0
#: The storages whose lock this context holds (by ``id``): seen by the task holding it and by
#: tasks it starts meanwhile (they copy its context), not by the process's other tasks.
_HELD: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "devsync_session_locks_held", default=frozenset()
)


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
        #: None: not known yet (asking keyring costs its backend discovery; see ``_keyring``).
        self._use_keyring = use_keyring
        self._file = _FallbackFile(path or fallback_path())
        #: Set the first time a session lands in the fallback file; read with ``pop_notice``.
        self._notice: str | None = None

    @property
    def lock_path(self) -> Path:
        """The inter-process lock of the stored session: beside the session file (also when
        the session itself is in the keyring), in a folder only this user can enter."""
        return self._file.path.with_suffix(".lock")

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold the session lock: every DevSync process of this user that reads, refreshes or
        replaces the stored session does so holding it. Re-entering it from inside the block
        (the same task, or a task started in it) is a no-op: the supabase-py writes of a sign-in
        or refresh happen inside our own locked block. Any other task of this process waits,
        as another process does (the ``flock`` is per open file). A task started inside keeps
        that context after the block: none started there may take the lock later (none does:
        the keep-fresh task and each refresh's own task start outside it)."""
        held = _HELD.get()
        if id(self) in held:
            yield
            return
        try:
            async with file_lock.locked(self.lock_path, wait=LOCK_TIMEOUT):
                mark = _HELD.set(held | {id(self)})
                try:
                    yield
                finally:
                    _HELD.reset(mark)
        except file_lock.LockRefused as exc:
            raise PermissionDenied(str(exc)) from None
        except file_lock.LockTimeout:
            raise Unavailable(
                f"Another DevSync process has held the session lock {self.lock_path} for "
                f"{LOCK_TIMEOUT:.0f} s; try again."
            ) from None

    def _keyring(self) -> bool:
        """Whether the keyring is used for values the file does not hold (asked once)."""
        if self._use_keyring is None:
            self._use_keyring = keyring_usable()
        return self._use_keyring

    @property
    def location(self) -> str:
        """Where sessions go, for ``devsync whoami`` and the notice."""
        if self._file.holds(self.namespace) or not self._keyring():
            return str(self._file.path)
        return "the system keyring"

    def pop_notice(self) -> str | None:
        """The one-time notice about the fallback file (None when there is nothing to say)."""
        notice, self._notice = self._notice, None
        return notice

    def _account(self, key: str) -> str:
        return f"{self.namespace}|{key}"

    # -- synchronous core (also used by `devsync logout` without an event loop) ---------------
    def get_sync(self, key: str) -> str | None:
        value = self._file.get(self.namespace, key)
        if value is not None or not self._keyring():
            return value
        try:
            return keyring.get_password(KEYRING_SERVICE, self._account(key))
        except Exception as exc:
            log.warning("keyring read failed (%s); using the session file", type(exc).__name__)
            self._use_keyring = False
            return None

    def set_sync(self, key: str, value: str) -> None:
        # A value the file holds stays there: get_sync reads the file first.
        if self._file.get(self.namespace, key) is None and self._keyring():
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
        if self._use_keyring is not False:  # keyring calls may block (D-Bus): a thread
            return await asyncio.to_thread(self.get_sync, key)
        return self.get_sync(key)

    async def set_item(self, key: str, value: str) -> None:
        if self._use_keyring is not False:
            await asyncio.to_thread(self.set_sync, key, value)
        else:
            self.set_sync(key, value)

    async def remove_item(self, key: str) -> None:
        await asyncio.to_thread(self.remove_sync, key)
