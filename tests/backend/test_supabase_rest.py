"""Reads and writes of the Supabase transport at the PostgREST boundary: exact paths, filters,
headers and bodies, against PostgREST semantics on the real schema (RLS and RPCs decide)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devsync_tui.backend.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.core.models import ConfigType, Role
from tests.backend.fake_supabase import FakeSupabase
from tests.backend.fake_supabase.fixtures import backend_as
from tests.support.demo import (
    ALICE,
    BOB,
    CAROL,
    ENV_BOB_LAPTOP,
    ENV_CI_RUNNER,
    ENV_STAGING,
    MALLORY,
    PROJECT_STOREFRONT,
    STOREFRONT_DEFAULT_KEYS,
    STOREFRONT_LOG_LEVEL_VERSION,
    TEAM_ACME,
)

pytestmark = pytest.mark.db


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def alice(fake: FakeSupabase, tmp_path: Path) -> AsyncIterator[SupabaseBackend]:
    async with backend_as(fake, tmp_path, ALICE.email, timing=None) as backend:
        yield backend


async def test_list_projects_request_shape(fake: FakeSupabase, alice: SupabaseBackend) -> None:
    fake.requests.clear()
    projects = await alice.list_projects(TEAM_ACME)
    assert [p.name for p in projects] == ["billing-api", "storefront"]
    [request] = fake.rest_requests()
    assert (request.method, request.path) == ("GET", "/rest/v1/projects")
    # The list's order is the contract's (names, then id); the request orders by the primary
    # key only, so that pages of a long list never overlap.
    assert request.query == [
        ("select", "*"),
        ("team_id", f"eq.{TEAM_ACME}"),
        ("order", "id.asc"),
        ("offset", "0"),
        ("limit", "1000"),
    ]
    assert request.headers["apikey"] == fake.anon_key
    assert request.headers["authorization"].startswith("Bearer ey")


async def test_configuration_reads(alice: SupabaseBackend, fake: FakeSupabase) -> None:
    defaults = await alice.list_configurations(PROJECT_STOREFRONT)
    assert {c.key: c.is_secret for c in defaults} == STOREFRONT_DEFAULT_KEYS
    assert all(c.value is None for c in defaults if c.is_secret)
    rows = await alice.project_configuration(PROJECT_STOREFRONT)
    log_level = next(r for r in rows if r.key == "LOG_LEVEL")
    assert log_level.version == STOREFRONT_LOG_LEVEL_VERSION
    assert log_level.updated_by is not None
    defaults_request = next(r for r in fake.rest_requests() if r.path == "/rest/v1/configurations")
    assert ("environment_id", "is.null") in defaults_request.query
    effective = await alice.effective_configuration(ENV_BOB_LAPTOP)
    assert {e.source for e in effective} == {"default", "override"}
    rpc = [r for r in fake.rest_requests("POST") if r.path.endswith("effective_configuration")]
    assert rpc[-1].json() == {"p_environment_id": str(ENV_BOB_LAPTOP)}
    history = await alice.configuration_history(PROJECT_STOREFRONT, None, "LOG_LEVEL")
    assert [h.version for h in history] == list(range(STOREFRONT_LOG_LEVEL_VERSION, 0, -1))
    assert all(h.changed_by_username for h in history)
    members = await alice.list_members(TEAM_ACME)
    assert {m.username: m.role for m in members}["carol"] == Role.VIEWER
    roles = await alice.my_roles()
    assert roles == {TEAM_ACME: Role.ADMIN}


async def test_save_conflict_and_validation(alice: SupabaseBackend, fake: FakeSupabase) -> None:
    created = await alice.save_configuration(
        PROJECT_STOREFRONT,
        None,
        "NEW_KEY",
        "one",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    assert (created.key, created.value, created.version) == ("NEW_KEY", "one", 1)
    request = [r for r in fake.rest_requests("POST") if r.path == "/rest/v1/rpc/save_configuration"]
    assert request[-1].json() == {
        "p_project_id": str(PROJECT_STOREFRONT),
        "p_environment_id": None,
        "p_key": "NEW_KEY",
        "p_value": "one",
        "p_is_secret": False,
        "p_type": "env_var",
        "p_expected_version": None,
    }
    updated = await alice.save_configuration(
        PROJECT_STOREFRONT,
        None,
        "NEW_KEY",
        "two",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=1,
    )
    assert updated.version == 2
    with pytest.raises(Conflict) as info:
        await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            "NEW_KEY",
            "stale",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=1,
        )
    assert info.value.current_version == 2
    assert info.value.current is not None
    assert info.value.current.value == "two"
    with pytest.raises(InvalidInput):
        await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            "NEW_KEY",
            "dup",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    with pytest.raises(InvalidInput):
        await alice.save_configuration(
            PROJECT_STOREFRONT,
            None,
            "bad key!",
            "x",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    await alice.delete_configuration(updated.id, 2)
    assert "NEW_KEY" not in {c.key for c in await alice.list_configurations(PROJECT_STOREFRONT)}
    with pytest.raises((NotFound, Conflict)):
        await alice.delete_configuration(updated.id, 2)


async def test_secrets_reveal_allowed_and_denied(
    alice: SupabaseBackend, fake: FakeSupabase, tmp_path: Path
) -> None:
    secret = await alice.save_configuration(
        PROJECT_STOREFRONT,
        None,
        "TOKEN_X",
        "tok-value-123",
        is_secret=True,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    assert secret.value is None
    assert await alice.reveal_secret(secret.id) == "tok-value-123"
    async with backend_as(fake, tmp_path, CAROL.email, timing=None) as carol:
        with pytest.raises(PermissionDenied):
            await carol.reveal_secret(secret.id)
        # carol (viewer) reads the key but never the value
        keys = {c.key: c.value for c in await carol.list_configurations(PROJECT_STOREFRONT)}
        assert "TOKEN_X" in keys
        assert keys["TOKEN_X"] is None
        with pytest.raises(PermissionDenied):
            await carol.save_configuration(
                PROJECT_STOREFRONT,
                None,
                "TOKEN_X",
                "x",
                is_secret=True,
                type=ConfigType.ENV_VAR,
                expected_version=1,
            )
    async with backend_as(fake, tmp_path, MALLORY.email, timing=None) as mallory:
        assert await mallory.list_projects() == []
        with pytest.raises(PermissionDenied):
            await mallory.reveal_secret(secret.id)
    for request in fake.requests:
        assert b"tok-value-123" not in request.body or request.path.endswith("save_configuration")


async def test_direct_table_writes_and_rls(
    alice: SupabaseBackend, fake: FakeSupabase, tmp_path: Path
) -> None:
    project = await alice.create_project(TEAM_ACME, "mobile", "The app")
    post = [r for r in fake.rest_requests("POST") if r.path == "/rest/v1/projects"][-1]
    assert post.json() == {
        "team_id": str(TEAM_ACME),
        "name": "mobile",
        "description": "The app",
        "repository_url": None,
    }
    assert "return=representation" in post.headers["prefer"]
    renamed = await alice.update_project(project.id, name="mobile-app")
    assert renamed.name == "mobile-app"
    patch = [r for r in fake.rest_requests("PATCH") if r.path == "/rest/v1/projects"][-1]
    assert patch.query == [("id", f"eq.{project.id}")]
    assert patch.json() == {"name": "mobile-app"}
    async with backend_as(fake, tmp_path, CAROL.email, timing=None) as carol:
        with pytest.raises(PermissionDenied):
            await carol.rename_team(TEAM_ACME, "Carol's now")
        with pytest.raises(PermissionDenied):
            await carol.delete_project(project.id)
    async with backend_as(fake, tmp_path, MALLORY.email, timing=None) as mallory:
        with pytest.raises(NotFound):
            await mallory.delete_project(project.id)
    await alice.delete_project(project.id)
    assert "mobile-app" not in {p.name for p in await alice.list_projects()}


async def test_members_and_environments(
    alice: SupabaseBackend, fake: FakeSupabase, tmp_path: Path
) -> None:
    added = await alice.add_member(TEAM_ACME, "mallory", Role.VIEWER)
    assert (added.username, added.role) == ("mallory", Role.VIEWER)
    changed = await alice.set_member_role(TEAM_ACME, added.user_id, Role.MEMBER)
    assert changed.role == Role.MEMBER
    with pytest.raises(NotFound):
        await alice.add_member(TEAM_ACME, "nobody-by-that-name", Role.VIEWER)
    await alice.remove_member(TEAM_ACME, added.user_id)
    async with backend_as(fake, tmp_path, BOB.email, timing=None) as bob:
        env = await bob.create_environment(PROJECT_STOREFRONT, "bob-desktop")
        assert env.user_id == BOB.id
        await bob.set_environment_status(env.id, env.status.__class__("active"))
        names = [e.name for e in await bob.list_environments(PROJECT_STOREFRONT)]
        assert "bob-desktop" in names
        with pytest.raises(PermissionDenied):
            await bob.delete_environment(ENV_STAGING)
    entries = await alice.audit_log(TEAM_ACME, limit=20)
    assert entries
    assert entries[0].id > entries[-1].id
    assert {"member.add", "member.role", "member.remove"} <= {e.action for e in entries}
    assert all(e.actor_username for e in entries if e.actor_id)
    older = await alice.audit_log(TEAM_ACME, limit=5, before_id=entries[0].id)
    assert all(e.id < entries[0].id for e in older)


async def test_dependencies_and_health_paging(alice: SupabaseBackend, fake: FakeSupabase) -> None:
    deps = await alice.list_dependencies(PROJECT_STOREFRONT, environment_ids=[None, ENV_BOB_LAPTOP])
    assert deps
    assert {d.environment_id for d in deps} <= {None, ENV_BOB_LAPTOP}
    request = [r for r in fake.rest_requests() if r.path == "/rest/v1/dependencies"][-1]
    assert ("or", f"(environment_id.is.null,environment_id.in.({ENV_BOB_LAPTOP}))") in request.query
    name = deps[0].package_name
    filtered = await alice.list_dependencies(PROJECT_STOREFRONT, name_filter=name[:3])
    assert all(name[:3].lower() in d.package_name.lower() for d in filtered)
    page = await alice.list_dependencies(PROJECT_STOREFRONT, limit=2, offset=1)
    everything = await alice.list_dependencies(PROJECT_STOREFRONT)
    assert page == everything[1:3]
    fake.requests.clear()
    since = datetime.now(UTC) - timedelta(days=2)
    series = await alice.health_series([ENV_CI_RUNNER], since)
    reads = [r for r in fake.rest_requests() if r.path == "/rest/v1/health_checks"]
    assert len(series) > 1000
    assert len(reads) == 2  # Supabase caps a response at 1000 rows: the transport pages
    assert reads[1].param("offset") == "1000"
    assert ("environment_id", f"in.({ENV_CI_RUNNER})") in reads[0].query


async def test_unavailable_when_the_project_is_down(
    alice: SupabaseBackend, fake: FakeSupabase
) -> None:
    fake.postgrest.down = True
    with pytest.raises(Unavailable):
        await alice.list_teams()
    fake.postgrest.down = False
    assert len(await alice.list_teams()) == 1
    await fake.server.stop()
    with pytest.raises(Unavailable):
        await alice.list_teams()
