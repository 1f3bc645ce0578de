"""``open_backend``: settings + profile → a connected ``Backend``.

- local profile: its ``database_url``, else ``DEVSYNC_DATABASE_URL``, else the embedded database
  (started, migrated and seeded on first use by ``backend.postgres.server.ensure_running``);
- supabase profile: ``backend.supabase.SupabaseBackend``, imported only here (it costs ~0.6 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError, InvalidInput, Unavailable
from devsync_tui.settings import LocalProfile, Settings, SettingsError, SupabaseProfile

if TYPE_CHECKING:
    from devsync_tui.backend.postgres.backend import PostgresBackend

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


async def _open_local(
    chosen: LocalProfile, *, user: str | None, progress: Progress | None, start: bool
) -> Backend:
    # psycopg is a tenth of a second to import: in a thread, the UI keeps drawing meanwhile.
    postgres = await asyncio.to_thread(
        importlib.import_module, "devsync_tui.backend.postgres.backend"
    )
    backend_class: type[PostgresBackend] = postgres.PostgresBackend

    conninfo = chosen.database_url or os.environ.get("DEVSYNC_DATABASE_URL", "").strip() or None
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
