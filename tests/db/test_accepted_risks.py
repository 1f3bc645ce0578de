"""Accepted risks (migration ``…120200_accepted_risks``): admins and members accept an
advisory until a date with a reason, and withdraw it; both are audited; bad input is one
sentence and writes nothing."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, Cur, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
ID = "GHSA-35jh-r3h4-6jhm"


@pytest.fixture
def cur(su: Conn) -> Any:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _audit(cur: Cur) -> list[tuple[Any, ...]]:
    cur.execute(
        "select action, actor_id, details ->> 'advisory_id', details ->> 'until'"
        " from audit_log where action like 'risk.%%' order by id"
    )
    return cur.fetchall()


def test_accept_again_withdraw_and_audit(cur: Cur) -> None:
    impersonate(cur, demo.DAVE)  # a member
    cur.execute(
        "select advisory_id, until::text, reason"
        " from ignore_advisory(%s, %s, '2999-03-01', '  not reachable  ')",
        (S, ID),
    )
    assert cur.fetchone() == (ID, "2999-03-01", "not reachable")
    cur.execute(
        "select until::text from ignore_advisory(%s, %s, '2999-06-01', 'still not')", (S, ID)
    )
    assert cur.fetchone() == ("2999-06-01",)  # accepting again moves the date
    cur.execute("select count(*) from accepted_risks where project_id = %s", (S,))
    assert cur.fetchone() == (1,)
    cur.execute("select unignore_advisory(%s, %s)", (S, ID))
    with pytest.raises(psycopg.errors.NoDataFound), cur.connection.transaction():
        cur.execute("select unignore_advisory(%s, %s)", (S, ID))
    cur.execute("set local role postgres")
    assert _audit(cur) == [
        ("risk.accept", demo.DAVE.id, ID, "2999-03-01"),
        ("risk.accept", demo.DAVE.id, ID, "2999-06-01"),
        ("risk.withdraw", demo.DAVE.id, ID, "2999-06-01"),
    ]


@pytest.mark.parametrize(
    ("advisory", "until", "reason", "message"),
    [
        (ID, "2000-01-01", "r", "must be in the future"),
        ("GHSA\x1b[31m", "2999-01-01", "r", "an advisory id is"),
        (ID, "2999-01-01", "   ", "a reason of 1 to 1,000 characters"),
        (ID, "2999-01-01", "two\nlines", "a reason of 1 to 1,000 characters"),
    ],
)
def test_bad_input_is_refused(
    cur: Cur, advisory: str, until: str, reason: str, message: str
) -> None:
    impersonate(cur, demo.BOB)
    with (
        pytest.raises(psycopg.errors.InvalidParameterValue, match=message),
        cur.connection.transaction(),
    ):
        cur.execute("select ignore_advisory(%s, %s, %s, %s)", (S, advisory, until, reason))
    cur.execute("select count(*) from accepted_risks")
    assert cur.fetchone() == (0,)


def test_viewers_are_refused(cur: Cur) -> None:
    impersonate(cur, demo.CAROL)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="only admins and members"),
        cur.connection.transaction(),
    ):
        cur.execute("select ignore_advisory(%s, %s, '2999-01-01', 'r')", (S, ID))
