"""What DevSync says when the database or the contract refuses: one sentence per refusal, the
same on every transport.

``database_refusal`` maps an error the database raised (its SQLSTATE, primary message, detail
and constraint) onto the DevSync error; each transport only finds those four fields in its own
exception type (psycopg's ``diag``, PostgREST's JSON body). PostgreSQL's own messages for data
errors can quote the offending value (``invalid input syntax for type uuid: "…"``, a unique
violation's detail), so they are replaced by sentences here; only messages DevSync's functions
raise on purpose (SQLSTATE 22023, P0001, P0002, PT409, 42501, "… already exists") are passed
on, and never the ``detail`` (a refused machine token, PT401, is told from its detail's
reason, which never holds the token).
"""

from __future__ import annotations

import re
from typing import Any

from devsync_tui.backend.errors import (
    Conflict,
    DevSyncError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TokenRefused,
    Unavailable,
)

CONFLICT = "Someone else changed this since you read it."
UNAVAILABLE = "The database is not available right now; try again in a moment."
DISK_FULL = (
    "The database's disk is full, so nothing was written; free space on the disk that holds "
    "the database (`devsync local status` shows where the local one lives), then try again."
)
SCHEMA_MISSING = (
    "The database does not have DevSync's current schema; apply its migrations "
    "(`supabase db push` for a Supabase project, `devsync db migrate` for another server)."
)
UNDECODABLE = "Text must be valid UTF-8; this holds an undecodable character."
TOO_DEEP = "That JSON is nested too deeply."
NOT_FINITE = "A number is not finite (NaN or infinity); JSON cannot hold it."
NOT_VISIBLE = "It does not exist, or you may not see it."
NO_SECRET_VALUE = "There is no secret value to reveal."
AUDIT_ADMINS_ONLY = "Only the team's admins can read its audit log."
MAX_PACKAGES = 20_000
MAX_HEALTH_POINTS = 5_000

