"""core.permissions agrees with the database, cell by cell, for every demo user.

The database is the authority; the mirror only hides actions. Each case asks the mirror, then
tries the action for real (local transport, RLS and RPCs deciding) and compares.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from devsync_tui.backend.errors import NotFound, PermissionDenied
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import permissions
from devsync_tui.core.models import ConfigType, EnvStatus, Role
from tests.support import demo

pytestmark = pytest.mark.db

USERS = [u.username for u in demo.USERS]


async def _as(url: str, username: str) -> PostgresBackend:
    backend = PostgresBackend(url, username, embedded=False)
    await backend.connect()
    return backend


def _role(username: str) -> Role | None:
    role = demo.USERS_BY_NAME[username].role
    return Role(role) if role else None


def _owns(username: str, env_id: UUID | None) -> bool:
    return any(e.id == env_id and e.owner.username == username for e in demo.ENVIRONMENTS)


def _owns_env_in(username: str, project_id: UUID) -> bool:
    return any(
        e.project_id == project_id and e.owner.username == username for e in demo.ENVIRONMENTS
    )


SECRET_SCOPES = [
    (demo.PROJECT_STOREFRONT, None, "STRIPE_SECRET_KEY"),
    (demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "DATABASE_URL"),
    (demo.PROJECT_STOREFRONT, demo.ENV_STAGING, "SENTRY_DSN"),
    (demo.PROJECT_BILLING, None, "WEBHOOK_SIGNING_SECRET"),
]


@pytest.mark.parametrize("username", USERS)
async def test_reveal_matrix(fresh_db_url: str, username: str) -> None:
    # fresh_db_url, not demo_db_url: every reveal writes an audit row.
    admin = await _as(fresh_db_url, "alice")
    user = await _as(fresh_db_url, username)
    try:
        for project_id, env_id, key in SECRET_SCOPES:
            rows = await admin.list_configurations(project_id, env_id)
            config = next(c for c in rows if c.key == key)
            predicted = permissions.can_reveal(
                _role(username),
                env_owner=_owns(username, env_id),
                scope_is_default=env_id is None,
                owns_env_in_project=_owns_env_in(username, project_id),
            )
            try:
                await user.reveal_secret(config.id)
                allowed = True
            except PermissionDenied:
                allowed = False
            assert allowed is predicted, (username, key, env_id)
    finally:
        await user.close()
        await admin.close()


WRITE_SCOPES = [
    (demo.PROJECT_STOREFRONT, None),
    (demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP),
    (demo.PROJECT_STOREFRONT, demo.ENV_STAGING),
    (demo.PROJECT_STOREFRONT, demo.ENV_CI_RUNNER),
]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("key", ["MIRROR", "NODE_OPTIONS", "path", "DYLD_INSERT_LIBRARIES"])
async def test_configuration_write_matrix(fresh_db_url: str, username: str, key: str) -> None:
    user = await _as(fresh_db_url, username)
    try:
        for project_id, env_id in WRITE_SCOPES:
            predicted = permissions.can_edit_configuration(
                _role(username),
                scope_is_default=env_id is None,
                env_owner=_owns(username, env_id),
                key=key,
            )
            try:
                await user.save_configuration(
                    project_id,
                    env_id,
                    key if key != "MIRROR" else f"MIRROR_{username.upper()}",
                    "1",
                    is_secret=False,
                    type=ConfigType.ENV_VAR,
                    expected_version=None,
                )
                allowed = True
            except PermissionDenied:
                allowed = False
            assert allowed is predicted, (username, env_id)
    finally:
        await user.close()


@pytest.mark.parametrize("username", USERS)
async def test_environment_edit_matrix(fresh_db_url: str, username: str) -> None:
    user = await _as(fresh_db_url, username)
    try:
        for env in demo.ENVIRONMENTS:
            predicted = permissions.can_edit_environment(
                _role(username), env_owner=env.owner.username == username
            )
            try:
                await user.set_environment_status(env.id, EnvStatus.SYNCING)
                allowed = True
            except PermissionDenied:
                allowed = False
            except NotFound:  # only an outsider cannot even see it
                allowed = False
                assert _role(username) is None
            assert allowed is predicted, (username, env.name)
    finally:
        await user.close()


@pytest.mark.parametrize("username", USERS)
async def test_audit_and_project_matrix(fresh_db_url: str, username: str) -> None:
    user = await _as(fresh_db_url, username)
    try:
        role = _role(username)
        try:
            await user.audit_log(demo.TEAM_ACME, limit=1)
            can_audit = True
        except PermissionDenied:
            can_audit = False
        assert can_audit is permissions.can_read_audit_log(role)
        try:
            await user.create_project(demo.TEAM_ACME, f"mirror-{username}")
            can_create = True
        except PermissionDenied:
            can_create = False
        assert can_create is permissions.can_create_project(role)
    finally:
        await user.close()
