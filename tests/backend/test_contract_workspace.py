"""Backend contract, workspace side: teams, members, projects, templates, environments, audit.

Same transports as test_contract.py (conftest.TRANSPORTS), real PostgreSQL, demo users.
"""

from __future__ import annotations

import pytest

from devsync_tui.backend.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from devsync_tui.backend.live import ChangeEvent, LinkChanged
from devsync_tui.core.models import ConfigType, EnvStatus, Role
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db


async def test_team_lifecycle_and_members(transport: Transport) -> None:
    bob = await transport.open("bob")
    team = await bob.create_team("Bob's Band", "bobs-band")
    assert (team.owner_id, team.slug) == (demo.BOB.id, "bobs-band")
    assert (await bob.my_roles())[team.id] is Role.ADMIN
    with pytest.raises(InvalidInput):
        await bob.create_team("Again", "bobs-band")  # slug taken
    renamed = await bob.rename_team(team.id, "The Band")
    assert renamed.name == "The Band"

    added = await bob.add_member(team.id, "carol", Role.VIEWER)
    assert (added.username, added.role) == ("carol", Role.VIEWER)
    with pytest.raises(NotFound):
        await bob.add_member(team.id, "nobody-here", Role.MEMBER)
    carol = await transport.open("carol")
    assert [t.id for t in await carol.list_teams() if t.id == team.id] == [team.id]
    with pytest.raises(PermissionDenied):
        await carol.rename_team(team.id, "Carol's now")
    promoted = await bob.set_member_role(team.id, demo.CAROL.id, Role.MEMBER)
    assert promoted.role is Role.MEMBER
    with pytest.raises(PermissionDenied):  # the owner stays admin (42501, on every transport)
        await bob.set_member_role(team.id, demo.BOB.id, Role.VIEWER)
    await carol.remove_member(team.id, demo.CAROL.id)  # leave
    assert team.id not in {t.id for t in await carol.list_teams()}
    members = await bob.list_members(team.id)
    assert [(m.username, m.role) for m in members] == [("bob", Role.ADMIN)]

    mallory = await transport.open("mallory")
    with pytest.raises(NotFound):  # a team she may not see, on every transport
        await mallory.delete_team(team.id)
    await bob.delete_team(team.id)
    assert team.id not in {t.id for t in await bob.list_teams()}


async def test_projects(transport: Transport) -> None:
    bob, carol = await transport.open("bob"), await transport.open("carol")
    project = await bob.create_project(demo.TEAM_ACME, "mobile-app", "The app", "https://x/y.git")
    assert (project.team_id, project.description) == (demo.TEAM_ACME, "The app")
    updated = await bob.update_project(project.id, description="The mobile app")
    assert (updated.name, updated.description) == ("mobile-app", "The mobile app")
    with pytest.raises(InvalidInput):
        await bob.create_project(demo.TEAM_ACME, "mobile-app")  # name taken in the team
    with pytest.raises(PermissionDenied):
        await carol.create_project(demo.TEAM_ACME, "viewer-made")
    with pytest.raises(PermissionDenied):
        await carol.update_project(project.id, name="renamed by a viewer")
    with pytest.raises(PermissionDenied):
        await bob.delete_project(project.id)  # members may not delete projects
    alice = await transport.open("alice")
    await alice.delete_project(project.id)
    with pytest.raises(NotFound):
        await alice.update_project(project.id, name="gone")
    names = {p.name for p in await bob.list_projects(demo.TEAM_ACME)}
    assert names == set(demo.PROJECT_NAMES.values())


