"""public.health_rollup (migration ...20261205180000_health_rollup): the 12-minute sums kept by
the triggers on health_checks, and health_sparklines (health_buckets before ...20261206061000)
reading them for windows of whole cells.

- what health_sparklines answers from the roll-up is what the points give (the plain aggregate),
  points on cell, slot and window edges included, and the roll-up is really what it read;
- after inserts, deletes, updates, retention (which merges hourly points with ON CONFLICT DO
  UPDATE) and TRUNCATE the roll-up is the recount of the points left;
- who reads it: members as the points; another team's member, anon and machines nothing; a
  machine's report is counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.types.json import Jsonb

from devsync_tui.backend.postgres import demo_large
from tests.db.helpers import (
    HEALTH_SLOTS_REFERENCE,
    MACHINE,
    acting_as,
    assert_same_sparklines,
    impersonate,
    install_machine_tokens,
    reference_sparklines,
    try_sql,
)
from tests.support import demo

pytestmark = pytest.mark.db

Conn = psycopg.Connection[tuple[Any, ...]]
CELL = timedelta(minutes=12)
#: On the 12-minute epoch grid (2026-03-01 00:00 UTC is a whole number of cells since 1970).
START = datetime(2026, 3, 1, tzinfo=UTC)
SPAN = timedelta(hours=4)


#: The roll-up as it should be: every cell recounted from the points.
RECOUNT = """
select c.environment_id, date_bin('12 minutes', c.recorded_at, timestamptz 'epoch'),
       c.metric_type, sum(private.health_number(c.value)), count(*)::integer
