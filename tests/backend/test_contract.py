"""The Backend contract: the same scenarios for every transport (see conftest.TRANSPORTS).

Runs on real PostgreSQL over a fresh copy of the demo workspace; users are the seed's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import Conflict, InvalidInput, PermissionDenied
from devsync_tui.backend.live import ChangeEvent, LinkChanged, Resync
from devsync_tui.core.models import ConfigType, Configuration, EffectiveConfigRow, Role
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db


def _secret_in_db(db_url: str, project: Any, env: Any, key: str) -> str:
    """The stored secret value, read out of band as the superuser (to compare with reveal)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select s.value from public.configuration_secrets s "
            "join public.configurations c on c.id = s.configuration_id "
            "where c.project_id = %s and c.environment_id is not distinct from %s and c.key = %s",
            (project, env, key),
        ).fetchone()
    assert row is not None
    return str(row[0])


async def _by_key(rows: list[EffectiveConfigRow]) -> dict[str, EffectiveConfigRow]:
    return {r.key: r for r in rows}


async def test_identity_and_lists(transport: Transport) -> None:
    alice = await transport.open("alice")
    me = await alice.whoami()
    assert (me.user_id, me.username) == (demo.ALICE.id, "alice")
    assert await alice.my_roles() == {demo.TEAM_ACME: Role.ADMIN}
    teams = await alice.list_teams()
    assert [(t.id, t.slug) for t in teams] == [(demo.TEAM_ACME, demo.TEAM_ACME_SLUG)]
    projects = await alice.list_projects(demo.TEAM_ACME)
    assert {p.id: p.name for p in projects} == demo.PROJECT_NAMES
    envs = await alice.list_environments(demo.PROJECT_STOREFRONT)
    expected = {
        e.name: e.owner.id for e in demo.ENVIRONMENTS if e.project_id == demo.PROJECT_STOREFRONT
    }
    assert {e.name: e.user_id for e in envs} == expected
    members = await alice.list_members(demo.TEAM_ACME)
    assert {m.username: m.role for m in members} == {
        u.username: Role(u.role) for u in demo.USERS if u.role is not None
    }
    assert await alice.ping() >= 0

    bob = await transport.open("bob")
    assert await bob.my_roles() == {demo.TEAM_ACME: Role.MEMBER}
    mallory = await transport.open("mallory")
    assert await mallory.list_teams() == []
    assert await mallory.list_projects() == []
    assert await mallory.list_configurations(demo.PROJECT_STOREFRONT) == []


# Local identities only (the Supabase transport signs in with Auth and has no user list), so
# this runs on the local transport alone instead of being skipped for the other one.
@pytest.mark.parametrize("transport", ["local"], indirect=True)
async def test_unknown_user_lists_known_names(transport: Transport) -> None:
    with pytest.raises(InvalidInput) as info:  # a name that is not a user: bad input (exit 2)
        await transport.open("zelda")
    assert "alice" in str(info.value)
    assert "bob" in str(info.value)


async def test_effective_configuration(transport: Transport) -> None:
    bob = await transport.open("bob")
    rows = await _by_key(await bob.effective_configuration(demo.ENV_BOB_LAPTOP))
    assert set(rows) == set(demo.STOREFRONT_DEFAULT_KEYS) | set(demo.BOB_LAPTOP_KEYS)
    for key, row in rows.items():
        overridden = key in demo.BOB_LAPTOP_KEYS
        assert row.source == ("override" if overridden else "default")
        assert row.environment_id == (demo.ENV_BOB_LAPTOP if overridden else None)
        secret = demo.BOB_LAPTOP_KEYS.get(key, demo.STOREFRONT_DEFAULT_KEYS.get(key))
        assert row.is_secret is secret
        if secret:
            assert row.value is None  # secrets never travel in reads
    defaults = await _by_key(await bob.project_configuration(demo.PROJECT_STOREFRONT))
    assert rows["API_BASE_URL"].overrides_id == defaults["API_BASE_URL"].configuration_id
    assert defaults["LOG_LEVEL"].version == demo.STOREFRONT_LOG_LEVEL_VERSION
    assert defaults["LOG_LEVEL"].updated_by is not None
    assert defaults["config/app.json"].type is ConfigType.FILE


