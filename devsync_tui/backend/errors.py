"""The one error hierarchy of DevSync. No transport exception type reaches callers.

Messages are one plain sentence for a person. They never contain a secret value.
"""

from __future__ import annotations

from typing import Any


class DevSyncError(Exception):
    """Base class of every error the backend raises."""


class NotSignedIn(DevSyncError):
    """No session (Supabase) or unknown local user."""


class PermissionDenied(DevSyncError):
    """SQLSTATE 42501 / HTTP 401, 403: the database refused."""


class TokenRefused(PermissionDenied):
    """SQLSTATE PT401: the machine token was refused (expired, revoked, unknown, or its
    creator lost access). The message says which, once, the same on both transports."""


class Conflict(DevSyncError):
    """SQLSTATE PT409 / HTTP 409: the row moved on since the caller read it."""

    def __init__(
        self,
        message: str,
        *,
        current_version: int | None = None,
        current: Any | None = None,
    ) -> None:
        super().__init__(message)
        #: The version now stored (None: the row was deleted / does not exist).
        self.current_version = current_version
        #: The current row (a ``Configuration``) when the transport could read it.
        self.current = current


class NotFound(DevSyncError):
    """The thing does not exist or is not visible to this user."""


class InvalidInput(DevSyncError):
    """Bad input (SQLSTATE 22xxx/23xxx, check violations, validation in RPCs)."""


class Unavailable(DevSyncError):
    """The database or network is down. Retried with backoff where that is safe."""


class OutcomeUnknown(Unavailable):
    """The connection broke after a write was sent: it may or may not have been applied.

    Never retried blindly. Once the backend is reachable again, ``Backend.confirm_save`` tells
    whether the save happened (exactly once) or not at all."""
