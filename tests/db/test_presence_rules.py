"""Presence in the database (migrations …180000_presence, …150000_presence_places): one row per
client, announce_presence / who_is_here / leave_presence, the 15-second window, membership,
identity from the session, the push (NOTIFY and realtime.send), the members-only policy on
realtime.messages, and retention of forgotten rows."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, Cur, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BILL = demo.PROJECT_BILLING


@pytest.fixture
def cur(su: Conn) -> Any:
    """A rolled-back transaction as superuser; tests impersonate inside it."""
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _as_superuser(cur: Cur) -> None:
    cur.execute("reset role")
    cur.execute("select set_config('request.jwt.claims', '', true)")


def _present(cur: Cur, user: demo.DemoUser, project: Any, age: str = "0 seconds") -> uuid.UUID:
    """Store a client of ``user`` on ``project``, last seen ``age`` ago (as superuser)."""
    _as_superuser(cur)
    client = uuid.uuid4()
    cur.execute(
        "insert into presence (client_id, user_id, project_id, seen_at)"
        " values (%s, %s, %s, now() - %s::interval)",
        (client, user.id, project, age),
    )
    return client


def _announce(cur: Cur, user: demo.DemoUser | None, client: uuid.UUID, project: Any, *more: Any):
    impersonate(cur, user)
    args = (client, project, *more) + (None,) * (3 - len(more))
    cur.execute(
        "select username, tab, editing_key from announce_presence(%s, %s, %s, %s, %s)", args
    )
    return cur.fetchall()


def _here(cur: Cur, user: demo.DemoUser, project: Any) -> list[str]:
    impersonate(cur, user)
    cur.execute("select username from who_is_here(%s)", (project,))
    return [r[0] for r in cur.fetchall()]


def _rows(cur: Cur) -> set[tuple[str, Any]]:
    _as_superuser(cur)
    cur.execute(
        "select p.username, r.project_id from presence r join profiles p on p.id = r.user_id"
    )
    return {(r[0], r[1]) for r in cur.fetchall()}


def test_an_outsider_reads_no_presence_row_through_the_table(cur: Cur) -> None:
    _present(cur, demo.ALICE, S)
    _present(cur, demo.BOB, BILL)
    impersonate(cur, demo.MALLORY)
    cur.execute("select * from presence")
    assert cur.fetchall() == []
    impersonate(cur, demo.CAROL)  # a viewer is a member: she sees both
    cur.execute("select user_id from presence order by user_id")
    assert [r[0] for r in cur.fetchall()] == [demo.ALICE.id, demo.BOB.id]


def test_anon_may_not_read_the_table(cur: Cur) -> None:
    impersonate(cur, None)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        cur.execute("select * from presence")


def test_announce_says_where_and_returns_who_is_here(cur: Cur) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    _announce(cur, demo.ALICE, a, S, demo.ENV_STAGING, "config", "LOG_LEVEL")
    rows = _announce(cur, demo.BOB, b, S, None, "drift")
    assert rows == [("alice", "config", "LOG_LEVEL"), ("bob", "drift", None)]
    impersonate(cur, demo.ALICE)
    cur.execute("select user_id, environment_id from who_is_here(%s) where client_id = %s", (S, a))
    assert cur.fetchall() == [(demo.ALICE.id, demo.ENV_STAGING)]
    # moving on: a new place replaces the old one, and leaving takes the row down
    _announce(cur, demo.BOB, b, BILL)
    assert _here(cur, demo.ALICE, S) == ["alice"]
    impersonate(cur, demo.BOB)
    cur.execute("select leave_presence(%s)", (b,))
    assert _rows(cur) == {("alice", S)}


def test_two_clients_of_one_user_are_two_rows(cur: Cur) -> None:
    _announce(cur, demo.BOB, uuid.uuid4(), S)
    _announce(cur, demo.BOB, uuid.uuid4(), BILL)
    assert _here(cur, demo.ALICE, S) == ["bob"]
    assert _here(cur, demo.ALICE, BILL) == ["bob"]


def test_a_client_id_of_someone_else_is_refused_never_taken_over(cur: Cur) -> None:
    client = uuid.uuid4()
    _announce(cur, demo.ALICE, client, S, None, "config", "DATABASE_URL")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), cur.connection.transaction():
        _announce(cur, demo.BOB, client, S, None, "health")
    impersonate(cur, demo.BOB)
    cur.execute("select leave_presence(%s)", (client,))  # removes nothing of alice's
    assert _here(cur, demo.BOB, S) == ["alice"]


def test_identity_comes_from_the_session_not_the_arguments(cur: Cur) -> None:
    # there is no argument to claim a user with: the row is always the caller's
    impersonate(cur, demo.BOB)
    cur.execute(
        "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname = 'public' and p.proname = 'announce_presence'"
        " and 'p_user_id' = any(p.proargnames)"
    )
    assert cur.fetchone() == (0,)
    _announce(cur, demo.BOB, uuid.uuid4(), S)
    assert _rows(cur) == {("bob", S)}


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ((demo.ENV_ALICE_MBP, None, None), "not in this project"),
        ((None, "Config Tab", None), "tab"),
        ((None, None, "KEY\nX"), "control"),
        ((None, None, "K" * 257), "256"),
    ],
)
def test_bad_places_are_refused_with_22023(cur: Cur, args: tuple[Any, ...], why: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=why):
        _announce(cur, demo.ALICE, uuid.uuid4(), S, *args)


def test_rows_older_than_15_seconds_are_not_reported(cur: Cur) -> None:
    _present(cur, demo.BOB, S, "16 seconds")
    _present(cur, demo.ERIN, S, "10 seconds")
    assert _here(cur, demo.ALICE, S) == ["erin"]


def test_a_heartbeat_brings_a_client_back(cur: Cur) -> None:
    client = _present(cur, demo.BOB, S, "20 seconds")
    assert _here(cur, demo.ALICE, S) == []
    _announce(cur, demo.BOB, client, S)
    assert _here(cur, demo.ALICE, S) == ["bob"]


def test_a_removed_member_is_no_longer_listed(cur: Cur) -> None:
    _present(cur, demo.DAVE, S)
    impersonate(cur, demo.ALICE)
    cur.execute("select remove_team_member(%s, %s)", (demo.TEAM_ACME, demo.DAVE.id))
    assert _here(cur, demo.ALICE, S) == []


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("select announce_presence(gen_random_uuid(), %s)", demo.MALLORY),
        ("select who_is_here(%s)", demo.MALLORY),
        ("select announce_presence(gen_random_uuid(), %s)", None),
        ("select who_is_here(%s)", None),
    ],
)
def test_non_members_are_refused_with_42501_and_nothing_changes(
    cur: Cur, query: str, who: demo.DemoUser | None
) -> None:
    _present(cur, demo.ALICE, S)
    impersonate(cur, who)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege) as raised,
        cur.connection.transaction(),
    ):
        cur.execute(query, (S,))
    if who is not None:  # our sentence; anon is stopped by the grant before it
        assert "member" in str(raised.value.diag.message_primary)
    assert _rows(cur) == {("alice", S)}


def test_an_unknown_project_is_refused_like_a_foreign_one(cur: Cur) -> None:
    impersonate(cur, demo.ALICE)
    for query in (
        "select announce_presence(gen_random_uuid(), %s)",
        "select who_is_here(%s)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), cur.connection.transaction():
            cur.execute(query, ("00000000-0000-4000-c000-0000000000ff",))


def _notes(conn: psycopg.Connection[Any], channel: str) -> list[dict[str, Any]]:
    return [json.loads(n.payload) for n in conn.notifies(timeout=0.5) if n.channel == channel]


def test_arrival_moves_and_departure_are_pushed_but_a_heartbeat_is_not(fresh_db_url: str) -> None:
    client = uuid.uuid4()
    with (
        psycopg.connect(fresh_db_url, autocommit=True) as listen,
        psycopg.connect(fresh_db_url, autocommit=True) as act,
    ):
        listen.execute("listen devsync_changes")
        listen.execute("select private.register_change_listener()")
        listen.execute("listen devsync_realtime")

        def announce(*args: Any) -> None:
            with act.transaction(), act.cursor() as c:
                impersonate(c, demo.BOB)
                c.execute("select announce_presence(%s, %s, %s, %s)", (client, *args))

        announce(S, None, "config")
        notes = [json.loads(n.payload) for n in listen.notifies(timeout=0.5, stop_after=2)]
        assert {
            "table": "presence",
            "op": "INSERT",
            "id": str(client),
            "team_id": str(demo.TEAM_ACME),
            "project_id": str(S),
            "environment_id": None,
        } in notes
        assert {"topic": f"devsync:presence:{S}", "event": "presence",
                "payload": {"project_id": str(S)}, "private": True} in notes  # fmt: skip
        announce(S, None, "config")  # the heartbeat: nothing
        assert list(listen.notifies(timeout=0.3)) == []
        announce(BILL, None, "config")  # a move: both projects hear it
        got = [json.loads(n.payload) for n in listen.notifies(timeout=0.5, stop_after=4)]
        assert {n.get("project_id") or n["payload"]["project_id"] for n in got} == {
            str(S),
            str(BILL),
        }
        for n in got:  # ids only: never a name, a key or a tab
            assert "bob" not in json.dumps(n)
            assert "config" not in json.dumps(n)
        with act.transaction(), act.cursor() as c:
            impersonate(c, demo.BOB)
            c.execute("select leave_presence(%s)", (client,))
        got = [json.loads(n.payload) for n in listen.notifies(timeout=0.5, stop_after=2)]
        assert any(n.get("op") == "DELETE" for n in got)


def _may_join(cur: Cur, who: demo.DemoUser | None, topic: str) -> bool:
    """What Realtime asks when someone joins a private channel: can they read a message of
    the topic (inserted as superuser, read as them with realtime.topic() set)?"""
    _as_superuser(cur)
    cur.execute(
        "insert into realtime.messages (topic, extension) values (%s, 'presence') returning id",
        (topic,),
    )
    row = cur.fetchone()
    assert row is not None
    impersonate(cur, who)
    cur.execute("select set_config('realtime.topic', %s, true)", (topic,))
    cur.execute("select 1 from realtime.messages where id = %s", (row[0],))
    return cur.fetchone() is not None


def test_only_members_may_join_the_presence_channel(cur: Cur) -> None:
    topic = f"devsync:presence:{S}"
    assert _may_join(cur, demo.ALICE, topic)
    assert _may_join(cur, demo.CAROL, topic)  # a viewer
    assert not _may_join(cur, demo.MALLORY, topic)
    assert not _may_join(cur, None, topic)  # the anon key
    assert not _may_join(cur, demo.ALICE, "devsync:presence:someone-else")


def test_nobody_may_send_on_the_presence_channel(cur: Cur) -> None:
    for who in (demo.ALICE, demo.MALLORY, None):
        impersonate(cur, who)
        cur.execute("select set_config('realtime.topic', %s, true)", (f"devsync:presence:{S}",))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), cur.connection.transaction():
            cur.execute(
                "insert into realtime.messages (topic, extension, payload) values (%s, %s, %s)",
                (f"devsync:presence:{S}", "broadcast", json.dumps({"username": "erin"})),
            )


def test_retention_drops_presence_older_than_a_day(cur: Cur) -> None:
    _present(cur, demo.BOB, S, "25 hours")
    _present(cur, demo.CAROL, BILL, "2 days")
    _present(cur, demo.ALICE, S, "23 hours")
    impersonate(cur, demo.DAVE)  # not an admin: refused, nothing dropped
    with pytest.raises(psycopg.errors.InsufficientPrivilege), cur.connection.transaction():
        cur.execute("select rollup_health_checks()")
    assert len(_rows(cur)) == 3
    impersonate(cur, demo.ERIN)  # an admin of Acme
    cur.execute("select rollup_health_checks()")
    assert _rows(cur) == {("alice", S)}


def test_deleting_a_project_or_user_takes_their_presence_along(cur: Cur) -> None:
    _present(cur, demo.BOB, BILL)
    _present(cur, demo.DAVE, S)
    _as_superuser(cur)
    cur.execute("delete from projects where id = %s", (BILL,))
    cur.execute("delete from auth.users where id = %s", (demo.DAVE.id,))
    assert _rows(cur) == set()


def test_without_the_channel_policy_nobody_may_join(cur: Cur) -> None:
    cur.execute("drop policy devsync_presence_read on realtime.messages")
    assert not _may_join(cur, demo.ALICE, f"devsync:presence:{S}")
