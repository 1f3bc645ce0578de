"""Opening the backend of a settings profile, for the machine side (commands, agent, runner).

``connected(profile, user, progress=...)`` loads the settings, opens the backend the profile
names (``backend.factory.open_backend``: the embedded database, a ``DEVSYNC_DATABASE_URL`` or a
Supabase project) and closes it when the block ends. Slow steps (the first start of the
embedded database) are reported through ``progress``. With ``token`` it opens the same database
as that token's machine instead (``open_machine_backend``): no user then.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from devsync_tui.backend.base import Backend
from devsync_tui.backend.factory import open_backend, open_machine_backend
from devsync_tui.core.machine_token import MachineToken
from devsync_tui.machine.errors import InputError
from devsync_tui.settings import load_settings

_log = logging.getLogger("devsync.machine")


@asynccontextmanager
async def connected(
    profile: str | None,
    user: str | None,
    *,
    progress: Callable[[str], None],
    token: MachineToken | None = None,
    poll_seconds: float | None = None,
) -> AsyncIterator[Backend]:
    """The connected Backend of ``profile`` acting as ``user`` (local profiles), or as the
    machine of ``token`` (its change feed polling every ``poll_seconds``); closed when the
    block ends."""
    backend: Backend
    if token is not None:
        if user:
            raise InputError(
                f"--user and a machine token ({token.source}) exclude each other: the token "
                "acts as its machine."
            )
        backend = await open_machine_backend(
            load_settings(), token, profile=profile, progress=progress, poll_seconds=poll_seconds
        )
    else:
        backend = await open_backend(load_settings(), profile=profile, user=user, progress=progress)
    try:
        yield backend
    finally:
        try:
            await backend.close()
        except Exception:  # closing must not hide the caller's own outcome
            _log.exception("closing the backend failed")


def profile_name(profile: str | None) -> str:
    """The active profile's name (``profile``, else ``DEVSYNC_PROFILE``, … as settings decide)."""
    return load_settings().active_profile_name(profile)
