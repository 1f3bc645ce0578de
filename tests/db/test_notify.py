"""The devsync_changes notifications the local transport listens to (docs/DATABASE.md)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.db.helpers import impersonate
from tests.support import demo

pytestmark = pytest.mark.db


def _changes(url: str, user: demo.DemoUser | None, *steps: tuple[str, Any]) -> list[dict[str, Any]]:
    """Run each step in its own committed transaction as ``user``; return what LISTEN saw."""
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("listen devsync_changes")
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
            for query, params in steps:
                with conn.transaction():
                    if user is not None:
                        impersonate(cur, user)
                    cur.execute(query, params)
        return [json.loads(n.payload) for n in listener.notifies(timeout=0.5)]


def test_a_batch_of_health_points_is_one_event(fresh_db_url: str) -> None:
    points = json.dumps(
        [
            {"metric_type": m, "value": {"value": 1.0}, "recorded_at": "2099-01-01T00:00:00Z"}
            for m in ("cpu", "memory", "disk", "ping")
        ]
    )
    events = _changes(
        fresh_db_url, demo.BOB, ("select report_health(%s, %s)", (demo.ENV_BOB_LAPTOP, points))
    )
    assert events == [
        {
            "table": "health_checks",
            "op": "INSERT",
            "id": None,
            "team_id": str(demo.TEAM_ACME),
            "project_id": str(demo.PROJECT_STOREFRONT),
            "environment_id": str(demo.ENV_BOB_LAPTOP),
        }
    ]


def test_ids_of_membership_history_and_audit(fresh_db_url: str) -> None:
    events = _changes(
        fresh_db_url,
        demo.ERIN,
        ("select add_team_member(%s, 'mallory', 'viewer')", (demo.TEAM_ACME,)),
        (
            "select save_configuration(%s, null, 'EVENT_KEY', 'v', false, 'env_var', null)",
            (demo.PROJECT_STOREFRONT,),
        ),
    )
    by_table = {e["table"]: e for e in events}
    assert by_table["team_members"]["id"] == f"{demo.TEAM_ACME}:{demo.MALLORY.id}"
    assert by_table["team_members"]["op"] == "INSERT"
    assert by_table["configuration_history"]["id"].isdigit()
    assert by_table["audit_log"]["id"].isdigit()
    assert by_table["configurations"]["project_id"] == str(demo.PROJECT_STOREFRONT)
    assert by_table["configurations"]["environment_id"] is None
    assert all(e["team_id"] == str(demo.TEAM_ACME) for e in events)


def test_environment_delete_is_announced_with_its_ids(fresh_db_url: str) -> None:
    events = _changes(
        fresh_db_url, demo.BOB, ("delete from environments where id = %s", (demo.ENV_BOB_LAPTOP,))
    )
    env_events = [e for e in events if e["table"] == "environments"]
    assert env_events == [
        {
            "table": "environments",
            "op": "DELETE",
            "id": str(demo.ENV_BOB_LAPTOP),
            "team_id": str(demo.TEAM_ACME),
            "project_id": str(demo.PROJECT_STOREFRONT),
            "environment_id": str(demo.ENV_BOB_LAPTOP),
        }
    ]
