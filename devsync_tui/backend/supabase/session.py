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
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import keyring
from keyring.errors import PasswordDeleteError
from supabase_auth import AsyncSupportedStorage
from supabase_auth.constants import STORAGE_KEY

from devsync_tui.backend.errors import DevSyncError, PermissionDenied, Unavailable
from devsync_tui.backend.supabase import session_store

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
#: A session read from the keyring is looked up again at most this often (seconds) to see
#: whether another process signed out (``stamp``): the file is watched with a ``stat``, the
#: keyring offers nothing that cheap (a D-Bus or Keychain call).
KEYRING_RECHECK = 5.0
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
        #: Whether the last value read came from the keyring, not the file (see ``stamp``).
        self._from_keyring = False

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

    def stamp(self) -> tuple[object, ...]:
        """A value that changes whenever the stored session may have changed: this process's
        own writes (a counter), the fallback file's ``stat``, and, while the session comes from
        the keyring, the time in ``KEYRING_RECHECK`` slots. Equal stamps: nothing to read
        again. It costs one ``stat`` (a few microseconds), so it is taken before every request."""
        slot = int(time.monotonic() // KEYRING_RECHECK) if self._from_keyring else 0
        return (session_store.generation(), self._file.stamp(), slot)

    # -- synchronous core (also used by `devsync logout` without an event loop) ---------------
    def get_sync(self, key: str) -> str | None:
        try:
            return self.lookup_sync(key)
        except Unavailable:
            self._use_keyring = False
            return None

    def lookup_sync(self, key: str) -> str | None:
        """As ``get_sync``, except that a keyring that cannot be read raises Unavailable
        instead of reading as "nothing stored" (which would mean "signed out")."""
        value = self._file.get(self.namespace, key)
        if value is not None or not self._keyring():
            self._from_keyring = False
            return value
        try:
            value = keyring.get_password(KEYRING_SERVICE, self._account(key))
        except Exception as exc:
            log.warning("keyring read failed (%s); using the session file", type(exc).__name__)
            raise Unavailable("The system keyring cannot be read right now.") from None
        self._from_keyring = value is not None
        return value

    def set_sync(self, key: str, value: str) -> None:
        # A value the file holds stays there: get_sync reads the file first.
        if self._file.get(self.namespace, key) is None and self._keyring():
            try:
                keyring.set_password(KEYRING_SERVICE, self._account(key), value)
                session_store.changed()
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
        session_store.changed()
        self._file.remove(self.namespace, key)

    # -- AsyncSupportedStorage ------------------------------------------------------------------
    async def get_item(self, key: str) -> str | None:
        if self._use_keyring is not False:  # keyring calls may block (D-Bus): a thread
            return await asyncio.to_thread(self.get_sync, key)
        return self.get_sync(key)

    async def lookup(self, key: str) -> str | None:
        """``lookup_sync`` off the event loop when the keyring may be asked."""
        if self._use_keyring is not False:
            return await asyncio.to_thread(self.lookup_sync, key)
        return self.lookup_sync(key)

    async def set_item(self, key: str, value: str) -> None:
        if self._use_keyring is not False:
            await asyncio.to_thread(self.set_sync, key, value)
        else:
            self.set_sync(key, value)

    async def remove_item(self, key: str) -> None:
        await asyncio.to_thread(self.remove_sync, key)


@dataclass(frozen=True, slots=True)
class SignedOut:
    """What ``sign_out`` did: whether a session was stored, and whether GoTrue now knows it
    is over (``problem``: why GoTrue could not be told; the session is forgotten here all the
    same)."""

    was_signed_in: bool
    revoked: bool = False
    problem: str | None = None


#: Seconds GoTrue may take to answer a sign-out (the session is already gone here).
_SIGN_OUT_TIMEOUT = 10.0
_SIGN_OUT_CONNECT = 5.0
#: GoTrue's answers meaning "no such session (any more)" (400: a refresh token it refuses).
_OVER = frozenset({400, 401, 403, 404})
#: An access token with less than this many seconds left is refreshed before signing out
#: (``shared_session.REFRESH_MARGIN``; not imported: that module imports this one).
_SIGN_OUT_MARGIN = 60


async def sign_out(
    storage: SessionStorage, url: str, anon_key: str, *, scope: str = "local"
) -> SignedOut:
    """End the stored session of ``storage``: forget it here first, then ask GoTrue to revoke
    it (``POST /auth/v1/logout?scope=…``) so that its refresh token cannot be used again.

    - Forgotten first, holding the session lock: a refresh under way in another DevSync process
      ends before (its new session is the one revoked), and one after it finds nothing stored.
      Every process of the profile then stops at its next request (``SupabaseRest._fresh``
      watches the stored session), whether or not GoTrue can be reached.
    - ``scope="local"`` revokes this session: the one every DevSync process of the profile on
      this machine shares (refreshes keep its GoTrue session id). ``"global"`` revokes every
      session of the user, on every machine.
    - An access token about to expire (or refused) is refreshed first, in memory only: GoTrue
      signs out only with a valid access token, and nothing else holds this refresh token now.
    """
    async with storage.locked():
        raw = await storage.get_item(STORAGE_KEY)
        await storage.remove_item(STORAGE_KEY)
    stored = _tokens(raw)
    if stored is None:
        return SignedOut(was_signed_in=False)
    access, refresh, expires_at = stored
    try:
        revoked = await _revoke(url.rstrip("/"), anon_key, access, refresh, expires_at, scope)
    except DevSyncError as exc:
        log.info("could not revoke the session at GoTrue: %s", exc)
        return SignedOut(was_signed_in=True, problem=str(exc))
    return SignedOut(was_signed_in=True, revoked=revoked)


def _tokens(raw: str | None) -> tuple[str, str, float] | None:
    """(access token, refresh token, expires_at) of a stored session, None when there is none."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        return None
    expires_at = data.get("expires_at")
    when = float(expires_at) if isinstance(expires_at, int | float) else 0.0
    return (access if isinstance(access, str) else ""), refresh, when


async def _revoke(
    url: str, anon_key: str, access: str, refresh: str, expires_at: float, scope: str
) -> bool:
    """Tell GoTrue the session is over; True once it is (also when GoTrue says it already
    was). Raises Unavailable when GoTrue cannot be reached."""
    import httpx

    from devsync_tui.backend.supabase.errors import map_exception
    from devsync_tui.core.net_errors import http_client

    headers = {"apikey": anon_key}
    try:
        async with http_client(
            timeout=httpx.Timeout(_SIGN_OUT_TIMEOUT, connect=_SIGN_OUT_CONNECT),
            follow_redirects=True,
        ) as http:

            async def renewed() -> str | None:
                """A fresh access token (None: GoTrue refused the refresh token, so the
                session is already over there)."""
                answer = await http.post(
                    f"{url}/auth/v1/token",
                    params={"grant_type": "refresh_token"},
                    json={"refresh_token": refresh},
                    headers=headers,
                )
                if answer.status_code in _OVER:
                    return None
                if answer.status_code >= 400:  # 429 (too many requests), 5xx
                    raise Unavailable(_gotrue_failed(answer.status_code))
                token = answer.json().get("access_token")
                return token if isinstance(token, str) and token else None

            async def logout(token: str) -> int:
                answer = await http.post(
                    f"{url}/auth/v1/logout",
                    params={"scope": scope},
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
                if answer.status_code >= 400 and answer.status_code not in _OVER:
                    raise Unavailable(_gotrue_failed(answer.status_code))
                return answer.status_code

            fresh = False
            if not access or expires_at <= time.time() + _SIGN_OUT_MARGIN:
                token = await renewed()
                if token is None:
                    return True
                access, fresh = token, True
            status = await logout(access)
            if status in (401, 403) and not fresh:
                # The access token was refused (expired after all: a clock off): once more
                # with a fresh one.
                token = await renewed()
                if token is None:
                    return True
                status = await logout(token)
            if status == 400:
                log.info("GoTrue refused the sign-out: HTTP %s", status)
                return False
            return True  # 2xx; or 401, 403, 404: as supabase-py, the session was over already
    except DevSyncError:
        raise
    except Exception as exc:
        raise map_exception(exc) from None


def _gotrue_failed(status: int) -> str:
    return f"Supabase Auth answered with HTTP {status}; try again later."
