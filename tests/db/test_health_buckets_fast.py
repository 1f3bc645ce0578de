"""public.health_sparklines (the plans of health_buckets since migrations
...190000_health_buckets_fast, one environment at a time read from a covering index, and
...191000_health_buckets_unvacuumed, the sequential scan while the table is not mostly
all-visible) gives, on both plans, what a plain aggregate of the caller's visible points gives:
repeated ids count once, environments of other teams and unknown ids contribute nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.db.helpers import (
    SPARKLINES,
    acting_as,
    assert_same_sparklines,
    reference_sparklines,
)
from tests.support import demo

pytestmark = pytest.mark.db

START = datetime(2026, 2, 1, tzinfo=UTC)
SPAN = timedelta(hours=2)


def _foreign_environment(conn: psycopg.Connection[tuple[object, ...]]) -> object:
    """An environment of a team bob is not in (mallory's)."""
    row = conn.execute(
        "insert into public.teams (name, slug, owner_id) values ('Other', 'other', %s) "
        "returning id",
        (demo.MALLORY.id,),
    ).fetchone()
    assert row is not None
    project = conn.execute(
        "insert into public.projects (team_id, name) values (%s, 'elsewhere') returning id",
        (row[0],),
    ).fetchone()
    assert project is not None
    env = conn.execute(
        "insert into public.environments (project_id, user_id, name) "
        "values (%s, %s, 'far-away') returning id",
        (project[0], demo.MALLORY.id),
    ).fetchone()
    assert env is not None
    return env[0]


def test_slots_are_the_plain_aggregate_of_the_visible_points(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        foreign = _foreign_environment(conn)
        envs = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, foreign]
        rows = []
        for e, env in enumerate(envs):
            # A point every 37 s from a little before the window to a little after it, so that
            # both ends and many slot edges are crossed; every seventh carries no number.
            for i in range(-5, int(SPAN.total_seconds() / 37) + 5):
                at = START + timedelta(seconds=37 * i + e)
                for metric in ("cpu", "memory", "ping"):
                    value = {"note": "none"} if i % 7 == 0 else {"percent": (i * 13 + e) % 101}
                    if metric == "ping" and i % 7:
                        value = {"ms": i % 50 + 0.25, "value": float(i % 9)}
                    rows.append((env, metric, Jsonb(value), at))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into public.health_checks (environment_id, metric_type, value, "
                "recorded_at) values (%s, %s, %s, %s)",
                rows,
            )
        conn.commit()
        # Points at exactly both ends of the window belong to it (the last one to the last slot).
        conn.execute(
            "insert into public.health_checks (environment_id, metric_type, value, recorded_at) "
            "values (%s, 'disk', '{\"value\": 1}', %s), (%s, 'disk', '{\"value\": 3}', %s)",
            (demo.ENV_STAGING, START, demo.ENV_STAGING, START + SPAN),
        )
        conn.commit()
        # Both plans (migration ...191000): the sequential scan while fewer than 90% of the
        # pages are all-visible (just written, only analyzed), then the index-only scans.
        with psycopg.connect(fresh_db_url, autocommit=True) as admin:
            admin.execute("analyze public.health_checks")
            assert not _mostly_visible(admin)
            _assert_plain_aggregate(conn, foreign)
            conn.rollback()
            # The test server commits asynchronously, and vacuum marks no page all-visible
            # whose rows' commit is not yet flushed: one synchronous commit flushes them all.
            admin.execute("set synchronous_commit = on")
            admin.execute("select txid_current()")
            admin.execute("vacuum (analyze) public.health_checks")
            assert _mostly_visible(admin)
            _assert_plain_aggregate(conn, foreign)


def _mostly_visible(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute(
        "select relallvisible >= 0.9 * relpages from pg_class "
        "where oid = 'public.health_checks'::regclass"
    ).fetchone()
    assert row is not None
    return bool(row[0])


def _assert_plain_aggregate(conn: psycopg.Connection[tuple[object, ...]], foreign: object) -> None:
    asked = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_BOB_LAPTOP, foreign, uuid4()]
    for slots in (1, 7, 60, 1440):
        params = {"ids": asked, "since": START, "until": START + SPAN, "slots": slots}
        with acting_as(conn, demo.BOB) as cur:
            cur.execute(SPARKLINES, params)
            got = cur.fetchall()
        visible = {**params, "ids": [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING]}
        expected = reference_sparklines(conn, visible)
        assert {row[0] for row in expected} == {demo.ENV_BOB_LAPTOP, demo.ENV_STAGING}
        assert_same_sparklines(got, expected)
        # bob's laptop has no disk points: no row; staging's two lie at both ends of the window
        disk = [(e, a, c) for e, m, _, _, a, c in got if m == "disk"]
        if slots > 1:
            middle = slots - 2
            assert disk == [
                (demo.ENV_STAGING, [1.0] + [None] * middle + [3.0], [1] + [0] * middle + [1])
            ]
        else:
            assert disk == [(demo.ENV_STAGING, [2.0], [2])]
