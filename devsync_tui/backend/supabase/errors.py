"""Turn supabase-py / PostgREST / GoTrue / httpx exceptions into DevSync's error hierarchy.

No transport exception type leaves the Supabase transport: every call goes through
``translate_errors`` (or ``map_exception``). The exception classes are matched by name and
attributes so that this module imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from devsync_tui.backend.errors import (
    Conflict,
    DevSyncError,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    Unavailable,
)
from devsync_tui.backend.refusals import (
    CONFLICT,
    NOT_VISIBLE,
    SCHEMA_MISSING,
    UNAVAILABLE,
    database_refusal,
    encoding_refusal,
    is_sqlstate,
    sentence,
)

#: A refresh was refused: the session is over.
SESSION_ENDED = "Your session has ended; run `devsync login` again."
#: GoTrue revoked the whole session because one of its old refresh tokens was used again after
#: the reuse grace (it treats that as a stolen token).
SESSION_REUSED = (
    "Run `devsync login` again: Supabase ended your session because an old copy of it was "
    "used again (it treats that as a stolen token)."
)  # what to do first: a narrow header keeps the start of it

#: PostgREST's own codes (https://postgrest.org errors reference) that mean "the server side is
#: not reachable or not set up" rather than "your request was wrong".
_UNAVAILABLE_PGRST = {"PGRST000", "PGRST001", "PGRST002", "PGRST003"}
_JWT_PGRST = {"PGRST300", "PGRST301", "PGRST302", "PGRST303"}
_MISSING_SCHEMA = {"PGRST202", "PGRST204", "PGRST205"}
_NETWORK_ERROR_NAMES = {
    "ConnectError",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "TimeoutException",
    "NetworkError",
    "ReadError",
    "WriteError",
    "RemoteProtocolError",
    "ProtocolError",
    "TransportError",
    "ProxyError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "InvalidURI",
    "InvalidHandshake",
    "InvalidStatus",
    "AuthRetryableError",
}


def map_postgrest_error(code: str | None, message: str | None, details: Any) -> DevSyncError:
    """Map a PostgREST error body (``code`` is a SQLSTATE, a ``PGRSTnnn`` or an HTTP status
    as text when the body was not PostgREST JSON) onto a DevSync error. A SQLSTATE is told
    as on every transport (``refusals.database_refusal``)."""
    code = (code or "").strip()
    if is_sqlstate(code):
        return database_refusal(code, message, detail=details)
    if code in _JWT_PGRST:
        return PermissionDenied("Your session is no longer valid; sign in again.")
    if code == "PGRST116":  # a single row was asked for and there is none I may see
        return NotFound(NOT_VISIBLE)
    if code in _MISSING_SCHEMA:
        return Unavailable(SCHEMA_MISSING)
    if code in _UNAVAILABLE_PGRST:
        return Unavailable(UNAVAILABLE)
    if code.isdigit() and len(code) == 3:
        return _http_error(int(code), message)
    return InvalidInput(sentence(message, "The request was not valid."))


def _http_error(status: int, message: str | None) -> DevSyncError:
    """An HTTP status without a PostgREST body (a proxy, a paused project)."""
    if status == 409:
        return Conflict(CONFLICT)
    if status in (401, 403):
        return PermissionDenied(sentence(message, "You are not allowed to do that."))
    if status == 404:
        return NotFound(sentence(message, NOT_VISIBLE))
    if status >= 500 or status in (408, 429):
        return Unavailable(f"The Supabase project answered HTTP {status}; try again later.")
    return InvalidInput(sentence(message, f"The request was refused (HTTP {status})."))


def _auth_error(exc: BaseException) -> DevSyncError:
    name = type(exc).__name__
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    message = str(getattr(exc, "message", "") or exc)
    if isinstance(status, int) and status >= 500:
        return Unavailable(f"Supabase Auth answered HTTP {status}; try again later.")
    if name == "AuthRetryableError":
        # No answer at all: why, where it can be told (DNS, refused, TLS: "try again later"
        # would not help those).
        # Deferred: net_errors imports httpx, which a start that never signs in must not pay.
        from devsync_tui.core.net_errors import network_cause

        why = network_cause(exc)
        if why == "no answer in time (timeout)":
            return Unavailable("Supabase Auth did not answer in time; try again later.")
        if why == "the connection failed":
            return Unavailable("Supabase Auth is unreachable right now; try again later.")
        return Unavailable(f"Supabase Auth cannot be reached: {why}.")
    if name == "AuthSessionMissingError":
        return NotSignedIn("You are not signed in; run `devsync login`.")
    if name == "AuthWeakPasswordError":
        return InvalidInput(sentence(message, "That password is too weak."))
    if status == 429 or code == "over_request_rate_limit" or code == "over_email_send_rate_limit":
        return Unavailable("Too many attempts; wait a minute and try again.")
    if code in ("invalid_credentials",) or "invalid login credentials" in message.lower():
        return PermissionDenied("Wrong e-mail or password.")
    if code in ("otp_expired",) or "token has expired or is invalid" in message.lower():
        return PermissionDenied("That code is wrong or has expired; ask for a new one.")
    if code in ("email_not_confirmed",):
        return PermissionDenied("Confirm your e-mail address first (see the message we sent).")
    if code == "refresh_token_already_used":
        return NotSignedIn(SESSION_REUSED)
    if code in ("refresh_token_not_found", "session_not_found"):
        return NotSignedIn(SESSION_ENDED)
    if status in (401, 403):
        return NotSignedIn("Your session has ended; run `devsync login` again.")
    if status == 422 or status == 400:
        return InvalidInput(sentence(message, "Supabase Auth refused the request."))
    return InvalidInput(sentence(message, "Supabase Auth refused the request."))


def map_exception(exc: BaseException) -> DevSyncError:
    """Any exception raised inside the Supabase transport → one DevSync error."""
    if isinstance(exc, DevSyncError):
        return exc
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if name == "APIError" and module.startswith("postgrest"):
        return map_postgrest_error(
            getattr(exc, "code", None), getattr(exc, "message", None), getattr(exc, "details", None)
        )
    if module.startswith("supabase_auth") or name.startswith("Auth"):
        return _auth_error(exc)
    if name == "NetworkSettingError":  # core.net_errors: SSL_CERT_FILE or a proxy, named
        return Unavailable(f"The Supabase project cannot be reached: {exc}.")
    if name in _NETWORK_ERROR_NAMES or module.startswith(("httpx", "httpcore", "websockets")):
        return Unavailable("The Supabase project is unreachable; check the network.")
    if isinstance(exc, OSError | TimeoutError):
        return Unavailable("The Supabase project is unreachable; check the network.")
    bad_input = encoding_refusal(exc)  # found while encoding the request, as on every transport
    if bad_input is not None:
        return bad_input
    if name == "SupabaseException":
        return InvalidInput(sentence(getattr(exc, "message", str(exc)), "Bad Supabase settings."))
    return Unavailable(f"Unexpected error talking to Supabase ({name}).")


@asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    """``async with translate_errors(): ...`` re-raises any transport error as a DevSync one."""
    try:
        yield
    except DevSyncError:
        raise
    except Exception as exc:
        raise map_exception(exc) from None
