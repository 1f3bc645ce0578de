"""Presence ("bob is viewing"): who else looks at a project.

The first scenarios run on every transport (Realtime presence on Supabase, the presence table
and its RPCs on the local one); the rest are the local transport's database rules: members
only, a 30-second window, rows taken down on close.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.backend.live import PRESENCE_TABLE, ChangeEvent, LinkChanged
from devsync_tui.backend.postgres.backend import PostgresBackend
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BILL = demo.PROJECT_BILLING


async def _until(
    backend: Backend, project: UUID, want: tuple[str, ...], within: float = 10.0
) -> None:
    """Poll ``backend.presence`` until it reports exactly ``want`` (Realtime is eventual)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    got: tuple[str, ...] = ()
    while loop.time() < deadline:
        got = (await backend.presence(project)).usernames
        if tuple(sorted(got)) == want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"presence on {project} stayed {got}, expected {want}")


async def test_members_on_one_project_see_each_other(transport: Transport) -> None:
    alice = await transport.open("alice")
    bob = await transport.open("bob")
    await alice.set_presence(S)
    await bob.set_presence(S)
    await _until(alice, S, ("bob",))
    await _until(bob, S, ("alice",))
    info = await alice.presence(S)
    assert info.project_id == S


async def test_moving_on_and_closing_are_seen(transport: Transport) -> None:
    alice = await transport.open("alice")
    bob = await transport.open("bob")
    await alice.set_presence(S)
    await bob.set_presence(S)
    await _until(alice, S, ("bob",))
    await bob.set_presence(BILL)
    await _until(alice, S, ())
    await alice.set_presence(BILL)
    await _until(alice, BILL, ("bob",))
    transport.opened.remove(bob)
    await bob.close()
    await _until(alice, BILL, ())


# -- local transport: the database's rules ---------------------------------------------------


@pytest.fixture
async def local(fresh_db_url: str) -> AsyncIterator[Callable[[str], Awaitable[PostgresBackend]]]:
    """Open local backends as demo users on one fresh database; all closed after the test."""
    opened: list[PostgresBackend] = []

    async def open_as(username: str) -> PostgresBackend:
        backend = PostgresBackend(fresh_db_url, username, embedded=False)
        await backend.connect()
        opened.append(backend)
        return backend

    yield open_as
    for backend in opened:
        await backend.close()


def _rows(db_url: str) -> set[tuple[str, object]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select p.username, r.project_id from public.presence r"
            " join public.profiles p on p.id = r.user_id"
        ).fetchall()
    return {(str(r[0]), r[1]) for r in rows}


async def test_an_outsider_is_refused_and_a_viewer_is_not(
    local: Callable[[str], Awaitable[PostgresBackend]], fresh_db_url: str
) -> None:
    alice = await local("alice")
    await alice.set_presence(S)
    mallory = await local("mallory")  # in no team
    with pytest.raises(PermissionDenied, match="member"):
        await mallory.set_presence(S)
    with pytest.raises(PermissionDenied, match="member"):
        await mallory.presence(S)
    await mallory.set_presence(None)  # leaving nothing is always allowed
    carol = await local("carol")  # a viewer is a member of Acme
    await carol.set_presence(S)
    assert (await carol.presence(S)).usernames == ("alice",)
    assert _rows(fresh_db_url) == {("alice", S), ("carol", S)}


async def test_rows_older_than_15_seconds_are_not_reported(
    local: Callable[[str], Awaitable[PostgresBackend]], fresh_db_url: str
) -> None:
    alice = await local("alice")
    bob = await local("bob")
    erin = await local("erin")
    for backend in (alice, bob, erin):
        await backend.set_presence(S)
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "update public.presence set seen_at = now() - interval '16 seconds' where user_id = %s",
            (demo.BOB.id,),
        )
        conn.execute(
            "update public.presence set seen_at = now() - interval '10 seconds' where user_id = %s",
            (demo.ERIN.id,),
        )
    assert (await alice.presence(S)).usernames == ("erin",)
    # bob's next announcement is his heartbeat: he is back
    assert (await bob.set_presence(S)).usernames == ("alice", "erin")  # type: ignore[union-attr]
    assert (await alice.presence(S)).usernames == ("bob", "erin")