async def test_templates_and_environment_from_template(transport: Transport) -> None:
    bob = await transport.open("bob")
    templates = {t.id: t for t in await bob.list_templates(demo.PROJECT_STOREFRONT)}
    assert {demo.TEMPLATE_NODE_STARTER, demo.TEMPLATE_STOREFRONT_CI} <= set(templates)
    template = await bob.create_template(
        demo.PROJECT_STOREFRONT,
        "Bob's template",
        {"GREETING": "hello", "TOKEN": {"is_secret": True}},
        [
            {
                "package_manager": "npm",
                "package_name": "left-pad",
                "version_constraint": "^1.3.0",
                "resolved_version": "1.3.0",
            }
        ],
    )
    assert (template.created_by, template.config_json["GREETING"]) == (demo.BOB.id, "hello")
    with pytest.raises(InvalidInput, match="secret"):  # templates never hold secret values
        await bob.create_template(
            demo.PROJECT_STOREFRONT, "leaky", {"TOKEN": {"value": "x", "is_secret": True}}, []
        )
    env = await bob.create_environment(demo.PROJECT_STOREFRONT, "bob-desktop", template.id)
    assert (env.user_id, env.template_id, env.status) == (
        demo.BOB.id,
        template.id,
        EnvStatus.OFFLINE,
    )
    effective = {r.key: r for r in await bob.effective_configuration(env.id)}
    assert effective["GREETING"].value == "hello"
    assert effective["GREETING"].source == "override"
    assert effective["TOKEN"].is_secret
    assert effective["TOKEN"].value is None
    deps = await bob.list_dependencies(demo.PROJECT_STOREFRONT, environment_ids=[env.id])
    assert [(d.package_name, d.resolved_version) for d in deps] == [("left-pad", "1.3.0")]

    renamed = await bob.rename_environment(env.id, "bob-workstation")
    assert renamed.name == "bob-workstation"
    synced = await bob.set_environment_status(env.id, EnvStatus.ACTIVE)
    assert synced.status is EnvStatus.ACTIVE
    carol = await transport.open("carol")
    with pytest.raises(PermissionDenied):
        await carol.create_environment(demo.PROJECT_STOREFRONT, "carol-box")
    with pytest.raises(PermissionDenied):
        await bob.rename_environment(demo.ENV_STAGING, "mine now")  # erin's
    with pytest.raises(PermissionDenied):
        await carol.delete_template(template.id)
    await bob.delete_environment(env.id)
    await bob.delete_template(template.id)
    names = {e.name for e in await bob.list_environments(demo.PROJECT_STOREFRONT)}
    assert "bob-workstation" not in names
    with pytest.raises(NotFound):
        await bob.delete_environment(env.id)


async def test_audit_log_for_admins_only(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    defaults = {r.key: r for r in await bob.project_configuration(demo.PROJECT_STOREFRONT)}
    await bob.reveal_secret(defaults["DATABASE_URL"].configuration_id)
    await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        "AUDITED",
        "1",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    entries = await alice.audit_log(demo.TEAM_ACME, limit=10)
    assert [e.action for e in entries[:2]] == ["config.create", "secret.reveal"]
    assert entries[0].actor_username == "bob"
    assert all(e.team_id == demo.TEAM_ACME for e in entries)
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
    older = await alice.audit_log(demo.TEAM_ACME, limit=5, before_id=entries[0].id)
    assert older[0].id == entries[1].id
    with pytest.raises(PermissionDenied):
        await bob.audit_log(demo.TEAM_ACME)


async def test_team_deletion_reaches_its_members(transport: Transport) -> None:
    bob, carol = await transport.open("bob"), await transport.open("carol")
    team = await bob.create_team("Short-lived", "short-lived")
    await bob.add_member(team.id, "carol", Role.MEMBER)
    feed = carol.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))
    await bob.delete_team(team.id)
    gone = await next_event(feed, lambda e: isinstance(e, ChangeEvent) and e.table == "teams")
    assert (gone.op, gone.id, gone.row) == ("DELETE", str(team.id), None)
    assert team.id not in await carol.my_roles()
    await feed.aclose()  # type: ignore[attr-defined]


async def test_project_keys_are_every_scope_i_may_see(transport: Transport) -> None:
    """The palette's one read: every key of the project with its scope, no values; a member
    sees other members' overrides' names as they see the rows (RLS), an outsider nothing."""
    alice = await transport.open("alice")
    keys = await alice.project_keys(demo.PROJECT_STOREFRONT)
    assert (None, "LOG_LEVEL") in keys
    assert (demo.ENV_BOB_LAPTOP, "BOB_DEBUG_PORT") in keys
    defaults = [k for k in keys if k[0] is None]
    assert keys[: len(defaults)] == sorted(defaults, key=lambda k: k[1])  # defaults first
    mallory = await transport.open("mallory")
    assert await mallory.project_keys(demo.PROJECT_STOREFRONT) == []
