"""One stored Supabase session for every DevSync process of a user on a machine.

GoTrue's refresh tokens are single-use: refreshing hands out a new one and retires the old
one; an old one used again after a short grace (``REFRESH_TOKEN_REUSE_INTERVAL``, 10 s) makes
GoTrue end the whole session, as it would for a stolen token. So two processes on one profile
(the agent and the dashboard, two terminals) must never refresh with the same token on their
own. The rules, kept by every process:

- The stored session (``SessionStorage``) is the one truth; a process's copy in memory is a
  cache of it.
- A refresh happens holding the session lock (``SessionStorage.locked``: an ``flock`` on a 0600
  file beside the stored session, in a folder only the user can enter).
- Holding it, the process first re-reads the stored session: one that differs from the copy it
  holds (another process refreshed, or someone signed in again) and is not about to expire is
  adopted as it is, without asking GoTrue.
- A refused refresh re-reads the storage once: a session stored meanwhile is adopted (refreshed
  if it is about to expire); only then is the session over, in one sentence.

supabase-py's own refresh timer is off (``auto_refresh_token=False``): it would refresh
without the lock. The Supabase transport keeps its token fresh itself (``SupabaseBackend``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from devsync_tui.backend.errors import NotSignedIn
from devsync_tui.backend.supabase.errors import translate_errors

if TYPE_CHECKING:
    from supabase_auth.types import Session

    from devsync_tui.backend.supabase.session import SessionStorage
    from supabase import AsyncClient

log = logging.getLogger("devsync.session")

#: supabase-py keeps the session under this storage key (supabase_auth.constants.STORAGE_KEY).
SESSION_KEY = "supabase.auth.token"
#: Refresh when the access token has less than this many seconds left.
REFRESH_MARGIN = 60
NOT_SIGNED_IN = "You are not signed in to this Supabase project; run `devsync login`."
OTHER_USER = (
    "This profile was signed in as someone else in another DevSync process; start DevSync "
    "again to continue as them."
)


def near_expiry(session: Any, margin: float = REFRESH_MARGIN) -> bool:
    """True when ``session`` (a supabase-py Session) expires within ``margin`` seconds."""
    expires_at = getattr(session, "expires_at", None)
    return not isinstance(expires_at, int) or expires_at <= time.time() + margin


async def read_stored(storage: SessionStorage) -> Session | None:
    """The stored session (None when there is none or it cannot be read)."""
    from pydantic import ValidationError
    from supabase_auth.types import Session

    raw = await storage.get_item(SESSION_KEY)
    if not raw:
        return None
    try:
        session = Session.model_validate_json(raw)
    except (ValidationError, ValueError):
        log.warning("the stored session cannot be read; ignoring it")
        return None
    return session if session.refresh_token else None


def adopt(client: AsyncClient, session: Session, event: str = "TOKEN_REFRESHED") -> Session:
    """Make ``session`` (read from storage) the client's: supabase-py's listeners move the REST
    headers and the Realtime token to it, and ours (the backend's) follow. Nothing is written:
    the storage already holds it."""
    client.auth._notify_all_subscribers(event, session)  # type: ignore[arg-type]
    return session


async def restore(client: AsyncClient, storage: SessionStorage) -> Session:
    """The stored session, made the client's: refreshed (under the lock) when about to expire."""
    stored = await read_stored(storage)
    if stored is None:
        raise NotSignedIn(NOT_SIGNED_IN)
    if not near_expiry(stored):
        return adopt(client, stored, "SIGNED_IN")
    return await refresh(client, storage, stored.refresh_token)


async def refresh(
    client: AsyncClient, storage: SessionStorage, held: str | None, user_id: str | None = None
) -> Session:
    """A fresh session for a process whose copy has the refresh token ``held`` (of the user
    ``user_id``: a session stored for someone else is never adopted in its place).

    Raises NotSignedIn (with why) when the session is over, Unavailable when GoTrue cannot be
    reached (the session is kept then: a later try may succeed).
    """
    async with storage.locked():
        stored = await read_stored(storage)
        if stored is None:
            raise NotSignedIn(NOT_SIGNED_IN)
        if user_id is not None and str(stored.user.id) != user_id:
            raise NotSignedIn(OTHER_USER)
        if stored.refresh_token != held and not near_expiry(stored):
            log.info("adopting the session another DevSync process refreshed")
            return adopt(client, stored)
        try:
            return await _refresh_with(client, stored.refresh_token)
        except NotSignedIn as refused:
            again = await read_stored(storage)
            if again is not None and user_id is not None and str(again.user.id) != user_id:
                raise NotSignedIn(OTHER_USER) from None
            if again is not None and again.refresh_token != stored.refresh_token:
                log.info("refresh refused, but a newer session was stored meanwhile; adopting it")
                if not near_expiry(again):
                    return adopt(client, again)
                return await _refresh_with(client, again.refresh_token)
            if again is not None:
                # Dead for every process: the next one says so at once instead of asking GoTrue.
                await storage.remove_item(SESSION_KEY)
            log.info("the session has ended: %s", refused)
            raise


async def _refresh_with(client: AsyncClient, refresh_token: str) -> Session:
    """One refresh request; supabase-py stores the new session and tells the listeners."""
    async with translate_errors():
        response = await client.auth.refresh_session(refresh_token)
    session = response.session
    if session is None:
        raise NotSignedIn("Your session has ended; run `devsync login` again.")
    return session
