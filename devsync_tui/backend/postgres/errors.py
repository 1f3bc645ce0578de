"""psycopg exceptions → the DevSync error hierarchy, by SQLSTATE.

Messages are one plain sentence. PostgreSQL's own messages for data errors can quote the
offending value (``invalid input syntax for type uuid: "…"``, a unique violation's detail), so
they are replaced by generic sentences; only messages our RPCs raise on purpose (SQLSTATE
22023, P0001, PT409, 42501, P0002 from the DevSync functions) are passed on, and never the
``detail`` field.
"""

from __future__ import annotations

import json
import logging

import psycopg
from psycopg import errors as pg

from devsync_tui.backend.errors import (
    Conflict,
    DevSyncError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from devsync_tui.core.wording import with_article

log = logging.getLogger("devsync.backend.postgres")

#: SQLSTATEs that mean "try again later" rather than "your input is wrong".
_TRANSIENT = {"40001", "40P01", "55P03", "57014", "53300", "57P01", "57P02", "57P03"}

_GENERIC_DATA = {
    "22001": "A value is too long.",
    "22003": "A number is out of range.",
    "22007": "A date or time is not valid.",
    "22008": "A date or time is out of range.",
    "22P02": "A value has the wrong format (for example an id that is not a UUID).",
    "22P05": "A value holds a character the database cannot store.",
    "22021": "A value holds a character the database cannot store.",
    "22004": "A required value is missing.",
    "23502": "A required value is missing.",
    "23503": "That refers to something that does not exist (or no longer exists).",
    "23514": "A value is not allowed here.",
    "23P01": "That overlaps with something that already exists.",
}


#: Check constraints whose violation deserves its own sentence.
_CONSTRAINTS = {
    "env_templates_no_secret_values": (
        "A template may not hold secret values: list secret keys without a value."
    ),
    "configurations_secret_value_null": "A secret's value is kept apart, never in the row.",
    "env_templates_size": (
        "A template may hold at most 1 MiB of configuration and 4 MiB of dependencies."
    ),
    "projects_description_size": "A project description may be at most 10,000 characters.",
    # The length checks of supabase/migrations/20261125140000_tables.sql (char_length(btrim())).
    "teams_name_check": "A team name must have 1 to 200 characters.",
    "projects_name_check": "A project name must have 1 to 200 characters.",
    "env_templates_name_check": "A template name must have 1 to 200 characters.",
    "environments_name_check": "An environment name must have 1 to 200 characters.",
    "teams_slug_check": (
        "A team slug must be 1 to 63 lowercase letters, digits or -, not starting with -."
    ),
    "profiles_username_check": (
        "A username must be 1 to 63 letters, digits, _ . or -, starting with a letter or digit."
    ),
    "profiles_full_name_check": "A full name may be at most 200 characters.",
    "profiles_avatar_url_check": "An avatar URL may be at most 2,048 characters.",
    "projects_repository_url_printable": (
        "A repository URL may be at most 2,048 characters, without control characters."
    ),
    "dependencies_package_name_check": "A package name must have 1 to 512 characters.",
    "dependencies_version_constraint_check": "A version constraint may be at most 512 characters.",
    "dependencies_resolved_version_check": "A resolved version may be at most 512 characters.",
}

#: Unique constraints → what a person calls the thing that already exists (and where).
_UNIQUE = {
    "teams_slug_key": "A team with that slug already exists.",
    "profiles_username_key": "That username is taken.",
    "projects_team_id_name_key": "A project with that name already exists in this team.",
    "environments_project_id_name_key": (
        "An environment with that name already exists in this project."
    ),
    "configurations_scope_key": "That configuration key already exists here.",
    "dependencies_scope_package": "That package is already listed here.",
}
#: Constraints named ``*_printable`` keep control characters out of what terminals show.
_PRINTABLE = "Names and labels may not contain control characters (escape sequences, line breaks)."


def conflict_version(exc: psycopg.Error) -> int | None:
    """The ``current_version`` a PT409 error carries in its detail JSON (None: row gone)."""
    detail = exc.diag.message_detail if exc.diag else None
    if not detail:
        return None
    try:
        value = json.loads(detail).get("current_version")
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int) else None


