"""public.health_sparklines (migration ...20261206061000_health_sparklines): one row per
environment and metric, the slots as arrays, equal to the plain aggregate of the points each
caller may read (``reference_sparklines``), for an admin, a member, a viewer and an outsider, on
both the roll-up path (whole 12-minute cells) and the points path: empty slots are NULL / 0,
points on slot edges fall in the slot they start, a machine without points has no row. And it
is granted as health_buckets was (which it replaces): security invoker, not to anon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.db.helpers import (
    SPARKLINES,
    acting_as,
    assert_same_sparklines,
    reference_sparklines,
    try_sql,
)
from tests.support import demo

pytestmark = pytest.mark.db

Conn = psycopg.Connection[tuple[Any, ...]]
#: On the 12-minute epoch grid, far from the seed's own points.
START = datetime(2026, 4, 1, tzinfo=UTC)
SPAN = timedelta(hours=6)
SIGNATURE = "public.health_sparklines(uuid[], timestamptz, integer, timestamptz)"


def _environment(conn: Conn, project: object, owner: UUID, name: str) -> UUID:
    row = conn.execute(
        "insert into public.environments (project_id, user_id, name) values (%s, %s, %s) "
        "returning id",
        (project, owner, name),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def _foreign_environment(conn: Conn) -> UUID:
    """An environment of a team only mallory is in."""
    team = conn.execute(
        "insert into public.teams (name, slug, owner_id) values ('Other', 'other', %s) "
        "returning id",
        (demo.MALLORY.id,),
    ).fetchone()
    assert team is not None
    conn.execute(
        "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'admin') "
        "on conflict do nothing",
        (team[0], demo.MALLORY.id),
    )
    project = conn.execute(
        "insert into public.projects (team_id, name) values (%s, 'elsewhere') returning id",
        (team[0],),
    ).fetchone()
    assert project is not None
    return _environment(conn, project[0], demo.MALLORY.id, "far-away")


def _points(conn: Conn, envs: list[UUID]) -> None:
    """cpu every 47 s over the window and beyond it, but not in its second hour (empty slots);
    memory exactly on every 20-minute edge and a microsecond before it, both ends included;
    ping only in the last hour, disk only in the first (empty slots at the start, at the end)."""
    rows = []
    for e, env in enumerate(envs):
        for i in range(-30, int(SPAN.total_seconds() / 47) + 30):
            at = START + timedelta(seconds=47 * i + e)
            if not timedelta(hours=1) <= at - START < timedelta(hours=2):
                value = {"note": "none"} if i % 13 == 0 else {"percent": (i * 7 + e) % 101 + 0.5}
                rows.append((env, "cpu", Jsonb(value), at))
        for k in range(-1, int(SPAN / timedelta(minutes=20)) + 2):
            edge = START + timedelta(minutes=20) * k
            rows.append((env, "memory", Jsonb({"value": 10.0 + k + e}), edge))
            rows.append(
                (env, "memory", Jsonb({"value": 90.0 - k}), edge - timedelta(microseconds=1))
            )
        for i in range(0, 3600, 90):
            rows.append(
                (env, "ping", Jsonb({"ms": i / 100 + e}), START + SPAN - timedelta(seconds=i))
            )
            rows.append((env, "disk", Jsonb({"percent": i / 60 + e}), START + timedelta(seconds=i)))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into public.health_checks (environment_id, metric_type, value, recorded_at) "
            "values (%s, %s, %s, %s)",
            rows,
        )


def _visible(conn: Conn, user: demo.DemoUser, ids: list[UUID]) -> list[UUID]:
    """Of ``ids``, the environments of the teams ``user`` belongs to (PERMISSIONS.md
    health_checks read: members), worked out from the tables, not through RLS."""
    rows = conn.execute(
        "select distinct e.id from public.environments e "
        "join public.projects p on p.id = e.project_id "
        "join public.team_members m on m.team_id = p.team_id "
        "where m.user_id = %s and e.id = any(%s)",
        (user.id, ids),
    ).fetchall()
    return [UUID(str(r[0])) for r in rows]


def test_arrays_equal_the_points_for_every_role(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        foreign = _foreign_environment(conn)
        quiet = _environment(conn, demo.PROJECT_STOREFRONT, demo.BOB.id, "never-reported")
        with_points = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_ALICE_MBP, foreign]
        _points(conn, with_points)
        conn.commit()
        asked = [*with_points, quiet, demo.ENV_BOB_LAPTOP, uuid4()]
        cases = 0
        # 30 / 18 / 1 slots of whole cells: the roll-up; 7 and 1440 slots, and a window off the
        # grid: the points.
        for since, until, slots in (
            (START, START + SPAN, 30),
            (START, START + SPAN, 18),
            (START, START + SPAN, 1),
            (START, START + SPAN, 7),
            (START, START + SPAN, 1440),
            (START + timedelta(seconds=61), START + SPAN - timedelta(seconds=7), 60),
        ):
            params = {"ids": asked, "since": since, "until": until, "slots": slots}
            for user in (demo.ALICE, demo.BOB, demo.CAROL, demo.MALLORY):
                visible = _visible(conn, user, asked)
                expected = reference_sparklines(conn, {**params, "ids": visible})
                with acting_as(conn, user) as cur:
                    cur.execute(SPARKLINES, params)
                    got = cur.fetchall()
                assert_same_sparklines(got, expected)
                seen = {row[0] for row in got}
                if user is demo.MALLORY:
                    assert seen == {foreign}
                else:
                    assert seen == {demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_ALICE_MBP}
                    cases += 1
                # one row per environment and metric, every array as long as the slots
                assert len({(e, m) for e, m, *_ in got}) == len(got)
                assert all(len(a) == len(c) == slots for *_, a, c in got)
                assert {m for _, m, *_ in got} == (
                    {"cpu", "memory", "ping", "disk"} if got else set()
                )
                for _, metric, start, width, averages, counts in got:
                    assert start == since
                    assert width == pytest.approx((until - since).total_seconds() / slots)
                    empty = [a is None for a in averages]
                    assert empty == [n == 0 for n in counts]
                    if metric == "cpu" and slots == 30 and since == START:
                        # the second hour (slots 5-9 of 12 minutes) had no points
                        assert averages[5:10] == [None] * 5
                        assert counts[5:10] == [0] * 5
                        assert None not in averages[:5] + averages[10:]
                    if metric == "ping" and slots == 18 and since == START:
                        # the last hour only: slots 15-17 of 20 minutes
                        assert counts[:15] == [0] * 15
                        assert all(counts[15:])
                    if metric == "disk" and slots == 18 and since == START:
                        # the first hour only: slots 0-2
                        assert all(counts[:3])
                        assert counts[3:] == [0] * 15
                        assert averages[3:] == [None] * 15
        assert cases == 18


def test_points_on_slot_edges_start_their_slot(fresh_db_url: str) -> None:
    """18 slots of 20 minutes: the point on each edge opens the slot after it, the one a
    microsecond before closes the slot before; the one at the window's end is in the last."""
    with psycopg.connect(fresh_db_url) as conn:
        _points(conn, [demo.ENV_STAGING])
        conn.commit()
        for since in (START, START + timedelta(seconds=1)):  # the roll-up; the points
            until = since + SPAN
            with acting_as(conn, demo.BOB) as cur:
                cur.execute(
                    "select averages, counts from public.health_sparklines(%s, %s, 18, %s) "
                    "where metric_type = 'memory'",
                    ([demo.ENV_STAGING], since, until),
                )
                ((averages, counts),) = cur.fetchall()
            if since == START:
                # slot k: the point on its start edge (10 + k) and the one just before its end
                # (90 - (k + 1)); the last slot also the point exactly at the end (10 + 18)
                assert counts == [2] * 17 + [3]
                assert averages[:17] == [(10.0 + k + 90.0 - (k + 1)) / 2 for k in range(17)]
                assert averages[17] == pytest.approx((10.0 + 17 + 90.0 - 18 + 10.0 + 18) / 3)
            else:
                # a second later: each edge point falls in the slot before, with its
                # microsecond-earlier twin; nothing lies at the end itself
                assert counts == [2] * 18
                assert averages[:17] == [(10.0 + k + 1 + 90.0 - (k + 1)) / 2 for k in range(17)]