async def test_save_create_update_delete(transport: Transport) -> None:
    bob = await transport.open("bob")
    created = await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        "NEW_FLAG",
        "on",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    assert (created.key, created.value, created.version) == ("NEW_FLAG", "on", 1)
    updated = await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        "NEW_FLAG",
        "off",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=1,
    )
    assert (updated.id, updated.value, updated.version) == (created.id, "off", 2)
    listed = await bob.list_configurations(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    assert [c.version for c in listed if c.key == "NEW_FLAG"] == [2]
    secret = await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        "TOKEN",
        "s3cr3t-value",
        is_secret=True,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    assert secret.value is None
    assert secret.is_secret
    assert await bob.reveal_secret(secret.id) == "s3cr3t-value"
    await bob.delete_configuration(created.id, 2)
    listed = await bob.list_configurations(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
    assert "NEW_FLAG" not in {c.key for c in listed}


async def test_save_rejects_bad_input_and_foreign_scope(transport: Transport) -> None:
    bob = await transport.open("bob")
    with pytest.raises(InvalidInput) as info:
        await bob.save_configuration(
            demo.PROJECT_STOREFRONT,
            demo.ENV_BOB_LAPTOP,
            "1BAD KEY",
            "v",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    assert "1BAD KEY" not in str(info.value)
    with pytest.raises(InvalidInput, match="relative"):
        await bob.save_configuration(
            demo.PROJECT_STOREFRONT,
            None,
            "/etc/passwd",
            "v",
            is_secret=False,
            type=ConfigType.FILE,
            expected_version=None,
        )
    with pytest.raises(InvalidInput):  # the key exists: creating it again is refused
        await bob.save_configuration(
            demo.PROJECT_STOREFRONT,
            None,
            "LOG_LEVEL",
            "v",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    with pytest.raises(PermissionDenied):  # erin's environment
        await bob.save_configuration(
            demo.PROJECT_STOREFRONT,
            demo.ENV_STAGING,
            "X",
            "v",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    carol = await transport.open("carol")
    with pytest.raises(PermissionDenied):  # viewers never write
        await carol.save_configuration(
            demo.PROJECT_STOREFRONT,
            None,
            "X",
            "v",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )


async def test_conflict_carries_current_row(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    seen = demo.STOREFRONT_LOG_LEVEL_VERSION
    mine = await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        "LOG_LEVEL",
        "trace",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=seen,
    )
    assert mine.version == seen + 1
    with pytest.raises(Conflict) as info:
        await alice.save_configuration(
            demo.PROJECT_STOREFRONT,
            None,
            "LOG_LEVEL",
            "error",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=seen,
        )
    assert info.value.current_version == seen + 1
    current = info.value.current
    assert isinstance(current, Configuration)
    assert (current.id, current.value, current.version) == (mine.id, "trace", seen + 1)
    # Nothing was written by the refused save.
    rows = await alice.list_configurations(demo.PROJECT_STOREFRONT)
    assert [(c.value, c.version) for c in rows if c.key == "LOG_LEVEL"] == [("trace", seen + 1)]
    with pytest.raises(Conflict) as refused:
        await alice.delete_configuration(mine.id, seen)
    assert refused.value.current == current  # a delete conflict carries the row as well


async def test_reveal_rules(transport: Transport) -> None:
    alice, bob, carol = [await transport.open(n) for n in ("alice", "bob", "carol")]
    defaults = await _by_key(await alice.project_configuration(demo.PROJECT_STOREFRONT))
    stripe = defaults["STRIPE_SECRET_KEY"].configuration_id
    expected = _secret_in_db(transport.db_url, demo.PROJECT_STOREFRONT, None, "STRIPE_SECRET_KEY")
    assert await alice.reveal_secret(stripe) == expected  # admin
    assert await bob.reveal_secret(stripe) == expected  # member owning an env of the project
    with pytest.raises(PermissionDenied) as info:
        await carol.reveal_secret(stripe)  # viewers never
    assert expected not in str(info.value)
    staging = await _by_key(await alice.effective_configuration(demo.ENV_STAGING))
    with pytest.raises(PermissionDenied):  # erin's environment, not bob's
        await bob.reveal_secret(staging["SENTRY_DSN"].configuration_id)
    dave = await transport.open("dave")
    with pytest.raises(PermissionDenied):  # member without an environment in storefront
        await dave.reveal_secret(stripe)


async def test_secrets_equal_rules(transport: Transport) -> None:
    """Compare's question on both transports: equality for whoever may reveal both sides,
    PermissionDenied (with no value) for anyone else."""
    alice, bob, carol = [await transport.open(n) for n in ("alice", "bob", "carol")]
    defaults = await _by_key(await alice.project_configuration(demo.PROJECT_STOREFRONT))
    stripe = defaults["STRIPE_SECRET_KEY"].configuration_id
    staging = await _by_key(await alice.effective_configuration(demo.ENV_STAGING))
    laptop = await _by_key(await bob.effective_configuration(demo.ENV_BOB_LAPTOP))
    assert await alice.secrets_equal(stripe, stripe) is True
    assert await alice.secrets_equal(stripe, staging["SENTRY_DSN"].configuration_id) is False
    assert await bob.secrets_equal(stripe, laptop["DATABASE_URL"].configuration_id) is False
    with pytest.raises(PermissionDenied):  # erin's environment, not bob's
        await bob.secrets_equal(stripe, staging["SENTRY_DSN"].configuration_id)
    with pytest.raises(PermissionDenied):  # viewers never
        await carol.secrets_equal(stripe, stripe)


async def test_history_and_restore(transport: Transport) -> None:
    bob = await transport.open("bob")
    history = await bob.configuration_history(demo.PROJECT_STOREFRONT, None, "LOG_LEVEL")
    assert [h.version for h in history] == list(range(demo.STOREFRONT_LOG_LEVEL_VERSION, 0, -1))
    assert all(h.changed_by_username for h in history)
    oldest = history[-1]
    restored = await bob.restore_configuration(oldest.id, demo.STOREFRONT_LOG_LEVEL_VERSION)
    assert restored.value == oldest.value
    assert restored.version == demo.STOREFRONT_LOG_LEVEL_VERSION + 1
    secret_history = await bob.configuration_history(
        demo.PROJECT_STOREFRONT, None, "STRIPE_SECRET_KEY"
    )
    assert all(h.value is None for h in secret_history)
    first_key = await bob.reveal_history_secret(secret_history[-1].id)
    assert first_key
    assert first_key != await bob.reveal_secret(secret_history[0].configuration_id)
    carol = await transport.open("carol")
    with pytest.raises(PermissionDenied):
        await carol.reveal_history_secret(secret_history[-1].id)


async def _live(backend: Backend) -> AsyncIterator[Any]:
    stream = backend.changes()
    await next_event(stream, lambda e: e == LinkChanged("live"))
    return stream


def _is_config(op: str, key: str) -> Any:
    def match(event: Any) -> bool:
        return (
            isinstance(event, ChangeEvent)
            and event.table == "configurations"
            and event.op == op
            and (op == "DELETE" or event.row.key == key)
        )

    return match


async def test_change_feed_insert_update_delete(transport: Transport) -> None:
    alice, bob, mallory = [await transport.open(n) for n in ("alice", "bob", "mallory")]
    alice_feed = await _live(alice)
    mallory_feed = await _live(mallory)
    created = await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        "LIVE_KEY",
        "1",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    event = await next_event(alice_feed, _is_config("INSERT", "LIVE_KEY"))
    assert event.row == created
    assert (event.id, event.project_id, event.environment_id, event.team_id) == (
        str(created.id),
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        demo.TEAM_ACME,
    )
    updated = await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        "LIVE_KEY",
        "2",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=1,
    )
    event = await next_event(alice_feed, _is_config("UPDATE", "LIVE_KEY"))
    assert event.row.version == updated.version == 2
    await bob.delete_configuration(created.id, 2)
    event = await next_event(alice_feed, _is_config("DELETE", "LIVE_KEY"))
    assert (event.id, event.row) == (str(created.id), None)
    # The outsider saw none of it: a marker change in mallory's own new team arrives first.
    team = await mallory.create_team("Mallory Inc", "mallory-inc")
    first = await next_event(mallory_feed, lambda e: isinstance(e, ChangeEvent))
    assert first.team_id == team.id
    await asyncio.gather(alice_feed.aclose(), mallory_feed.aclose())  # type: ignore[attr-defined]


async def test_change_feed_secret_never_in_events(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    feed = await _live(alice)
    await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        demo.ENV_BOB_LAPTOP,
        "LIVE_SECRET",
        "hush-hush-value",
        is_secret=True,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    event = await next_event(feed, _is_config("INSERT", "LIVE_SECRET"))
    assert event.row.is_secret
    assert event.row.value is None
    assert "hush-hush-value" not in repr(event)
    await feed.aclose()  # type: ignore[attr-defined]


async def test_change_feed_membership_takes_effect(transport: Transport) -> None:
    alice, dave = await transport.open("alice"), await transport.open("dave")
    feed = await _live(dave)
    await alice.remove_member(demo.TEAM_ACME, demo.DAVE.id)
    removed = await next_event(
        feed, lambda e: isinstance(e, ChangeEvent) and e.table == "team_members"
    )
    assert (removed.op, removed.id) == ("DELETE", f"{demo.TEAM_ACME}:{demo.DAVE.id}")
    # From now on dave's feed carries nothing of Acme: the next event is his own new team.
    await alice.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        "AFTER_REMOVAL",
        "x",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    own = await dave.create_team("Dave Co", "dave-co")
    event = await next_event(feed, lambda e: isinstance(e, ChangeEvent))
    assert event.team_id == own.id
    assert await dave.list_projects(demo.TEAM_ACME) == []
    await feed.aclose()  # type: ignore[attr-defined]


async def test_change_feed_resync_after_gap(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    feed = await _live(alice)
    await transport.force_gap()
    await next_event(feed, lambda e: e == LinkChanged("reconnecting", e.detail))
    await next_event(feed, lambda e: e == LinkChanged("live"))
    resync = await next_event(feed, lambda e: True)
    assert isinstance(resync, Resync)
    # Live again: changes flow after the gap.
    await bob.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        "AFTER_GAP",
        "1",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )
    await next_event(feed, _is_config("INSERT", "AFTER_GAP"))
    await feed.aclose()  # type: ignore[attr-defined]
