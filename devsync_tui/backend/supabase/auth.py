"""Supabase Auth for DevSync: the client factory, sign up / in (password or e-mailed code) /
out, and restoring a stored session with the known supabase-py pitfalls worked around.

supabase-py is imported inside the functions (``import supabase`` costs ~0.6 s), never when this
module is imported.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from devsync_tui.backend.errors import InvalidInput, NotSignedIn
from devsync_tui.backend.supabase.errors import translate_errors
from devsync_tui.backend.supabase.shared_session import REFRESH_MARGIN, SESSION_KEY

__all__ = ["REFRESH_MARGIN", "SESSION_KEY"]

if TYPE_CHECKING:
    from devsync_tui.backend.supabase.session import SessionStorage
    from supabase import AsyncClient

log = logging.getLogger("devsync.supabase")

#: HTTP timeouts (seconds) for PostgREST and GoTrue requests.
HTTP_TIMEOUT = 15.0
CONNECT_TIMEOUT = 5.0
#: How long closing waits for the Realtime socket to say goodbye.
_REALTIME_CLOSE_SECONDS = 3.0
#: Realtime client options (supabase.types.RealtimeClientOptions).
DEFAULT_REALTIME: dict[str, Any] = {"auto_reconnect": True, "hb_interval": 25, "max_retries": 5}


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The result of a successful sign-in (no tokens: those stay in the storage)."""

    user_id: UUID
    email: str | None
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    """Sign-up succeeded but the project requires the e-mail address to be confirmed."""

    email: str


def storage_namespace(url: str) -> str:
    """Sessions are stored per Supabase project URL."""
    return url.rstrip("/").lower()


async def create_client(
    url: str,
    anon_key: str,
    storage: SessionStorage,
    *,
    realtime: dict[str, Any] | None = None,
) -> AsyncClient:
    """An ``AsyncClient`` (``acreate_client`` + ``AsyncClientOptions``) with our storage and
    our own httpx client (timeouts we choose; closed by ``close_client``).

    supabase-py's refresh timer is off and the client starts with the anon key: both would
    refresh the stored session without the session lock (``shared_session``); the session is
    made the client's by ``restore_session`` or a sign-in."""
    if not url or not anon_key:
        raise InvalidInput("A Supabase profile needs both a URL and an anon key.")
    async with translate_errors():
        # Deferred: supabase-py (~0.35-0.6 s with httpx) loads when a client is made, never
        # when this module is (the login command and the transport import it first).
        import httpx

        from devsync_tui.core.net_errors import http_client
        from supabase import AsyncClientOptions, acreate_client

        http = http_client(
            timeout=httpx.Timeout(HTTP_TIMEOUT, connect=CONNECT_TIMEOUT),
            follow_redirects=True,
        )
        options = AsyncClientOptions(
            storage=storage,
            persist_session=True,
            auto_refresh_token=False,
            # With an Authorization header, acreate_client does not read (and refresh) the
            # stored session by itself.
            headers={
                **AsyncClientOptions().headers,
                "Authorization": f"Bearer {anon_key}",
            },
            flow_type="implicit",  # e-mailed codes and passwords only: no redirect to exchange
            httpx_client=http,
            # GET retries in postgrest-py sleep 1+2+4 s; we report Unavailable at once instead.
            postgrest_client_retry=False,
            realtime=cast(Any, realtime or DEFAULT_REALTIME),
        )
        return await acreate_client(url, anon_key, options)


async def close_client(client: AsyncClient) -> None:
    """Stop timers, close the realtime socket and the HTTP client."""
    timer = getattr(client.auth, "_refresh_token_timer", None)
    if timer is not None:
        timer.cancel()
    try:
        await asyncio.wait_for(client.realtime.close(), _REALTIME_CLOSE_SECONDS)
    except Exception as exc:  # closing is best effort (a silent server: a timeout)
        log.debug("realtime close: %s", type(exc).__name__)
    http = client.options.httpx_client
    if http is not None:
        await http.aclose()


def _signed_in(session: Any) -> SignedIn:
    return SignedIn(
        user_id=UUID(str(session.user.id)),
        email=session.user.email,
        expires_at=session.expires_at,
    )