from public.health_checks c
where private.health_number(c.value) is not null
group by 1, 2, 3
order by 1, 2, 3
"""
STORED = (
    "select environment_id, bucket_start, metric_type, sum, n from public.health_rollup "
    "order by 1, 2, 3"
)


def _points(conn: Conn) -> None:
    """Points of bob's laptop and staging every 53 s across the window and beyond it, plus points
    exactly on every cell edge, a microsecond before each, and at both ends of the window."""
    rows = []
    for e, env in enumerate((demo.ENV_BOB_LAPTOP, demo.ENV_STAGING)):
        for i in range(-20, int(SPAN.total_seconds() / 53) + 20):
            at = START + timedelta(seconds=53 * i + e)
            value = {"note": "none"} if i % 11 == 0 else {"percent": (i * 17 + e) % 101 + 0.1}
            rows.append((env, "cpu", Jsonb(value), at))
            rows.append((env, "ping", Jsonb({"ms": i % 40 + 0.5}), at))
        for k in range(-1, int(SPAN / CELL) + 2):
            edge = START + CELL * k
            rows.append((env, "memory", Jsonb({"value": 10.0 + k}), edge))
            rows.append(
                (env, "memory", Jsonb({"value": 50.0 - k}), edge - timedelta(microseconds=1))
            )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into public.health_checks (environment_id, metric_type, value, recorded_at) "
            "values (%s, %s, %s, %s) on conflict do nothing",
            rows,
        )
    conn.commit()


def _sparklines(
    conn: Conn, user: demo.DemoUser, ids: list[UUID], slots: int, until: datetime
) -> list:
    with acting_as(conn, user) as cur:
        cur.execute(
            "select * from public.health_sparklines(%s, %s, %s, %s)", (ids, START, slots, until)
        )
        return cur.fetchall()


def _assert_recounted(conn: Conn) -> None:
    stored = conn.execute(STORED).fetchall()
    want = conn.execute(RECOUNT).fetchall()
    assert [r[:3] + r[4:] for r in stored] == [r[:3] + r[4:] for r in want]
    for got, exp in zip(stored, want, strict=True):
        assert got[3] == pytest.approx(exp[3], rel=1e-12)


def test_windows_of_whole_cells_give_what_the_points_give(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        _points(conn)
        ids = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_BOB_LAPTOP]
        until = START + SPAN
        # 20 slots of one cell, 10 of two, 4 of five, 1 of twenty: the roll-up path; 7 and 60:
        # not whole cells, the points path. Both equal the plain aggregate.
        for slots in (20, 10, 4, 1, 7, 60):
            params = {"ids": ids[:2], "since": START, "until": until, "slots": slots}
            expected = reference_sparklines(conn, params)
            got = _sparklines(conn, demo.BOB, ids, slots, until)
            assert_same_sparklines(got, expected)
            # the point exactly at the end is in the last slot, the one a microsecond before too
            last = [counts[-1] for e, m, _, _, _, counts in got if m == "memory"]
            assert len(last) == 2
            assert all(n >= 2 for n in last)
        # The roll-up is what the whole-cell window read: a changed sum shows.
        with conn.transaction(force_rollback=True):
            conn.execute(
                "update public.health_rollup set sum = sum + 1000 * n "
                "where environment_id = %s and metric_type = 'cpu' and bucket_start = %s",
                (demo.ENV_STAGING, START),
            )
            with acting_as(conn, demo.BOB) as cur:
                cur.execute(
                    "select averages[1] from public.health_sparklines(%s, %s, 20, %s) "
                    "where environment_id = %s and metric_type = 'cpu'",
                    ([demo.ENV_STAGING], START, until, demo.ENV_STAGING),
                )
                assert cur.fetchone()[0] > 1000


def test_a_huge_number_sends_the_window_to_the_points(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        _points(conn)
        conn.execute(
            "insert into public.health_checks (environment_id, metric_type, value, recorded_at) "
            "values (%s, 'disk', '{\"value\": 1e300}', %s), (%s, 'disk', '{\"value\": 1}', %s)",
            (demo.ENV_STAGING, START + CELL, demo.ENV_STAGING, START + CELL * 1.5),
        )
        conn.commit()
        # (the seed's own disk points of staging lie in other cells, near the seed's day)
        row = conn.execute(
            "select sum, n from public.health_rollup where environment_id = %s "
            "and metric_type = 'disk' and bucket_start = %s",
            (demo.ENV_STAGING, START + CELL),
        ).fetchone()
        assert row == (None, 2)
        # The points path answers as it always did: avg's sum of squares overflows a double
        # (22003); the roll-up (which keeps no sum for that cell) is not used.
        for query, params in (
            (
                HEALTH_SLOTS_REFERENCE,
                {"ids": [demo.ENV_STAGING], "since": START, "until": START + SPAN, "slots": 20},
            ),
            (
                "select * from public.health_sparklines(%s, %s, 20, %s)",
                ([demo.ENV_STAGING], START, START + SPAN),
            ),
        ):
            with pytest.raises(psycopg.errors.NumericValueOutOfRange), conn.transaction():
                conn.execute(query, params)
        # a window without that cell is still read from the roll-up
        later = START + CELL * 10
        params = {"ids": [demo.ENV_STAGING], "since": later, "until": START + SPAN, "slots": 10}
        expected = reference_sparklines(conn, params)
        with acting_as(conn, demo.BOB) as cur:
            cur.execute(
                "select * from public.health_sparklines(%s, %s, 10, %s)",
                ([demo.ENV_STAGING], later, START + SPAN),
            )
            assert_same_sparklines(cur.fetchall(), expected)


def test_the_roll_up_follows_deletes_updates_retention_and_truncate(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        _assert_recounted(conn)  # the seed's points (migration backfill, then the triggers)
        _points(conn)
        _assert_recounted(conn)
        _points(conn)  # every point again: ON CONFLICT DO NOTHING inserts none, counts none
        _assert_recounted(conn)
        # points on and just before cell edges, and a whole cell
        conn.execute(
            "delete from public.health_checks where metric_type = 'memory' "
            "and recorded_at in (%s, %s, %s)",
            (START + CELL * 3, START + CELL * 5 - timedelta(microseconds=1), START + SPAN),
        )
        conn.execute(
            "delete from public.health_checks where environment_id = %s and recorded_at >= %s "
            "and recorded_at < %s",
            (demo.ENV_BOB_LAPTOP, START + CELL * 7, START + CELL * 8),
        )
        conn.commit()
        _assert_recounted(conn)
        # an update moving a point to another cell and changing its number
        conn.execute(
            "update public.health_checks set recorded_at = recorded_at + interval '30 minutes', "
            "value = '{\"percent\": 99.5}' where environment_id = %s and metric_type = 'cpu' "
            "and recorded_at = (select min(recorded_at) from public.health_checks "
            "where environment_id = %s and metric_type = 'cpu' and recorded_at >= %s)",
            (demo.ENV_STAGING, demo.ENV_STAGING, START + CELL * 2),
        )
        conn.commit()
        _assert_recounted(conn)
        # retention twice: the second run merges into the hours of the first (ON CONFLICT DO
        # UPDATE of health_checks); the cut-off lies inside an hour each time
        cutoff = datetime.now(UTC) - (START + timedelta(hours=1, minutes=30))
        conn.execute("select public.rollup_health_checks(%s)", (cutoff,))
        conn.commit()
        _assert_recounted(conn)
        conn.execute("select public.rollup_health_checks(%s)", (cutoff - timedelta(hours=2),))
        conn.commit()
        _assert_recounted(conn)
        # an environment deleted takes its points and its cells
        conn.execute("delete from public.environments where id = %s", (demo.ENV_STAGING,))
        conn.commit()
        _assert_recounted(conn)
        conn.execute("truncate public.health_checks")
        conn.commit()
        assert conn.execute(STORED).fetchall() == []


def test_who_reads_the_roll_up(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        install_machine_tokens(conn)
        conn.commit()
        _points(conn)
        until = START + SPAN
        ids = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING]
        seen = _sparklines(conn, demo.CAROL, ids, 20, until)  # a viewer
        assert {e for e, *_ in seen} == set(ids)
        assert _sparklines(conn, demo.MALLORY, ids, 20, until) == []  # another team
        for user in (demo.CAROL, demo.MALLORY):
            with acting_as(conn, user) as cur:
                cur.execute("select distinct environment_id from public.health_rollup")
                rows = {r[0] for r in cur.fetchall()}
            assert (rows >= set(ids)) if user is demo.CAROL else rows == set()
        for who in (None, MACHINE):
            with acting_as(conn, who) as cur:
                assert try_sql(cur, "select * from public.health_rollup limit 1") is None
                assert (
                    try_sql(
                        cur,
                        "select * from public.health_sparklines(%s, %s, 20, %s)",
                        (ids, START, until),
                    )
                    is None
                )
        # nobody writes it but the triggers
        for user in (demo.ALICE, demo.BOB):
            with acting_as(conn, user) as cur:
                assert try_sql(cur, "delete from public.health_rollup returning 1") is None
                assert try_sql(cur, "update public.health_rollup set n = 1 returning 1") is None
        # a machine's report is counted (its RPC writes as the definer; the trigger follows)
        at = START + CELL * 30
        with conn.transaction(), conn.cursor() as cur:
            impersonate(cur, MACHINE)
            cur.execute(
                "select public.machine_report_health(%s)",
                (
                    Jsonb(
                        [
                            {
                                "metric_type": "disk",
                                "value": {"percent": 42.5},
                                "recorded_at": at.isoformat(),
                            }
                        ]
                    ),
                ),
            )
        row = conn.execute(
            "select sum, n from public.health_rollup where environment_id = %s "
            "and metric_type = 'disk' and bucket_start = %s",
            (demo.ENV_BOB_LAPTOP, at),
        ).fetchone()
        assert row == (42.5, 1)
        conn.rollback()
        _assert_recounted(conn)


def test_a_bulk_load_with_triggers_off_keeps_the_roll_up_right(fresh_db_url: str) -> None:
    """demo_large writes with session_replication_role = replica; the roll-up's triggers are
    ENABLE ALWAYS, so they still count the points, and count them out when it re-creates."""
    demo_large.generate(fresh_db_url, "small")
    with psycopg.connect(fresh_db_url) as conn:
        _assert_recounted(conn)
    demo_large.generate(fresh_db_url, "small")  # removes the previous project first
    with psycopg.connect(fresh_db_url) as conn:
        _assert_recounted(conn)
