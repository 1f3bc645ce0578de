"""Turn supabase-py / PostgREST / GoTrue / httpx exceptions into DevSync's error hierarchy.

No transport exception type leaves the Supabase transport: every call goes through
``translate_errors`` (or ``map_exception``). The exception classes are matched by name and
attributes so that this module imports nothing heavy.
"""

from __future__ import annotations

import json
import re
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

#: PostgREST's own codes (https://postgrest.org errors reference) that mean "the server side is
#: not reachable or not set up" rather than "your request was wrong".
_UNAVAILABLE_PGRST = {"PGRST000", "PGRST001", "PGRST002", "PGRST003"}
_JWT_PGRST = {"PGRST300", "PGRST301", "PGRST302", "PGRST303"}
_MISSING_SCHEMA = {"PGRST202", "PGRST204", "PGRST205", "42883", "42P01"}
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


#: PostgreSQL's own message for a check or unique violation names the constraint in quotes.
_CONSTRAINT_NAME = re.compile(r'constraint "([^"]+)"')


def _constraint_sentence(code: str, message: str | None) -> str | None:
    """The local transport's sentence for a known constraint named in ``message``, if any."""
    found = _CONSTRAINT_NAME.search(message or "")
    if found is None:
        return None
    # Imported here: only an error path needs it, and it brings psycopg along.
    from devsync_tui.backend.postgres.errors import constraint_sentence

    return constraint_sentence(code, found.group(1))


def _current_version(details: Any) -> int | None:
    """``details`` of a PT409 is the JSON ``{"current_version": N}`` (N null if the row is gone)."""
    data = details
    if isinstance(details, str):
        try:
            data = json.loads(details)
        except ValueError:
            return None
    if isinstance(data, dict):
        value = data.get("current_version")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _sentence(message: str | None, fallback: str) -> str:
    text = (message or "").strip()
    if not text:
        return fallback
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def map_postgrest_error(code: str | None, message: str | None, details: Any) -> DevSyncError:
    """Map a PostgREST error body (``code`` is a SQLSTATE, a ``PGRSTnnn`` or an HTTP status
    as text when the body was not PostgREST JSON) onto a DevSync error."""
    code = (code or "").strip()
    if code in ("PT409", "409"):
        return Conflict(
            "Someone else changed this since you read it.",
            current_version=_current_version(details),
        )
    if code in ("42501", "401", "403") or code in _JWT_PGRST:
        if code in _JWT_PGRST:
            return PermissionDenied("Your session is no longer valid; sign in again.")
        return PermissionDenied(_sentence(message, "You are not allowed to do that."))
    if code in ("404", "PGRST116", "P0002", "02000"):
        return NotFound(_sentence(message, "It does not exist or you cannot see it."))
    if code in _MISSING_SCHEMA:
        return Unavailable(
            "The Supabase project does not have DevSync's schema; run its migrations "
            "(supabase db push)."
        )
    if code in _UNAVAILABLE_PGRST or code.startswith(("08", "53", "57")):
        return Unavailable("The database is unavailable right now; try again later.")
    if code.isdigit() and len(code) == 3:
        status = int(code)
        if status >= 500 or status in (408, 429):
            return Unavailable(f"The Supabase project answered HTTP {status}; try again later.")
        return InvalidInput(_sentence(message, f"The request was refused (HTTP {status})."))
    if code in ("23505", "23514"):
        known = _constraint_sentence(code, message)
        if known is not None:
            return InvalidInput(known)
    if code.startswith(("22", "23", "P0", "PGRST1", "42")) or code == "400":
        return InvalidInput(_sentence(message, "The request was not valid."))
    return InvalidInput(_sentence(message, "The request failed."))


def _auth_error(exc: BaseException) -> DevSyncError:
    name = type(exc).__name__
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    message = str(getattr(exc, "message", "") or exc)
    if name == "AuthRetryableError" or (isinstance(status, int) and status >= 500):
        return Unavailable("Supabase Auth is unreachable right now; try again later.")
    if name == "AuthSessionMissingError":
        return NotSignedIn("You are not signed in; run `devsync login`.")
    if name == "AuthWeakPasswordError":
        return InvalidInput(_sentence(message, "That password is too weak."))
    if status == 429 or code == "over_request_rate_limit" or code == "over_email_send_rate_limit":
        return Unavailable("Too many attempts; wait a minute and try again.")
    if code in ("invalid_credentials",) or "invalid login credentials" in message.lower():
        return PermissionDenied("Wrong e-mail or password.")
    if code in ("otp_expired",) or "token has expired or is invalid" in message.lower():
        return PermissionDenied("That code is wrong or has expired; ask for a new one.")
    if code in ("email_not_confirmed",):
        return PermissionDenied("Confirm your e-mail address first (see the message we sent).")
    if code in ("refresh_token_not_found", "refresh_token_already_used", "session_not_found"):
        return NotSignedIn("Your session has ended; run `devsync login` again.")
    if status in (401, 403):
        return NotSignedIn("Your session has ended; run `devsync login` again.")
    if status == 422 or status == 400:
        return InvalidInput(_sentence(message, "Supabase Auth refused the request."))
    return InvalidInput(_sentence(message, "Supabase Auth refused the request."))


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
    if name in _NETWORK_ERROR_NAMES or module.startswith(("httpx", "httpcore", "websockets")):
        return Unavailable("The Supabase project is unreachable; check the network.")
    if isinstance(exc, OSError | TimeoutError):
        return Unavailable("The Supabase project is unreachable; check the network.")
    # Bad input found while encoding the request (as on the local transport, postgres/errors.py):
    # a str with lone surrogates (undecodable bytes read from a file) or JSON nested too deeply.
    if isinstance(exc, UnicodeError):
        return InvalidInput("Text must be valid UTF-8; this holds an undecodable character.")
    if isinstance(exc, RecursionError):
        return InvalidInput("That JSON is nested too deeply.")
    if name == "SupabaseException":
        return InvalidInput(_sentence(getattr(exc, "message", str(exc)), "Bad Supabase settings."))
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
