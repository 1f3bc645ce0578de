"""Presence in the database (migration 20261125180000_presence): set_presence, who_is_viewing,
the 30-second window, membership, and retention of forgotten rows."""

from __future__ import annotations

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


def _present(cur: Cur, user: demo.DemoUser, project: Any, age: str = "0 seconds") -> None:
    """Store ``user`` as present on ``project``, last seen ``age`` ago (as superuser)."""
    _as_superuser(cur)
    cur.execute(
        "insert into presence (user_id, project_id, seen_at) values (%s, %s, now() - %s::interval)"
        " on conflict (user_id, project_id) do update set seen_at = excluded.seen_at",
        (user.id, project, age),
    )


def _viewing(cur: Cur, user: demo.DemoUser, project: Any) -> list[str]:
    impersonate(cur, user)
    cur.execute("select username from who_is_viewing(%s)", (project,))
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


def test_members_see_each_other_and_a_move_is_seen_at_once(cur: Cur) -> None:
    impersonate(cur, demo.ALICE)
    cur.execute("select set_presence(%s)", (S,))
    impersonate(cur, demo.BOB)
    cur.execute("select set_presence(%s)", (S,))
    assert _viewing(cur, demo.ALICE, S) == ["alice", "bob"]
    impersonate(cur, demo.BOB)
    cur.execute("select set_presence(%s)", (BILL,))
    assert _viewing(cur, demo.ALICE, S) == ["alice"]
    assert _rows(cur) == {("alice", S), ("bob", BILL)}
    impersonate(cur, demo.BOB)
    cur.execute("select set_presence(null)")
    assert _rows(cur) == {("alice", S)}


def test_a_viewer_announces_presence_too(cur: Cur) -> None:
    impersonate(cur, demo.CAROL)
    cur.execute("select set_presence(%s)", (S,))
    assert _viewing(cur, demo.DAVE, S) == ["carol", "dave"]


def test_rows_older_than_30_seconds_are_not_reported(cur: Cur) -> None:
    _present(cur, demo.BOB, S, "31 seconds")
    _present(cur, demo.ERIN, S, "20 seconds")
    assert _viewing(cur, demo.ALICE, S) == ["alice", "erin"]


def test_who_is_viewing_is_the_callers_heartbeat(cur: Cur) -> None:
    _present(cur, demo.ALICE, S, "25 seconds")
    impersonate(cur, demo.ALICE)
    cur.execute("select who_is_viewing(%s)", (S,))
    _as_superuser(cur)
    cur.execute(
        "select seen_at > now() - interval '1 second' from presence where user_id = %s",
        (demo.ALICE.id,),
    )
    assert cur.fetchall() == [(True,)]


def test_two_terminals_of_one_user_on_two_projects(cur: Cur) -> None:
    # terminal 1 announces storefront, terminal 2 then billing-api (which removes the first
    # row); terminal 1's next poll puts bob back on storefront
    impersonate(cur, demo.BOB)
    cur.execute("select set_presence(%s)", (S,))
    cur.execute("select set_presence(%s)", (BILL,))
    assert "bob" in _viewing(cur, demo.BOB, S)
    assert _viewing(cur, demo.ALICE, S) == ["alice", "bob"]
    assert _viewing(cur, demo.ALICE, BILL) == ["alice", "bob"]


def test_a_removed_member_is_no_longer_listed(cur: Cur) -> None:
    _present(cur, demo.DAVE, S)
    impersonate(cur, demo.ALICE)
    cur.execute("select remove_team_member(%s, %s)", (demo.TEAM_ACME, demo.DAVE.id))
    assert _viewing(cur, demo.ALICE, S) == ["alice"]


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("select set_presence(%s)", demo.MALLORY),
        ("select who_is_viewing(%s)", demo.MALLORY),
        ("select set_presence(%s)", None),
        ("select who_is_viewing(%s)", None),
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
    for query in ("select set_presence(%s)", "select who_is_viewing(%s)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), cur.connection.transaction():
            cur.execute(query, ("00000000-0000-4000-c000-0000000000ff",))


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


def test_retention_without_a_user_drops_every_old_row(cur: Cur) -> None:
    _present(cur, demo.MALLORY, S, "3 days")  # not possible through the RPCs; still cleaned
    _present(cur, demo.BOB, S)
    _as_superuser(cur)
    cur.execute("select rollup_health_checks()")
    assert _rows(cur) == {("bob", S)}


def test_deleting_a_project_or_user_takes_their_presence_along(cur: Cur) -> None:
    _present(cur, demo.BOB, BILL)
    _present(cur, demo.DAVE, S)
    _as_superuser(cur)
    cur.execute("delete from projects where id = %s", (BILL,))
    cur.execute("delete from auth.users where id = %s", (demo.DAVE.id,))
    assert _rows(cur) == set()