def test_granted_as_health_buckets_was(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute(
            "select p.prosecdef, p.provolatile, "
            "has_function_privilege('anon', p.oid, 'execute'), "
            "has_function_privilege('authenticated', p.oid, 'execute'), "
            "exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0), "
            "to_regprocedure('public.health_buckets(uuid[], timestamptz, integer, timestamptz)') "
            "from pg_proc p where p.oid = %s::regprocedure",
            (SIGNATURE,),
        ).fetchone()
        # security invoker, stable; anon and public may not execute it, users may; the old
        # function is gone
        assert row == (False, "s", False, True, False, None)
        until = datetime.now(UTC)
        with acting_as(conn, None) as cur:
            assert (
                try_sql(
                    cur,
                    "select * from public.health_sparklines(%s, %s, 10)",
                    ([demo.ENV_BOB_LAPTOP], until - timedelta(hours=1)),
                )
                is None
            )
        with acting_as(conn, demo.BOB) as cur:
            for ids, slots, since in (
                ([uuid4() for _ in range(501)], 10, until - timedelta(hours=1)),
                ([demo.ENV_BOB_LAPTOP], 0, until - timedelta(hours=1)),
                ([demo.ENV_BOB_LAPTOP], 1441, until - timedelta(hours=1)),
                ([demo.ENV_BOB_LAPTOP], 10, until),
            ):
                with pytest.raises(psycopg.errors.InvalidParameterValue), conn.transaction():
                    cur.execute(
                        "select * from public.health_sparklines(%s, %s, %s, %s)",
                        (ids, since, slots, until),
                    )