async def test_each_entry_says_where_the_person_is(
    local: Callable[[str], Awaitable[PostgresBackend]],
) -> None:
    alice = await local("alice")
    bob = await local("bob")
    await alice.set_presence(S, environment_id=demo.ENV_STAGING, tab="config")
    await bob.set_presence(S, environment_id=demo.ENV_BOB_LAPTOP, tab="config", editing_key="X")
    (entry,) = (await alice.presence(S)).entries
    assert (entry.username, entry.user_id) == ("bob", demo.BOB.id)
    assert (entry.environment_id, entry.tab, entry.editing_key) == (
        demo.ENV_BOB_LAPTOP,
        "config",
        "X",
    )


async def test_the_feed_pushes_arrival_and_departure(
    local: Callable[[str], Awaitable[PostgresBackend]],
) -> None:
    alice = await local("alice")
    bob = await local("bob")
    mallory = await local("mallory")
    feeds = {who: backend.changes() for who, backend in (("alice", alice), ("mallory", mallory))}
    for feed in feeds.values():  # live first
        await next_event(feed, lambda e: isinstance(e, LinkChanged) and e.state == "live")

    def pushed(e: object) -> bool:
        return isinstance(e, ChangeEvent) and e.table == PRESENCE_TABLE and e.project_id == S

    await bob.set_presence(S)
    arrival = await next_event(feeds["alice"], pushed, within=2.0)
    assert arrival.row is None
    assert arrival.team_id == demo.TEAM_ACME
    await bob.close()
    departure = await next_event(feeds["alice"], pushed, within=2.0)
    assert departure.op == "DELETE"
    with pytest.raises(TimeoutError):  # an outsider hears nothing
        await next_event(feeds["mallory"], pushed, within=0.5)


async def test_close_takes_my_presence_down(
    local: Callable[[str], Awaitable[PostgresBackend]], fresh_db_url: str
) -> None:
    bob = await local("bob")
    await bob.set_presence(BILL)
    assert _rows(fresh_db_url) == {("bob", BILL)}
    await bob.close()
    assert _rows(fresh_db_url) == set()
    await bob.close()  # closing twice is harmless


async def test_close_never_raises_when_the_database_is_gone(
    local: Callable[[str], Awaitable[PostgresBackend]], fresh_db_url: str, pg_superuser_url: str
) -> None:
    bob = await local("bob")
    await bob.set_presence(S)
    with psycopg.connect(fresh_db_url) as conn:
        name = conn.info.dbname
    allow = sql.SQL("alter database {} with allow_connections {}")
    with psycopg.connect(pg_superuser_url, autocommit=True) as admin:
        admin.execute(allow.format(sql.Identifier(name), sql.SQL("false")))
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
        )
        try:
            loop = asyncio.get_running_loop()
            start = loop.time()
            await bob.close()  # must not raise, nor wait long
            assert loop.time() - start < 10.0
        finally:
            admin.execute(allow.format(sql.Identifier(name), sql.SQL("true")))
    # the row is left behind; it stops being reported after 15 s
    assert _rows(fresh_db_url) == {("bob", S)}


async def test_two_backends_of_one_user_on_two_projects(
    local: Callable[[str], Awaitable[PostgresBackend]],
) -> None:
    alice = await local("alice")
    bob_here = await local("bob")
    bob_there = await local("bob")
    await bob_here.set_presence(S)
    await bob_there.set_presence(BILL)  # each terminal is its own row
    assert (await alice.presence(S)).usernames == ("bob",)
    assert (await alice.presence(BILL)).usernames == ("bob",)
    assert (await bob_here.presence(S)).entries == ()  # my own client is not listed
