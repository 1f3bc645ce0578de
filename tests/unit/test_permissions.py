"""Cell by cell: core.permissions mirrors PERMISSIONS.md for every role and ownership fact."""

from __future__ import annotations

import pytest

from devsync_tui.core import permissions as p
from devsync_tui.core.models import Role

A, M, V, N = Role.ADMIN, Role.MEMBER, Role.VIEWER, None  # N: outsider / anon
ALL = (A, M, V, N)


def _expect(allowed: set[Role | None]) -> list[tuple[Role | None, bool]]:
    return [(role, role in allowed) for role in ALL]


@pytest.mark.parametrize(("role", "expected"), _expect({A, M, V}))
def test_read_team_data_any_member(role: Role | None, expected: bool) -> None:
    assert p.can_read_team_data(role) is expected


@pytest.mark.parametrize(("role", "expected"), _expect({A}))
def test_audit_log_admins_only(role: Role | None, expected: bool) -> None:
    assert p.can_read_audit_log(role) is expected


@pytest.mark.parametrize(
    ("role", "is_public", "expected"),
    [(A, False, True), (M, False, True), (V, False, True), (N, False, False), (N, True, True)],
)
def test_template_read(role: Role | None, is_public: bool, expected: bool) -> None:
    assert p.can_read_template(role, is_public=is_public) is expected


def test_template_read_public_needs_sign_in() -> None:
    assert p.can_read_template(None, is_public=True, signed_in=False) is False


def test_create_team_needs_sign_in() -> None:
    assert p.can_create_team(signed_in=True) is True
    assert p.can_create_team(signed_in=False) is False


@pytest.mark.parametrize(("role", "expected"), _expect({A}))
def test_rename_team_admins(role: Role | None, expected: bool) -> None:
    assert p.can_rename_team(role) is expected


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [(A, True, True), (A, False, False), (M, False, False), (V, False, False), (N, True, False)],
)
def test_delete_team_owner_only(role: Role | None, owner: bool, expected: bool) -> None:
    assert p.can_delete_team(role, is_team_owner=owner) is expected


@pytest.mark.parametrize(("role", "expected"), _expect({A}))
def test_add_member_admins(role: Role | None, expected: bool) -> None:
    assert p.can_add_member(role) is expected


@pytest.mark.parametrize(
    ("role", "owner", "last_admin", "new_role", "expected"),
    [
        (A, False, False, M, True),
        (A, False, False, A, True),
        (A, True, False, M, False),  # never demote the owner
        (A, False, True, V, False),  # never demote the last admin
        (A, True, False, A, True),  # "changing" the owner to admin demotes nobody
        (M, False, False, V, False),
        (V, False, False, M, False),
        (N, False, False, M, False),
    ],
)
def test_set_member_role(
    role: Role | None, owner: bool, last_admin: bool, new_role: Role, expected: bool
) -> None:
    assert (
        p.can_set_member_role(
            role, target_is_owner=owner, target_is_last_admin=last_admin, new_role=new_role
        )
        is expected
    )


@pytest.mark.parametrize(
    ("role", "is_self", "owner", "last_admin", "expected"),
    [
        (A, False, False, False, True),
        (A, False, True, False, False),  # never the owner
        (A, True, False, True, False),  # never the last admin, not even leaving
        (M, True, False, False, True),  # leave
        (V, True, False, False, True),  # a viewer may leave too
        (M, False, False, False, False),
        (V, False, False, False, False),
        (N, True, False, False, False),
        (A, True, True, False, False),  # the owner cannot leave
    ],
)
def test_remove_member(
    role: Role | None, is_self: bool, owner: bool, last_admin: bool, expected: bool
) -> None:
    assert (
        p.can_remove_member(
            role, target_is_self=is_self, target_is_owner=owner, target_is_last_admin=last_admin
        )
        is expected
    )


@pytest.mark.parametrize(("role", "expected"), _expect({A, M}))
def test_projects_create_and_edit(role: Role | None, expected: bool) -> None:
    assert p.can_create_project(role) is expected
    assert p.can_edit_project(role) is expected


@pytest.mark.parametrize(("role", "expected"), _expect({A}))
def test_projects_delete_admins(role: Role | None, expected: bool) -> None:
    assert p.can_delete_project(role) is expected


