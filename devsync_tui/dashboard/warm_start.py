"""Warm start: read the dashboard's opening view in a forked process while the UI loads.

Loading the UI (Textual and our screens) and loading the database driver (psycopg) plus the
first reads are each a good part of the time to the first frame with data, and neither needs
the other. ``begin`` forks before the UI is imported; the child connects the way the app
would, makes the reads the dashboard opens with (who am I, the tree, the opening view's
configuration) and sends them back through a pipe, then exits. The app shows them through
``backend.warm.WarmBackend`` while it connects for real, and re-reads them once the change
feed is live, so nothing committed in between is missed.

For local profiles (the embedded database or a Postgres URL) only when the embedded server
already runs: a first start with its progress lines takes the ordinary path. For Supabase
profiles the child makes one plain HTTP request (``public.open_workspace``), without
supabase-py, and only with a stored session that has not expired: refreshing one uses its
refresh token, which must not be used by two processes, so the app does that (then the same
one call). Anything going wrong in the child only means the ordinary path is taken. The pipe
carries what the user may see anyway (secrets are masked in these reads); nothing is written
to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn
from uuid import UUID

from devsync_tui.settings import LocalProfile, Settings, SettingsError, SupabaseProfile

# The child's modules (the backend, its reads) are imported in the child, after the fork:
# imported here, they make the fork 20-35 ms later (measured with the first-frame benchmark's
# harness), and the first frame then waits for the snapshot.
if TYPE_CHECKING:
    from devsync_tui.backend.call_keys import CallKey
    from devsync_tui.core.models import Identity, Role

#: Turn warm starts off (``DEVSYNC_WARM_START=0``), e.g. to compare start-up times.
ENV_SWITCH = "DEVSYNC_WARM_START"
#: The child gives up after this long (seconds); the app then connects the ordinary way.
CHILD_DEADLINE = 5.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the child read: the backend's label and each read's answer by call."""

    label: str
    answers: dict[CallKey, object]

    @property
    def identity(self) -> Identity:
        found: Identity = self.answers[("whoami", (), ())]  # type: ignore[assignment]
        return found

    @property
    def roles(self) -> dict[UUID, Role]:
        found: dict[UUID, Role] = self.answers[("my_roles", (), ())]  # type: ignore[assignment]
        return found


class WarmStart:
    """The parent's end: a thread reads the child's answer, then reaps it."""

    def __init__(self, pid: int, fd: int) -> None:
        self._pid = pid
        self._fd = fd
        self._snapshot: Snapshot | None = None
        self._done = threading.Event()
        threading.Thread(target=self._collect, name="devsync-warm-start", daemon=True).start()

    def _collect(self) -> None:
        chunks: list[bytes] = []
        try:
            with open(self._fd, "rb", closefd=True) as pipe:
                while chunk := pipe.read(1 << 16):
                    chunks.append(chunk)
            found = pickle.loads(b"".join(chunks)) if chunks else None
            self._snapshot = found if isinstance(found, Snapshot) else None
        except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
            self._snapshot = None
        finally:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._done.set()

    async def snapshot(self, wait: float = CHILD_DEADLINE) -> Snapshot | None:
        """The child's snapshot, or None (it failed, or took longer than ``wait`` seconds)."""
        done = self._done.is_set() or await asyncio.to_thread(self._done.wait, wait)
        if not done:
            self.cancel()
            return None
        return self._snapshot

    def cancel(self) -> None:
        """Stop the child if it still runs (the app closes, or it took too long)."""
        if not self._done.is_set():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self._pid, signal.SIGKILL)


def begin(
    settings: Settings,
    *,
    profile: str | None,
    user: str | None,
    team: str | None,
    project: str | None,
    env: str | None,
) -> WarmStart | None:
    """Fork the child that reads the opening view; None where a warm start does not apply.

    Call before the UI is imported and before any thread or event loop exists."""
    if os.environ.get(ENV_SWITCH, "1") == "0" or not hasattr(os, "fork"):
        return None
    try:
        _name, chosen = settings.profile(profile)
    except SettingsError:
        return None  # the ordinary path reports it
    if not isinstance(chosen, LocalProfile | SupabaseProfile):
        return None
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        if isinstance(chosen, SupabaseProfile):
            _child(write_fd, lambda: _read_supabase(chosen, project, env))
        _child(write_fd, lambda: asyncio.run(_read(settings, profile, user, (team, project, env))))
    os.close(write_fd)
    return WarmStart(pid, read_fd)


def _child(fd: int, read_snapshot: Callable[[], Snapshot | None]) -> NoReturn:
    """Read, send, exit. Silent: the terminal and the log belong to the parent."""
    code = 0
    try:
        # The terminal belongs to the parent: nothing of the child may reach it.
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(devnull, std)
        logging.disable(logging.CRITICAL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.alarm(int(CHILD_DEADLINE) + 1)  # never outlive a parent that stopped waiting
        result: list[Snapshot] = []

        def read() -> None:
            # Every failure is silent: an uncaught one would be printed on the terminal.
            with contextlib.suppress(BaseException):
                found = read_snapshot()
                if found is not None:
                    result.append(found)

        # A fresh thread: a fork taken inside a running event loop (tests) leaves this thread
        # marked as running one, and asyncio.run would refuse.
        reader = threading.Thread(target=read)
        reader.start()
        reader.join()
        if result:
            data = pickle.dumps(result[0], protocol=pickle.HIGHEST_PROTOCOL)
            with open(fd, "wb", closefd=True) as pipe:
                pipe.write(data)
    except BaseException:  # any failure means "take the ordinary path"
        code = 1
    finally:
        os._exit(code)


def _read_supabase(
    chosen: SupabaseProfile, project: str | None, env: str | None
) -> Snapshot | None:
    """The opening in one HTTP request, as the stored session's user (None: no valid one)."""
    from urllib.parse import urlsplit  # in the child only (see the top)

    from devsync_tui.backend.supabase.opening_request import fetch_opening

    opening = fetch_opening(chosen.url, chosen.anon_key, project, env, timeout=CHILD_DEADLINE)
    if opening is None:
        return None
    label = urlsplit(chosen.url).hostname or chosen.url
    return Snapshot(label, opening.answers)


async def _read(
    settings: Settings,
    profile: str | None,
    user: str | None,
    target: tuple[str | None, str | None, str | None],
) -> Snapshot | None:
    """The opening view in one call (``open_workspace``): the answers of the reads
    ``MainScreen`` opens with."""
    # In the child only, after the fork (see the top).
    from devsync_tui.backend.factory import open_backend

    backend = await open_backend(settings, profile=profile, user=user, start_database=False)
    try:
        _team, project, env = target
        opening = await backend.open_workspace(project, env)
        return None if opening is None else Snapshot(backend.label, opening.answers)
    finally:
        await backend.close()
