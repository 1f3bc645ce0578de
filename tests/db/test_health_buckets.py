"""public.health_sparklines against private.health_number: the number the slots average is the
one the retention roll-ups use (the function writes it inline for speed), and only signed-in
users may call it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.db.helpers import acting_as, try_sql
from tests.support import demo

pytestmark = pytest.mark.db

VALUES = [
    {"value": 1.5},
    {"percent": 42},
    {"ms": 3.25},
    {"value": 2, "percent": 9, "ms": 8},  # "value" first
    {"percent": 7, "ms": 8},
    {"value": "12", "percent": 5},  # a numeric string is not a number
    {"value": True, "ms": 6.5},  # nor is a boolean
    {"value": None, "percent": -3},
    {"value": 1e300},
    {"ms": {"nested": 1}},  # no number at all
    {"note": "empty"},
]


def test_slots_average_the_number_of_health_number(fresh_db_url: str) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(fresh_db_url) as conn:
        for i, value in enumerate(VALUES):
            conn.execute(
                "insert into public.health_checks (environment_id, metric_type, value, "
                "recorded_at) values (%s, 'cpu', %s, %s)",
                (demo.ENV_BOB_LAPTOP, Jsonb(value), start + timedelta(minutes=i, seconds=30)),
            )
        expected = {
            i: number
            for i, (number,) in enumerate(
                conn.execute(
                    "select private.health_number(v) from unnest(%s::jsonb[]) with ordinality "
                    "u(v, i) order by i",
                    ([Jsonb(v) for v in VALUES],),
                ).fetchall()
            )
            if number is not None
        }
        conn.commit()
        with acting_as(conn, demo.BOB) as cur:
            # One slot per minute: each point alone in its slot.
            cur.execute(
                "select averages, counts from public.health_sparklines(%s, %s, %s, %s)",
                (
                    [demo.ENV_BOB_LAPTOP],
                    start,
                    len(VALUES),
                    start + timedelta(minutes=len(VALUES)),
                ),
            )
            ((averages, counts),) = cur.fetchall()
        # the slots of the points without a number are empty: None, counted 0
        assert averages == [expected.get(i) for i in range(len(VALUES))]
        assert counts == [1 if i in expected else 0 for i in range(len(VALUES))]
        assert len(expected) == len(VALUES) - 2  # the last two carry no number
        with acting_as(conn, None) as cur:
            assert (
                try_sql(
                    cur,
                    "select * from public.health_sparklines(%s, %s, 10)",
                    ([demo.ENV_BOB_LAPTOP], start),
                )
                is None
            )
