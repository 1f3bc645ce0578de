"""Handing an environment to someone (``Backend.set_environment_owner``) on every transport:
admins give it to a member or admin of the team; the new owner then writes its overrides and
the old one no longer does; everyone else's dashboard hears of it through the change feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from devsync_tui.backend.base import Backend, ChangeEvent, LinkChanged
from devsync_tui.backend.errors import InvalidInput, NotFound, PermissionDenied
from devsync_tui.backend.readonly import read_only
from devsync_tui.core.models import ConfigType
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db

S, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


async def _live(backend: Backend) -> AsyncIterator[Any]:
    stream = backend.changes()
    await next_event(stream, lambda e: e == LinkChanged("live"))
    return stream


async def _save(backend: Backend, key: str) -> None:
    await backend.save_configuration(
        S, BOB_ENV, key, "1", is_secret=False, type=ConfigType.ENV_VAR, expected_version=None
    )


async def test_an_admin_hands_bob_laptop_to_dave(transport: Transport) -> None:
    alice, bob, dave = [await transport.open(n) for n in ("alice", "bob", "dave")]
    feed = await _live(bob)
    env = await alice.set_environment_owner(BOB_ENV, demo.DAVE.id)
    assert (env.id, env.name, env.user_id) == (BOB_ENV, "bob-laptop", demo.DAVE.id)
    listed = {e.id: e.user_id for e in await bob.list_environments(S)}
    assert listed[BOB_ENV] == demo.DAVE.id
    event = await next_event(
        feed, lambda e: isinstance(e, ChangeEvent) and e.table == "environments"
    )
    assert (event.op, event.id, event.row.user_id) == ("UPDATE", str(BOB_ENV), demo.DAVE.id)
    await _save(dave, "DAVE_KEY")  # the new owner writes its overrides
    with pytest.raises(PermissionDenied):
        await _save(bob, "BOB_KEY")  # the old one (a member) no longer does
    entries = await alice.audit_log(demo.TEAM_ACME, limit=20)
    owner = next(a for a in entries if a.action == "environment.owner")
    assert owner.details["from"] == str(demo.BOB.id)
    assert owner.details["to"] == str(demo.DAVE.id)


async def test_who_may_not_and_to_whom_it_may_not_go(transport: Transport) -> None:
    alice, bob, dave = [await transport.open(n) for n in ("alice", "bob", "dave")]
    with pytest.raises(PermissionDenied, match=r"(?i)only an admin of the team"):
        await dave.set_environment_owner(BOB_ENV, demo.DAVE.id)
    with pytest.raises(PermissionDenied):
        await bob.set_environment_owner(BOB_ENV, demo.DAVE.id)  # its owner, not an admin
    with pytest.raises(InvalidInput, match="viewers do not write"):
        await alice.set_environment_owner(BOB_ENV, demo.CAROL.id)
    with pytest.raises(InvalidInput, match="member or an admin of its team"):
        await alice.set_environment_owner(BOB_ENV, demo.MALLORY.id)
    with pytest.raises(NotFound):
        await alice.set_environment_owner(uuid4(), demo.DAVE.id)
    with pytest.raises(PermissionDenied, match="read-only"):
        await read_only(alice).set_environment_owner(BOB_ENV, demo.DAVE.id)
    envs = {e.id: e.user_id for e in await alice.list_environments(S)}
    assert envs[BOB_ENV] == demo.BOB.id
