"""``open_backend``: settings + profile → a connected ``Backend``.

- local profile: its ``database_url``, else ``DEVSYNC_DATABASE_URL``, else the embedded database
  (started, migrated and seeded on first use by ``backend.postgres.server.ensure_running``);
- supabase profile: ``backend.supabase.SupabaseBackend``, imported only here (it costs ~0.6 s).

``open_machine_backend`` opens the same database as a machine (``backend.machine``): a token
instead of a user, on either transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError, InvalidInput, Unavailable
from devsync_tui.settings import LocalProfile, Settings, SettingsError, SupabaseProfile

if TYPE_CHECKING:
    from devsync_tui.backend.machine import MachineBackend, MachineCalls
    from devsync_tui.backend.opening import Opening
    from devsync_tui.backend.postgres.backend import PostgresBackend
    from devsync_tui.core.machine_token import MachineToken

Progress = Callable[[str], None]


async def open_backend(
    settings: Settings,
    *,
    profile: str | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    start_database: bool = True,
) -> Backend:
    """The connected backend of ``profile`` (default: as the settings choose it).

    ``user`` (local profiles only) acts as that user instead of the profile's or the workspace
    owner. ``progress`` receives one line per slow step (first start of the embedded database);
    it may be called from a worker thread. With ``start_database=False`` the embedded
    database is used only if it already runs with a checked schema (else Unavailable).
    Raises only DevSync errors.
    """
    try:
        name, chosen = settings.profile(profile)
    except SettingsError as exc:
        raise InvalidInput(str(exc)) from None
    if isinstance(chosen, SupabaseProfile):
        if user:
            raise InvalidInput(
                f"--user works with local profiles only; profile {name!r} is a Supabase project "
                "(sign in with `devsync login`)."
            )
        return await _open_supabase(chosen)
    return await _open_local(chosen, user=user, progress=progress, start=start_database)


async def open_machine_backend(
    settings: Settings,
    token: MachineToken,
    *,
    profile: str | None = None,
    progress: Progress | None = None,
    poll_seconds: float | None = None,
) -> MachineBackend:
    """The connected backend of ``profile`` acting as the machine ``token`` is for: the same
    database as ``open_backend``'s, the anon key plus the token (TokenRefused at once when the
    database refuses the token). ``poll_seconds``: how often its change feed polls."""
    # Deferred: only a machine needs them; the dashboard's start does not.
    from devsync_tui.backend.machine import POLL_SECONDS, MachineBackend

    try:
        _name, chosen = settings.profile(profile)
    except SettingsError as exc:
        raise InvalidInput(str(exc)) from None
    calls: MachineCalls
    if isinstance(chosen, SupabaseProfile):
        from devsync_tui.backend.supabase.machine import SupabaseMachineCalls

        calls = SupabaseMachineCalls(chosen.url, chosen.anon_key, token)
    else:
        from devsync_tui.backend.postgres.machine import PostgresMachineCalls

        conninfo, embedded = await _local_conninfo(chosen, progress)
        calls = PostgresMachineCalls(conninfo, token, embedded=embedded)
    backend = MachineBackend(calls, poll_seconds=poll_seconds or POLL_SECONDS)
    await _connect(backend)
    return backend


async def _local_conninfo(chosen: LocalProfile, progress: Progress | None) -> tuple[str, bool]:
    """(connection string, embedded?) of a local profile, the embedded database started if
    it is not running."""
    conninfo = chosen.conninfo()
    if conninfo is not None:
        return conninfo, False
    from devsync_tui.backend.postgres import server

    quick = server.running_url()
    if quick is not None:
        return quick, True
    try:
        return await asyncio.to_thread(server.ensure_running, progress), True
    except DevSyncError:
        raise
    except Exception as exc:  # pgserver raises plain exceptions; keep them out of callers
        raise Unavailable(f"The local database could not be started: {exc}") from None


async def _open_local(
    chosen: LocalProfile, *, user: str | None, progress: Progress | None, start: bool
) -> Backend:
    # psycopg is a tenth of a second to import: in a thread, the UI keeps drawing meanwhile.
    postgres = await asyncio.to_thread(
        importlib.import_module, "devsync_tui.backend.postgres.backend"
    )
    backend_class: type[PostgresBackend] = postgres.PostgresBackend

    conninfo = chosen.conninfo()
    if conninfo is not None:
        backend = backend_class(conninfo, user or chosen.user, embedded=False)
        await _connect(backend)
        return backend
    # Deferred like the transport: the embedded server's module imports psycopg (~0.14 s).
    from devsync_tui.backend.postgres import server

    # The usual case: the embedded server already runs with a checked schema (files say so).
    quick = server.running_url()
    if quick is not None:
        backend = backend_class(quick, user or chosen.user, embedded=True)
        try:
            await _connect(backend)
            return backend
        except Unavailable:
            if not start:
                raise
            # the files were stale (a crash, a dropped database): take the long way
    if not start:
        raise Unavailable("The local database is not running.")
    try:
        conninfo = await asyncio.to_thread(server.ensure_running, progress)
    except DevSyncError:
        raise
    except Exception as exc:  # pgserver raises plain exceptions; keep them out of callers
        raise Unavailable(f"The local database could not be started: {exc}") from None
    backend = backend_class(conninfo, user or chosen.user, embedded=True)
    await _connect(backend)
    return backend


async def _open_supabase(chosen: SupabaseProfile) -> Backend:
    module = importlib.import_module("devsync_tui.backend.supabase.backend")
    backend_class: Any = module.SupabaseBackend
    backend: Backend = backend_class(chosen.url, chosen.anon_key)
    await _connect(backend)
    return backend


async def _connect(backend: Backend) -> None:
    try:
        await backend.connect()
    except BaseException:
        with contextlib.suppress(DevSyncError):
            await backend.close()
        raise


def read_local_opening(
    chosen: LocalProfile,
    user: str | None,
    project: str | None,
    environment: str | None,
    *,
    timeout: float = 5.0,
) -> tuple[Opening, str]:
    """A local profile's opening (``open_workspace``) and its backend's label, read in the
    calling thread (its own event loop) by the same backend and user the app connects as.
    Never starts the embedded database: ``Unavailable`` unless it already runs (the caller,
    a read ahead, then leaves the opening to the app)."""
    conninfo = chosen.conninfo()
    embedded = conninfo is None
    if conninfo is None:
        from devsync_tui.backend.postgres import server

        conninfo = server.running_url()
        if conninfo is None:
            raise Unavailable("The local database is not running.")
    from devsync_tui.backend.postgres.backend import PostgresBackend

    backend = PostgresBackend(
        conninfo,
        user or chosen.user,
        embedded=embedded,
        min_size=1,
        max_size=1,
        connect_timeout=timeout,
        read_tries=1,
        op_timeout=timeout,
    )

    async def read() -> Opening:
        await _connect(backend)
        try:
            return await backend.open_workspace(project, environment)
        finally:
            await backend.close()

    return asyncio.run(read()), backend.label
