"""Optimistic concurrency under real contention: many connections save the same key with the
same expected version at once. Exactly one wins per round, the others get PT409 with the
current version, versions have no gaps and the history holds every accepted value."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.db.helpers import impersonate
from tests.support import demo

pytestmark = pytest.mark.db

WRITERS = 8
ROUNDS = 6
S = demo.PROJECT_STOREFRONT


def _save(
    url: str,
    barrier: threading.Barrier,
    user: demo.DemoUser,
    value: str,
    expected: int | None,
    secret: bool,
) -> tuple[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        try:
            with conn.transaction():
                impersonate(cur, user)
                barrier.wait(timeout=20)
                cur.execute(
                    "select version from save_configuration(%s, null, 'RACE_KEY', %s, %s,"
                    " 'env_var', %s)",
                    (S, value, secret, expected),
                )
                row = cur.fetchone()
                assert row is not None
                return ("won", row[0])
        except psycopg.errors.UniqueViolation as exc:
            return ("exists", str(exc))
        except psycopg.Error as exc:
            if exc.sqlstate == "PT409":
                return ("conflict", json.loads(exc.diag.message_detail or "null"))
            raise


def test_one_winner_per_round_gap_free_history(fresh_db_url: str) -> None:
    writers = [demo.BOB, demo.DAVE, demo.ERIN, demo.ALICE] * (WRITERS // 4)
    accepted: list[str] = []
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        for rnd in range(ROUNDS):
            expected = None if rnd == 0 else rnd
            secret = rnd % 2 == 1  # alternate plain and secret values
            barrier = threading.Barrier(WRITERS)
            values = [f"value-{rnd}-{n}" for n in range(WRITERS)]
            futures = [
                pool.submit(_save, fresh_db_url, barrier, writers[n], values[n], expected, secret)
                for n in range(WRITERS)
            ]
            results = [f.result(timeout=60) for f in futures]
            winners = [n for n, r in enumerate(results) if r[0] == "won"]
            assert len(winners) == 1, results
            assert results[winners[0]][1] == rnd + 1
            losers = [r for r in results if r[0] != "won"]
            if expected is None:
                assert all(kind == "exists" and "already exists" in info for kind, info in losers)
            else:
                assert losers == [("conflict", {"current_version": rnd + 1})] * (WRITERS - 1)
            accepted.append(values[winners[0]])

    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute(
            "select id, version, is_secret from configurations where key = 'RACE_KEY'"
        ).fetchone()
        assert row is not None
        cid, version, _ = row
        assert version == ROUNDS
        history = conn.execute(
            "select h.version, h.op, coalesce(h.value, s.value)"
            " from configuration_history h"
            " left join configuration_history_secrets s on s.history_id = h.id"
            " where h.configuration_id = %s order by h.id",
            (cid,),
        ).fetchall()
    assert [h[0] for h in history] == list(range(1, ROUNDS + 1))
    assert [h[1] for h in history] == ["insert"] + ["update"] * (ROUNDS - 1)
    assert [h[2] for h in history] == accepted


def _save_as(conn: psycopg.Connection[Any], user: demo.DemoUser, query: str, params: Any) -> None:
    with conn.transaction(), conn.cursor() as cur:
        impersonate(cur, user)
        cur.execute(query, params)


def test_conflict_on_a_deleted_row_reports_null_version(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn, conn.cursor() as cur:
        with conn.transaction():
            impersonate(cur, demo.DAVE)
            cur.execute(
                "select delete_configuration(id, version) from configurations"
                " where project_id = %s and environment_id is null and key = 'FEATURE_FLAGS'",
                (S,),
            )
        with pytest.raises(psycopg.Error) as err:
            _save_as(
                conn,
                demo.BOB,
                "select save_configuration(%s, null, 'FEATURE_FLAGS', 'x', false, 'env_var', 1)",
                (S,),
            )
        assert err.value.sqlstate == "PT409"
        assert json.loads(err.value.diag.message_detail or "") == {"current_version": None}
