"""The devsync_changes notifications the local transport listens to (docs/DATABASE.md)."""

from __future__ import annotations

import json
import threading
import time
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
        listener.execute("select private.register_change_listener()")
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


# -- notifications only while a listener is registered (migration 20261207230000) ------------

_SAVE = "select save_configuration(%s, null, %s, 'v', false, 'env_var', null)"


def _save_as_erin(url: str, key: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur, conn.transaction():
        impersonate(cur, demo.ERIN)
        cur.execute(_SAVE, (demo.PROJECT_STOREFRONT, key))


def _listeners(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("select pid from private.change_listeners")]


def test_no_notification_while_nobody_is_registered(fresh_db_url: str) -> None:
    """LISTEN alone hears nothing: writes take the commit-wide notify lock only for a
    registered listener. Registering turns the feed on; unregistering turns it off again."""
    with psycopg.connect(fresh_db_url, autocommit=True) as listener:
        listener.execute("listen devsync_changes")
        _save_as_erin(fresh_db_url, "UNHEARD_1")
        assert list(listener.notifies(timeout=0.3)) == []

        listener.execute("select private.register_change_listener()")
        _save_as_erin(fresh_db_url, "HEARD")
        heard = [json.loads(n.payload)["table"] for n in listener.notifies(timeout=0.5)]
        assert "configurations" in heard

        listener.execute("select private.unregister_change_listener()")
        assert _listeners(fresh_db_url) == []
        _save_as_erin(fresh_db_url, "UNHEARD_2")
        assert list(listener.notifies(timeout=0.3)) == []


def test_a_listener_that_vanished_is_dropped_by_the_next_registration(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as gone:
        gone.execute("select private.register_change_listener()")
        gone_pid = gone.info.backend_pid
    # Closed without unregistering (a crash): its row stays until someone registers.
    deadline = time.monotonic() + 5
    with psycopg.connect(fresh_db_url, autocommit=True) as admin:
        while (
            admin.execute("select 1 from pg_stat_activity where pid = %s", (gone_pid,)).fetchone()
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
    assert _listeners(fresh_db_url) == [gone_pid]
    with psycopg.connect(fresh_db_url, autocommit=True) as new:
        new.execute("select private.register_change_listener()")
        assert _listeners(fresh_db_url) == [new.info.backend_pid]


def test_registration_waits_for_writes_that_did_not_notify(fresh_db_url: str) -> None:
    """A write whose trigger found no listener is committed before registration returns, so
    what the new listener reads next holds it; a write under way longer than one lock attempt
    (200 ms) neither fails the registration nor stops other writers meanwhile."""
    writer = psycopg.connect(fresh_db_url)
    try:
        with writer.cursor() as cur:
            impersonate(cur, demo.ERIN)
            cur.execute(_SAVE, (demo.PROJECT_STOREFRONT, "IN_FLIGHT"))  # not committed yet
        registered = threading.Event()

        def register() -> None:
            with psycopg.connect(fresh_db_url, autocommit=True) as listener:
                listener.execute("select private.register_change_listener()")
                registered.set()

        thread = threading.Thread(target=register)
        thread.start()
        time.sleep(0.6)  # past two lock attempts
        assert not registered.is_set()
        started = time.monotonic()
        _save_as_erin(fresh_db_url, "MEANWHILE")  # another writer is not stalled for long
        assert time.monotonic() - started < 3.0
        assert not registered.is_set()
        writer.commit()
        thread.join(timeout=10)
        assert registered.is_set()
    finally:
        writer.close()
