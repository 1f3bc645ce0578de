"""The vanilla-Postgres stand-in for Supabase (devsync_tui/sql/supabase_compat.sql)."""

from __future__ import annotations

import json

import psycopg
import pytest

from devsync_tui import locations
from tests.db.helpers import Conn
from tests.support import demo

pytestmark = pytest.mark.db


def test_compat_file_is_idempotent(fresh_db_url: str) -> None:
    text = (locations.sql_dir() / "supabase_compat.sql").read_text(encoding="utf-8")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(text.encode())  # roles, schema, table, functions, publication all exist
        conn.execute(text.encode())
        row = conn.execute(
            "select count(*) from pg_roles where rolname in"
            " ('anon', 'authenticated', 'service_role', 'authenticator')"
        ).fetchone()
        assert row == (4,)
        row = conn.execute(
            "select rolbypassrls from pg_roles where rolname = 'service_role'"
        ).fetchone()
        assert row == (True,)


def test_auth_helpers_read_postgrest_claims(su: Conn) -> None:
    claims = {"sub": str(demo.BOB.id), "role": "authenticated", "email": demo.BOB.email}
    with su.transaction(force_rollback=True), su.cursor() as cur:
        cur.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt()")
        assert cur.fetchone() == (None, None, None, None)
        cur.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        cur.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt() ->> 'sub'")
        assert cur.fetchone() == (demo.BOB.id, "authenticated", demo.BOB.email, str(demo.BOB.id))
        # the legacy per-claim setting still wins, as in Supabase's coalesce versions
        cur.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(demo.ALICE.id),))
        cur.execute("select auth.uid()")
        assert cur.fetchone() == (demo.ALICE.id,)
        # after a PostgREST request the settings read as '' (not NULL)
        cur.execute(
            "select set_config('request.jwt.claim.sub', '', true),"
            " set_config('request.jwt.claims', '', true)"
        )
        cur.execute("select auth.uid(), auth.jwt()")
        assert cur.fetchone() == (None, None)


def test_auth_users_is_closed_to_api_roles(su: Conn) -> None:
    for role in ("anon", "authenticated"):
        row = su.execute(
            "select has_table_privilege(%s, 'auth.users', 'select')", (role,)
        ).fetchone()
        assert row == (False,)


def test_the_realtime_stand_in_evaluates_topic_policies_and_sends(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("listen devsync_realtime")
        with conn.transaction():
            row = conn.execute(
                "select set_config('realtime.topic', 'room', true), realtime.topic()"
            ).fetchone()
            assert row == ("room", "room")
        assert conn.execute("select realtime.topic()").fetchone() == (None,)
        conn.execute("""select realtime.send('{"a": 1}'::jsonb, 'ev', 'room', true)""")
        (note,) = list(conn.notifies(timeout=0.5, stop_after=1))
        assert json.loads(note.payload) == {
            "topic": "room", "event": "ev", "payload": {"a": 1}, "private": True
        }  # fmt: skip
        row = conn.execute(
            "select relrowsecurity from pg_class where oid = 'realtime.messages'::regclass"
        ).fetchone()
        assert row == (True,)
        for role in ("anon", "authenticated"):
            row = conn.execute(
                "select has_function_privilege(%s, 'realtime.send(jsonb, text, text, boolean)',"
                " 'execute')",
                (role,),
            ).fetchone()
            assert row == (False,)
