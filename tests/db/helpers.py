"""Impersonation exactly as PostgREST does it, and small query helpers for the database suite.

PostgREST runs, inside the request transaction,
``select set_config('role', <role>, true), set_config('request.jwt.claims', <claims>, true)``;
we do the same on a superuser connection, so RLS, grants and ``auth.uid()`` behave as they do
behind the API. ``acting_as`` always rolls back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

from tests.support import demo

Conn = psycopg.Connection[tuple[Any, ...]]
Cur = psycopg.Cursor[tuple[Any, ...]]

#: The identities of PERMISSIONS.md, as demo users (None = anon, no session).
IDENTITIES: dict[str, demo.DemoUser | None] = {
    "anon": None,
    "outsider": demo.MALLORY,
    "viewer": demo.CAROL,
    "member": demo.DAVE,
    "env_owner": demo.BOB,
    "admin": demo.ERIN,
    "owner": demo.ALICE,
}
SIGNED_IN = frozenset(k for k in IDENTITIES if k != "anon")
MEMBERS = frozenset({"viewer", "member", "env_owner", "admin", "owner"})
WRITERS = frozenset({"member", "env_owner", "admin", "owner"})
ADMINS = frozenset({"admin", "owner"})


def claims_for(user: demo.DemoUser | None) -> dict[str, Any]:
    """The JWT claims GoTrue would issue (anon key: just the role)."""
    if user is None:
        return {"role": "anon", "iss": "supabase"}
    return {
        "sub": str(user.id),
        "role": "authenticated",
        "aud": "authenticated",
        "email": user.email,
        "app_metadata": {"provider": "email"},
        "user_metadata": {},
        "is_anonymous": False,
    }


def impersonate(cur: Cur, user: demo.DemoUser | None) -> None:
    """Switch the current transaction to ``user`` the way PostgREST does."""
    role = "anon" if user is None else "authenticated"
    cur.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, json.dumps(claims_for(user))),
    )


@contextmanager
def acting_as(conn: Conn, user: demo.DemoUser | None) -> Iterator[Cur]:
    """A rolled-back transaction in which ``user`` is signed in."""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        impersonate(cur, user)
        yield cur


def try_sql(cur: Cur, query: str, params: Any = None) -> list[tuple[Any, ...]] | None:
    """Run ``query`` under a savepoint: its rows, or None when it raised 42501."""
    try:
        with cur.connection.transaction():
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    except psycopg.errors.InsufficientPrivilege:
        return None


def config_id(conn: Conn, project: UUID, env: UUID | None, key: str) -> UUID:
    """Id of a configuration (looked up as superuser)."""
    row = conn.execute(
        "select id from configurations where project_id = %s"
        " and environment_id is not distinct from %s and key = %s",
        (project, env, key),
    ).fetchone()
    assert row is not None, f"no configuration {key} in {project}/{env}"
    return UUID(str(row[0]))


def secret_value(conn: Conn, configuration_id: UUID) -> str:
    """The stored secret value (superuser), to search for it where it must not appear."""
    row = conn.execute(
        "select value from configuration_secrets where configuration_id = %s",
        (configuration_id,),
    ).fetchone()
    assert row is not None
    return str(row[0])
