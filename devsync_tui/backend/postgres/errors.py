"""psycopg exceptions → the DevSync error hierarchy.

An error the database raised is told by ``refusals.database_refusal`` from its SQLSTATE, primary
message, detail and constraint (the same sentences as on every transport); this module only
finds those in psycopg's ``diag`` and handles what psycopg raises without a SQLSTATE (a broken
connection, a value it cannot send).
"""

from __future__ import annotations

import logging

import psycopg

from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.backend.refusals import UNAVAILABLE, database_refusal, encoding_refusal

log = logging.getLogger("devsync.backend.postgres")


def map_error(exc: BaseException) -> DevSyncError:
    """The DevSync error for a psycopg (or pool) exception. Never carries a value."""
    if isinstance(exc, DevSyncError):
        return exc
    if not isinstance(exc, psycopg.Error):
        bad_input = encoding_refusal(exc)
        if bad_input is not None:
            return bad_input
        if isinstance(exc, OSError | TimeoutError):
            return Unavailable("The database cannot be reached.")
        return DevSyncError("Unexpected database error.")
    state = exc.sqlstate or ""
    log.info("database error %s (%s)", type(exc).__name__, state or "no sqlstate")
    if state:
        diag = exc.diag
        return database_refusal(
            state,
            diag.message_primary,
            detail=diag.message_detail,
            constraint=diag.constraint_name,
        )
    if isinstance(exc, psycopg.DataError):
        # Raised by psycopg itself before sending: a NUL byte in a text value, which the
        # server refuses as 22P05 when it arrives some other way (JSON through PostgREST).
        return database_refusal("22P05", None)
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        # Pool timeouts, closed connections, server gone: no SQLSTATE, but clearly transient.
        return Unavailable(UNAVAILABLE)
    return DevSyncError("The database reported an unexpected error (SQLSTATE none).")


def is_transient(exc: DevSyncError) -> bool:
    """Whether a read that failed with ``exc`` may be retried."""
    return isinstance(exc, Unavailable)