def _primary(exc: psycopg.Error, fallback: str) -> str:
    message = exc.diag.message_primary if exc.diag else None
    if not message:
        return fallback
    message = message.strip()
    if not message.endswith((".", "!", "?")):
        message += "."
    return message[0].upper() + message[1:]


def _unique_message(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary or ""
    # Our RPCs raise their own sentence ("… already exists", "… is already a member of this
    # team"); PostgreSQL's own names a constraint and may quote the value in its detail.
    if "already" in message and "constraint" not in message:
        return _primary(exc, "That already exists.")
    constraint = exc.diag.constraint_name or ""
    if constraint in _UNIQUE:
        return _UNIQUE[constraint]
    table = (exc.diag.table_name or "").rstrip("s").replace("_", " ")
    if table:
        return f"{with_article(table).capitalize()} with that name already exists."
    return "That already exists."


def constraint_sentence(state: str, constraint: str | None) -> str | None:
    """The sentence for a named check (23514) or unique (23505) constraint we know, else None.

    Shared with the Supabase transport, which finds the name in PostgREST's message."""
    if not constraint:
        return None
    if state == "23514":
        if constraint in _CONSTRAINTS:
            return _CONSTRAINTS[constraint]
        if constraint.endswith("_printable"):
            return _PRINTABLE
    if state == "23505":
        return _UNIQUE.get(constraint)
    return None


def map_error(exc: BaseException) -> DevSyncError:
    """The DevSync error for a psycopg (or pool) exception. Never carries a value."""
    if isinstance(exc, DevSyncError):
        return exc
    if not isinstance(exc, psycopg.Error):
        if isinstance(exc, UnicodeError):
            return InvalidInput("Text must be valid UTF-8; this holds an undecodable character.")
        if isinstance(exc, RecursionError):
            return InvalidInput("That JSON is nested too deeply.")
        if isinstance(exc, OSError | TimeoutError):
            return Unavailable("The database cannot be reached.")
        return DevSyncError("Unexpected database error.")
    state = exc.sqlstate or ""
    log.info("database error %s (%s)", type(exc).__name__, state or "no sqlstate")
    if state == "42501":
        return PermissionDenied(_primary(exc, "Permission denied."))
    if state == "PT409":
        return Conflict(
            "Someone else changed this in the meantime.", current_version=conflict_version(exc)
        )
    if state == "P0002":
        return NotFound(_primary(exc, "Not found."))
    if state in ("22023", "P0001"):
        return InvalidInput(_primary(exc, "Invalid input."))
    if state == "23505":
        return InvalidInput(_unique_message(exc))
    known = constraint_sentence(state, exc.diag.constraint_name if exc.diag else None)
    if known is not None:
        return InvalidInput(known)
    if state == "54001":  # stack depth: JSON nested deeper than the server parses
        return InvalidInput("That JSON is nested too deeply.")
    if state.startswith(("22", "23")):
        return InvalidInput(_GENERIC_DATA.get(state, "A value is not valid."))
    if state == "28000" or state == "28P01":
        return Unavailable("The database refused the login; check the connection settings.")
    if state == "3D000":
        return Unavailable("The database does not exist; check the connection settings.")
    if state.startswith("08") or state in _TRANSIENT:
        return Unavailable("The database is not available right now; try again in a moment.")
    if not state and isinstance(exc, psycopg.DataError):
        # Raised by psycopg itself before sending, e.g. a NUL byte in a text value.
        return InvalidInput("A value holds a character the database cannot store (NUL).")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        # Pool timeouts, closed connections, server gone: no SQLSTATE, but clearly transient.
        return Unavailable("The database is not available right now; try again in a moment.")
    if isinstance(exc, pg.UndefinedFunction | pg.UndefinedTable | pg.UndefinedColumn):
        return DevSyncError("The database schema is out of date; run the migrations.")
    return DevSyncError(f"The database reported an unexpected error (SQLSTATE {state or 'none'}).")


def is_transient(exc: DevSyncError) -> bool:
    """Whether a read that failed with ``exc`` may be retried."""
    return isinstance(exc, Unavailable)