#: SQLSTATEs that mean "try again later" rather than "your input is wrong".
_TRANSIENT = {"40001", "40P01", "55P03", "57014", "53300", "57P01", "57P02", "57P03"}
#: Undefined function / table / column: the schema is missing or older than this DevSync.
_SCHEMA = {"42883", "42P01", "42703"}

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
_CHECKS = {
    "env_templates_no_secret_values": (
        "A template may not hold secret values: list secret keys without a value."
    ),
    "env_templates_required_boolean": (
        'A template marks a key required with "required": true (or false), nothing else.'
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
    "dependencies_kind_check": (
        "A package's kind must be registry, workspace, path, editable, git or url."
    ),
    "machine_tokens_name_check": "A token name must have 1 to 200 characters.",
}
#: Constraints named ``*_printable`` keep control characters out of what terminals show.
_PRINTABLE = "Names and labels may not contain control characters (escape sequences, line breaks)."

#: Unique constraints → what a person calls the thing that already exists (and where).
_UNIQUE = {
    "teams_slug_key": "A team with that slug already exists.",
    "profiles_username_key": "That username is taken.",
    "team_members_pkey": "That user is already a member of this team.",
    "projects_team_id_name_key": "A project with that name already exists in this team.",
    "environments_project_id_name_key": (
        "An environment with that name already exists in this project."
    ),
    "env_templates_project_id_name_key": (
        "A template with that name already exists in this project."
    ),
    "configurations_scope_key": "That configuration key already exists here.",
    "dependencies_scope_package": "That package is already listed here.",
    "dependencies_scope_package_version": "That package version is already listed here.",
    "health_checks_environment_id_metric_type_recorded_at_key": (
        "A health point of that metric is already stored for that time."
    ),
}

#: PostgreSQL's own message for a check or unique violation names the constraint in quotes.
_CONSTRAINT_NAME = re.compile(r'constraint "([^"]+)"')
_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
_CURRENT_VERSION = re.compile(r'"current_version"\s*:\s*(-?\d+)\s*[,}]')

#: Table → the noun a person uses for one of its rows.
_NOUNS = {
    "teams": "team",
    "team_members": "member",
    "projects": "project",
    "env_templates": "template",
    "environments": "environment",
    "configurations": "configuration",
    "configuration_history": "history entry",
}
#: Table → the sentence for an insert that stored nothing (row-level security refused it).
_MAY_NOT_CREATE = {
    "projects": "You may not create projects in this team.",
    "env_templates": "You may not create templates in this project.",
}
#: RPC → the sentence for a call that returned no row.
_NOT_DONE = {
    "create_team": "The team was not created.",
    "add_team_member": "The member was not added.",
    "set_member_role": "The member's role was not changed.",
    "create_environment": "The environment was not created.",
    "set_environment_owner": "The environment's owner was not changed.",
    "save_configuration": "The configuration was not saved.",
    "restore_configuration": "The history entry was not restored.",
    "create_machine_token": "The machine token was not created.",
    "revoke_machine_token": "The machine token was not revoked.",
}


def is_sqlstate(code: str) -> bool:
    """Whether ``code`` is a SQLSTATE (five digits or capitals), not an HTTP status or PGRST."""
    return bool(_SQLSTATE.match(code))


def sentence(message: str | None, fallback: str) -> str:
    """``message`` as one sentence: capitalised, ending in a full stop (``fallback`` if empty)."""
    text = (message or "").strip()
    if not text:
        return fallback
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def conflict_version(detail: Any) -> int | None:
    """The ``current_version`` of a PT409's detail, the JSON ``{"current_version": N}`` as text
    (psycopg, PostgREST) or decoded (None: the row is gone, or the detail is not that)."""
    if isinstance(detail, dict):
        value = detail.get("current_version")
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    # Read with a pattern, not a JSON parser: this module is imported before the dashboard's
    # first frame, and nothing else there needs ``json``.
    found = _CURRENT_VERSION.search(detail) if isinstance(detail, str) else None
    return int(found.group(1)) if found else None


def constraint_sentence(code: str, constraint: str | None) -> str | None:
    """The sentence for a named check (23514) or unique (23505) constraint we know, else None."""
    if not constraint:
        return None
    if code == "23514":
        if constraint in _CHECKS:
            return _CHECKS[constraint]
        if constraint.endswith("_printable"):
            return _PRINTABLE
    if code == "23505":
        return _UNIQUE.get(constraint)
    return None


def database_refusal(
    code: str, message: str | None, *, detail: Any = None, constraint: str | None = None
) -> DevSyncError:
    """The DevSync error for an error the database raised with SQLSTATE ``code``.

    ``constraint`` is the violated constraint when the transport knows it; otherwise it is
    read from PostgreSQL's message, which names it. Never carries a value."""
    if constraint is None and message:
        found = _CONSTRAINT_NAME.search(message)
        constraint = found.group(1) if found else None
    if code == "42501":
        return PermissionDenied(sentence(message, "You are not allowed to do that."))
    if code == "PT401":
        return TokenRefused(token_refusal(detail))
    if code == "PT409":
        return Conflict(CONFLICT, current_version=conflict_version(detail))
    if code in ("P0002", "02000"):
        return NotFound(sentence(message, NOT_VISIBLE))
    if code in ("22023", "P0001"):
        return InvalidInput(sentence(message, "That input is not valid."))
    known = constraint_sentence(code, constraint)
    if known is not None:
        return InvalidInput(known)
    if code == "23505":
        # Our functions say what exists ("… already exists", "… is already a member of this
        # team"); PostgreSQL's own message names a constraint and its detail quotes the value.
        text = message or ""
        if "already" in text and "constraint" not in text:
            return InvalidInput(sentence(text, "That already exists."))
        return InvalidInput("That already exists.")
    if code == "54001":  # stack depth: JSON nested deeper than the server parses
        return InvalidInput(TOO_DEEP)
    if code.startswith(("22", "23")):
        return InvalidInput(_GENERIC_DATA.get(code, "A value is not valid."))
    if code in _SCHEMA:
        return Unavailable(SCHEMA_MISSING)
    if code in ("28000", "28P01"):
        return Unavailable("The database refused the login; check the connection settings.")
    if code == "3D000":
        return Unavailable("The database does not exist; check the connection settings.")
    if code == "53100":  # disk_full: the connection is fine, the disk is not
        return Unavailable(DISK_FULL)
    if code.startswith(("08", "53", "57")) or code in _TRANSIENT:
        return Unavailable(UNAVAILABLE)
    return DevSyncError(f"The database reported an unexpected error (SQLSTATE {code or 'none'}).")


def token_refusal(detail: Any) -> str:
    """The sentence for a refused machine token, from the PT401's ``detail``
    ``{"reason", "at"}`` (text from psycopg and PostgREST, or already decoded)."""
    # Deferred: only a machine whose token was refused needs it (it imports json, see above).
    from devsync_tui.core.machine_token import refusal_sentence

    if isinstance(detail, dict):
        import json

        detail = json.dumps(detail)
    return refusal_sentence(detail if isinstance(detail, str) else None)


def encoding_refusal(exc: BaseException) -> InvalidInput | None:
    """Bad input found while encoding a request, before it reached the database: a str with
    lone surrogates (undecodable bytes read from a file) or JSON nested too deeply."""
    if isinstance(exc, UnicodeError):
        return InvalidInput(UNDECODABLE)
    if isinstance(exc, RecursionError):
        return InvalidInput(TOO_DEEP)
    return None


def noun(table: str) -> str:
    """What a person calls one row of ``table``."""
    return _NOUNS.get(table, "row")


def not_visible(table: str) -> NotFound:
    """A row of ``table`` that does not exist, or that row-level security hides from me."""
    return NotFound(f"No such {noun(table)} (or you may not see it).")


def may_not_change(table: str) -> PermissionDenied:
    """A row of ``table`` I can see but row-level security does not let me change."""
    return PermissionDenied(f"You may not change this {noun(table)}.")


def may_not_create(table: str) -> PermissionDenied:
    """An insert into ``table`` that stored nothing."""
    return PermissionDenied(_MAY_NOT_CREATE.get(table, f"You may not add a {noun(table)} here."))


def not_done(rpc: str) -> NotFound:
    """A write function (``rpc``) that returned no row."""
    return NotFound(_NOT_DONE.get(rpc, "The database returned nothing for that change."))


def too_many(what: str, limit: int, got: int) -> InvalidInput:
    """A report larger than the database accepts in one call (its own wording)."""
    return InvalidInput(f"At most {limit:,} {what} per report (got {got}).")