@pytest.mark.parametrize(("role", "expected"), _expect({A, M}))
def test_template_create(role: Role | None, expected: bool) -> None:
    assert p.can_create_template(role) is expected


@pytest.mark.parametrize(
    ("role", "creator", "expected"),
    [
        (A, False, True),
        (M, True, True),
        (M, False, False),
        (V, True, False),
        (N, True, False),
    ],
)
def test_template_delete(role: Role | None, creator: bool, expected: bool) -> None:
    assert p.can_delete_template(role, is_creator=creator) is expected


@pytest.mark.parametrize(("role", "expected"), _expect({A, M}))
def test_environment_create(role: Role | None, expected: bool) -> None:
    assert p.can_create_environment(role) is expected


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [
        (A, False, True),
        (A, True, True),
        (M, True, True),
        (M, False, False),
        (V, True, False),  # viewers never write, even their own environment
        (N, True, False),
    ],
)
def test_environment_edit_and_delete(role: Role | None, owner: bool, expected: bool) -> None:
    assert p.can_edit_environment(role, env_owner=owner) is expected
    assert p.can_delete_environment(role, env_owner=owner) is expected


@pytest.mark.parametrize(
    ("role", "default", "owner", "expected"),
    [
        (A, True, False, True),
        (M, True, False, True),
        (V, True, False, False),
        (N, True, False, False),
        (A, False, False, True),
        (M, False, True, True),
        (M, False, False, False),
        (V, False, True, False),
        (N, False, True, False),
    ],
)
def test_configuration_and_dependency_writes(
    role: Role | None, default: bool, owner: bool, expected: bool
) -> None:
    assert p.can_edit_configuration(role, scope_is_default=default, env_owner=owner) is expected
    assert p.can_report_dependencies(role, scope_is_default=default, env_owner=owner) is expected


@pytest.mark.parametrize(
    ("role", "default", "env_owner", "owns_env_in_project", "expected"),
    [
        # admins: always
        (A, True, False, False, True),
        (A, False, False, False, True),
        # env owner (member) for that environment's secrets
        (M, False, True, True, True),
        (M, False, False, True, False),  # owns another env of the project, not this one
        (M, False, False, False, False),
        # project default secret: a member who owns an environment of the project
        (M, True, False, True, True),
        (M, True, False, False, False),
        # viewers never, not even for an environment they own
        (V, False, True, True, False),
        (V, True, False, True, False),
        # outsiders never
        (N, False, True, True, False),
        (N, True, False, True, False),
    ],
)
def test_reveal(
    role: Role | None, default: bool, env_owner: bool, owns_env_in_project: bool, expected: bool
) -> None:
    assert (
        p.can_reveal(
            role,
            env_owner=env_owner,
            scope_is_default=default,
            owns_env_in_project=owns_env_in_project,
        )
        is expected
    )


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [(A, False, True), (M, True, True), (M, False, False), (V, True, False), (N, True, False)],
)
def test_report_health(role: Role | None, owner: bool, expected: bool) -> None:
    assert p.can_report_health(role, env_owner=owner) is expected


@pytest.mark.parametrize(("role", "expected"), _expect({A}))
def test_rollup_health_admins(role: Role | None, expected: bool) -> None:
    assert p.can_rollup_health(role) is expected


@pytest.mark.parametrize(
    ("role", "default", "owner", "key", "key_type", "expected"),
    [
        (Role.ADMIN, True, False, "PATH", "env_var", True),
        (Role.ADMIN, False, False, "ld_preload", "env_var", True),
        (Role.MEMBER, True, False, "PATH", "env_var", False),
        (Role.MEMBER, False, True, "NODE_OPTIONS", "env_var", False),  # not even the owner
        (Role.MEMBER, False, True, "DYLD_INSERT_LIBRARIES", "env_var", False),
        (Role.MEMBER, False, True, "PATH", "file", True),  # a file key is not one
        (Role.MEMBER, True, False, "PATH_PREFIX", "env_var", True),
        (Role.VIEWER, True, False, "PATH", "env_var", False),
        (None, True, False, "PATH", "env_var", False),
    ],
)
def test_execution_control_keys_admins_only(
    role: Role | None, default: bool, owner: bool, key: str, key_type: str, expected: bool
) -> None:
    assert (
        p.can_edit_configuration(
            role, scope_is_default=default, env_owner=owner, key=key, key_type=key_type
        )
        is expected
    )
