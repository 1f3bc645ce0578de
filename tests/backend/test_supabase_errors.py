"""PostgREST / GoTrue / network errors map onto DevSync's one hierarchy."""

from __future__ import annotations

import httpx
import pytest
from postgrest.exceptions import APIError
from supabase_auth.errors import (
    AuthApiError,
    AuthRetryableError,
    AuthSessionMissingError,
)

from devsync_tui.backend.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    Unavailable,
)
from devsync_tui.backend.supabase.errors import map_exception, translate_errors


def api(code: str, message: str = "m", details: object = None) -> APIError:
    return APIError({"code": code, "message": message, "details": details, "hint": None})


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (api("PT409", "version moved", '{"current_version": 7}'), Conflict),
        (api("409"), Conflict),
        (api("42501", "permission denied for table configurations"), PermissionDenied),
        (api("401"), PermissionDenied),
        (api("403"), PermissionDenied),
        (api("PGRST303", "JWT expired"), PermissionDenied),
        (api("404"), NotFound),
        (api("PGRST116", "JSON object requested, multiple (or no) rows returned"), NotFound),
        (api("P0002", "no such user"), NotFound),
        (api("400"), InvalidInput),
        (api("22023", "env var key must match"), InvalidInput),
        (api("23505", "KEY already exists"), InvalidInput),
        (api("23514", "check violation"), InvalidInput),
        (api("503"), Unavailable),
        (api("502"), Unavailable),
        (api("PGRST001"), Unavailable),
        (api("57014", "canceling statement due to statement timeout"), Unavailable),
        (api("PGRST202", "Could not find the function"), Unavailable),
        (httpx.ConnectError("refused"), Unavailable),
        (httpx.ReadTimeout("slow"), Unavailable),
        (ConnectionResetError(), Unavailable),
        (AuthRetryableError("down", 0), Unavailable),
        (AuthSessionMissingError(), NotSignedIn),
        (AuthApiError("Invalid login credentials", 400, "invalid_credentials"), PermissionDenied),
        (AuthApiError("Token has expired or is invalid", 403, "otp_expired"), PermissionDenied),
        (AuthApiError("Invalid Refresh Token", 400, "refresh_token_not_found"), NotSignedIn),
        (AuthApiError("rate", 429, "over_email_send_rate_limit"), Unavailable),
        (
            AuthApiError(
                "Unable to validate email address: invalid format", 400, "validation_failed"
            ),
            InvalidInput,
        ),
    ],
)
def test_mapping(exc: BaseException, kind: type[Exception]) -> None:
    mapped = map_exception(exc)
    assert type(mapped) is kind
    text = str(mapped)
    assert text[:1].isupper()
    assert text.endswith((".", "!", "?"))


def test_conflict_carries_current_version() -> None:
    mapped = map_exception(api("PT409", "moved", '{"current_version": 7}'))
    assert isinstance(mapped, Conflict)
    assert mapped.current_version == 7
    gone = map_exception(api("PT409", "moved", '{"current_version": null}'))
    assert isinstance(gone, Conflict)
    assert gone.current_version is None


async def test_translate_errors_hides_the_transport_type() -> None:
    with pytest.raises(Unavailable) as info:
        async with translate_errors():
            raise httpx.ConnectError("refused")
    assert not isinstance(info.value, httpx.HTTPError)
    assert info.value.__cause__ is None


def _raised_during(cause: BaseException) -> AuthRetryableError:
    """An AuthRetryableError as supabase_auth raises it: inside its handler of ``cause``."""
    try:
        try:
            raise cause
        except Exception:
            raise AuthRetryableError("Request failed", 0) from None
    except AuthRetryableError as exc:
        exc.__context__ = cause  # `from None` hid it; supabase_auth keeps it
        return exc


@pytest.mark.parametrize(
    ("cause", "said"),
    [
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "Supabase Auth cannot be reached: the name does not resolve (DNS).",
        ),
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            "Supabase Auth cannot be reached: the connection was refused.",
        ),
        (
            httpx.ReadTimeout("timed out"),
            "Supabase Auth did not answer in time; try again later.",
        ),
    ],
)
def test_an_auth_server_not_reached_says_why(cause: BaseException, said: str) -> None:
    """QA: a name that does not resolve, a refused port and TLS all said "unreachable right
    now; try again later", which would not help."""
    mapped = map_exception(_raised_during(cause))
    assert isinstance(mapped, Unavailable)
    assert str(mapped) == said