async def sign_in_with_password(client: AsyncClient, email: str, password: str) -> SignedIn:
    _check_email(email)
    if not password:
        raise InvalidInput("The password is empty.")
    async with _locked(client), translate_errors():
        res = await client.auth.sign_in_with_password({"email": email, "password": password})
    if res.session is None:
        raise NotSignedIn("Supabase did not open a session; confirm your e-mail address first.")
    await _propagate_token(client, res.session.access_token)
    return _signed_in(res.session)


async def sign_up(
    client: AsyncClient, email: str, password: str, username: str | None = None
) -> SignedIn | PendingConfirmation:
    """Create an account; the profile row is made by a trigger (username from metadata)."""
    _check_email(email)
    if len(password) < 6:
        raise InvalidInput("The password must have at least 6 characters.")
    data: dict[str, Any] = {"username": username} if username else {}
    async with _locked(client), translate_errors():
        res = await client.auth.sign_up(
            {"email": email, "password": password, "options": {"data": data}}
        )
    if res.session is None:
        return PendingConfirmation(email=email)
    await _propagate_token(client, res.session.access_token)
    return _signed_in(res.session)


async def send_code(client: AsyncClient, email: str) -> None:
    """E-mail a one-time code (the project's template must include ``{{ .Token }}``)."""
    _check_email(email)
    async with translate_errors():
        await client.auth.sign_in_with_otp(
            {"email": email, "options": {"should_create_user": False}}
        )


async def verify_code(client: AsyncClient, email: str, code: str) -> SignedIn:
    _check_email(email)
    code = code.strip()
    if not code.isdigit() or not 6 <= len(code) <= 10:
        raise InvalidInput("The code is the 6 to 10 digits from the e-mail.")
    async with _locked(client), translate_errors():
        res = await client.auth.verify_otp({"email": email, "token": code, "type": "email"})
    if res.session is None:
        raise NotSignedIn("Supabase did not accept the code; ask for a new one.")
    await _propagate_token(client, res.session.access_token)
    return _signed_in(res.session)


async def sign_out(client: AsyncClient) -> bool:
    """Forget the session here first, then revoke it on the server. Returns False when the
    server could not be told (offline): the session is forgotten here all the same."""
    try:
        async with _locked(client):
            await client.auth.sign_out({"scope": "local"})
    except Exception as exc:
        # scope "local" removes the stored session before it sends the request
        log.info("sign-out request failed: %s", type(exc).__name__)
        return False
    return True


def stored_session(raw: str | None) -> dict[str, Any] | None:
    """The stored session JSON as a dict (None when absent or unreadable)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("refresh_token"):
        return None
    return data


async def restore_session(client: AsyncClient, storage: SessionStorage) -> SignedIn:
    """Bring back the stored session, refreshing it (under the session lock) if it is about to
    expire, and make it the client's.

    Workarounds: ``initialize_from_storage`` has dropped a session right after refreshing an
    expired one (supabase-py #1646) and writes back what it read (which could put an older
    session over one another process just stored), so it is not used; and ``acreate_client``
    never hands the token to realtime, so we call ``realtime.set_auth`` ourselves before
    anything subscribes.
    """
    from devsync_tui.backend.supabase import shared_session

    session = await shared_session.restore(client, storage)
    await _propagate_token(client, session.access_token)
    return _signed_in(session)


@asynccontextmanager
async def _locked(client: AsyncClient) -> AsyncIterator[None]:
    """Hold the session lock of the client's storage while supabase-py replaces the stored
    session (sign-in, sign-out): never in the middle of another process's refresh."""
    from devsync_tui.backend.supabase.session import SessionStorage

    storage = getattr(client.auth, "_storage", None)
    if not isinstance(storage, SessionStorage):
        yield
        return
    async with storage.locked():
        yield


async def _propagate_token(client: AsyncClient, token: str) -> None:
    """REST headers follow auth events already; realtime needs the token before joining."""
    client.options.headers["Authorization"] = f"Bearer {token}"
    async with translate_errors():
        await client.realtime.set_auth(token)


def _check_email(email: str) -> None:
    if not email or "@" not in email or any(c.isspace() for c in email.strip()):
        raise InvalidInput("That is not an e-mail address.")
