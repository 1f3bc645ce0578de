"""The rules of PERMISSIONS.md as pure functions, so the UI can hide actions that would fail.

The database stays the authority (RLS + RPCs); these functions only mirror it. Each takes the
caller's role in the team (``None`` = not a member: outsider or anon) and the ownership facts the
rule depends on, passed as keyword arguments so that a call site reads like the rule.

Viewers are read-only everywhere, even for an environment they own.
"""

from __future__ import annotations

from devsync_tui.core.execution_control import is_execution_control
from devsync_tui.core.models import Role

_WRITERS = frozenset({Role.ADMIN, Role.MEMBER})


def _is_writer(role: Role | None) -> bool:
    return role in _WRITERS


def _is_admin(role: Role | None) -> bool:
    return role is Role.ADMIN


# -- reading ---------------------------------------------------------------------------------
def can_read_team_data(role: Role | None) -> bool:
    """Teams, members, projects, environments, configurations (without secret values),
    history, dependencies and health: any member of the team, whatever the role."""
    return role is not None


def can_read_audit_log(role: Role | None) -> bool:
    """The audit log: admins of the team."""
    return _is_admin(role)


def can_read_template(role: Role | None, *, is_public: bool, signed_in: bool = True) -> bool:
    """Templates: members of the project's team; everyone signed in when public."""
    return role is not None or (is_public and signed_in)


# -- teams and members -----------------------------------------------------------------------
def can_create_team(*, signed_in: bool) -> bool:
    """Any signed-in user may create a team (and becomes its owner and an admin)."""
    return signed_in


def can_rename_team(role: Role | None) -> bool:
    """Changing a team: admins."""
    return _is_admin(role)


def can_delete_team(role: Role | None, *, is_team_owner: bool) -> bool:
    """Deleting a team: its owner only (who is always an admin member)."""
    return role is not None and is_team_owner


def can_add_member(role: Role | None) -> bool:
    """Adding a member: admins."""
    return _is_admin(role)


def can_set_member_role(
    role: Role | None,
    *,
    target_is_owner: bool,
    target_is_last_admin: bool,
    new_role: Role,
) -> bool:
    """Changing a member's role: admins; never demote the owner or the last admin."""
    if not _is_admin(role):
        return False
    demotes = new_role is not Role.ADMIN
    return not (demotes and (target_is_owner or target_is_last_admin))


def can_remove_member(
    role: Role | None,
    *,
    target_is_self: bool,
    target_is_owner: bool,
    target_is_last_admin: bool,
) -> bool:
    """Removing a member: admins, or any member removing themself (leaving); never the owner
    or the last admin."""
    if role is None or target_is_owner or target_is_last_admin:
        return False
    return _is_admin(role) or target_is_self


# -- projects and templates ------------------------------------------------------------------
def can_create_project(role: Role | None) -> bool:
    """Creating a project: admins and members."""
    return _is_writer(role)


def can_edit_project(role: Role | None) -> bool:
    """Changing a project: admins and members."""
    return _is_writer(role)


def can_delete_project(role: Role | None) -> bool:
    """Deleting a project: admins."""
    return _is_admin(role)


def can_create_template(role: Role | None) -> bool:
    """Creating a template: admins and members."""
    return _is_writer(role)


def can_put_in_template(role: Role | None, key: str, key_type: str = "env_var") -> bool:
    """Whether a key may go into a template I create: an execution-control one (PATH,
    .npmrc, …) only when I am an admin (the database refuses the whole template otherwise)."""
    return not is_execution_control(key, key_type) or _is_admin(role)


def can_delete_template(role: Role | None, *, is_creator: bool) -> bool:
    """Deleting a template: admins, or its creator while a member (viewers never write)."""
    return _is_admin(role) or (_is_writer(role) and is_creator)


# -- environments ----------------------------------------------------------------------------
def can_create_environment(role: Role | None) -> bool:
    """Creating an environment (owned by the caller): admins and members."""
    return _is_writer(role)


def can_edit_environment(role: Role | None, *, env_owner: bool) -> bool:
    """Renaming an environment or setting its status: admins; members who own it."""
    return _is_admin(role) or (_is_writer(role) and env_owner)


def can_delete_environment(role: Role | None, *, env_owner: bool) -> bool:
    """Deleting an environment: admins, or its owner while a member."""
    return _is_admin(role) or (_is_writer(role) and env_owner)


# -- configuration ---------------------------------------------------------------------------
def can_edit_configuration(
    role: Role | None,
    *,
    scope_is_default: bool,
    env_owner: bool,
    key: str | None = None,
    key_type: str = "env_var",
) -> bool:
    """Create, change, delete or restore a configuration key.

    Project default (``scope_is_default``): admins and members. Environment-specific: admins
    and the environment's owner (a member, not a viewer). An execution-control variable
    (``key``: PATH, LD_PRELOAD, NODE_OPTIONS, … see ``execution_control``): admins only, at
    every scope."""
    if key is not None and is_execution_control(key, key_type):
        return _is_admin(role)
    if scope_is_default:
        return _is_writer(role)
    return _is_admin(role) or (_is_writer(role) and env_owner)


def can_reveal(
    role: Role | None,
    *,
    env_owner: bool,
    scope_is_default: bool,
    owns_env_in_project: bool,
) -> bool:
    """Revealing a secret value (also a secret in history).

    Admins always. For an environment's secret: its owner. For a project default secret: a
    member who owns an environment of that project (their machine inherits it). Viewers and
    outsiders never, not even for an environment they own."""
    if _is_admin(role):
        return True
    if role is not Role.MEMBER:
        return False
    if scope_is_default:
        return owns_env_in_project
    return env_owner


# -- dependencies and health -----------------------------------------------------------------
def can_report_dependencies(role: Role | None, *, scope_is_default: bool, env_owner: bool) -> bool:
    """Writing dependencies: the baseline by admins and members; an environment's set by
    admins and its owner."""
    return can_edit_configuration(role, scope_is_default=scope_is_default, env_owner=env_owner)


def can_report_health(role: Role | None, *, env_owner: bool) -> bool:
    """Recording health points: admins and the environment's owner (its agent)."""
    return _is_admin(role) or (_is_writer(role) and env_owner)


def can_rollup_health(role: Role | None) -> bool:
    """Retention (rolling raw points up into hourly averages): admins."""
    return _is_admin(role)
