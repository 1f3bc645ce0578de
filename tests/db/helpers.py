"""Impersonation exactly as PostgREST does it, and small query helpers for the database suite.

PostgREST runs, inside the request transaction,
``select set_config('role', <role>, true), set_config('request.jwt.claims', <claims>, true),
set_config('request.headers', <headers>, true)``; we do the same on a superuser connection, so
RLS, grants, ``auth.uid()`` and the machine token header behave as they do behind the API.
``acting_as`` always rolls back.

A machine (PERMISSIONS.md "machine") is anon plus the header ``x-devsync-token``; the tokens
of the ``machine*`` identities are stored by :func:`install_machine_tokens`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from devsync_tui import locations
from devsync_tui.backend.postgres.migrate import apply_migrations, drop_database, with_database
from tests.support import demo

Conn = psycopg.Connection[tuple[Any, ...]]
Cur = psycopg.Cursor[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Machine:
    """A machine token as a request presents it: the anon key plus ``x-devsync-token``."""

    token_id: UUID
    token: str
    environment_id: UUID
    created_by: demo.DemoUser
    state: str  # "valid", "expired" or "revoked"


def _token(seed: str) -> str:
    return "dsm_" + hashlib.sha256(seed.encode()).hexdigest()


#: bob's laptop as a machine (token made by bob, its owner), the same with an expired and a
#: revoked token, staging (erin's) as a machine, and a token alice (an admin) made for bob's
#: laptop (not an identity of the matrix: the one only admins may revoke).
MACHINE = Machine(
    UUID("00000000-0000-4000-f000-000000000001"),
    _token("bob-laptop"),
    demo.ENV_BOB_LAPTOP,
    demo.BOB,
    "valid",
)
MACHINE_EXPIRED = Machine(
    UUID("00000000-0000-4000-f000-000000000002"),
    _token("bob-laptop expired"),
    demo.ENV_BOB_LAPTOP,
    demo.BOB,
    "expired",
)
MACHINE_REVOKED = Machine(
    UUID("00000000-0000-4000-f000-000000000003"),
    _token("bob-laptop revoked"),
    demo.ENV_BOB_LAPTOP,
    demo.BOB,
    "revoked",
)
MACHINE_STAGING = Machine(
    UUID("00000000-0000-4000-f000-000000000004"),
    _token("staging"),
    demo.ENV_STAGING,
    demo.ERIN,
    "valid",
)
MACHINE_BY_ALICE = Machine(
    UUID("00000000-0000-4000-f000-000000000005"),
    _token("bob-laptop by alice"),
    demo.ENV_BOB_LAPTOP,
    demo.ALICE,
    "valid",
)
MACHINES = (MACHINE, MACHINE_EXPIRED, MACHINE_REVOKED, MACHINE_STAGING, MACHINE_BY_ALICE)

Identity = demo.DemoUser | Machine | None

#: The identities of PERMISSIONS.md: demo users, None = anon (no session), and machines.
IDENTITIES: dict[str, Identity] = {
    "anon": None,
    "outsider": demo.MALLORY,
    "viewer": demo.CAROL,
    "member": demo.DAVE,
    "env_owner": demo.BOB,
    "admin": demo.ERIN,
    "owner": demo.ALICE,
    "machine": MACHINE,
    "machine_expired": MACHINE_EXPIRED,
    "machine_revoked": MACHINE_REVOKED,
    "machine_other_env": MACHINE_STAGING,
}
USERS = frozenset(k for k, v in IDENTITIES.items() if isinstance(v, demo.DemoUser))
SIGNED_IN = USERS
MEMBERS = frozenset({"viewer", "member", "env_owner", "admin", "owner"})
WRITERS = frozenset({"member", "env_owner", "admin", "owner"})
ADMINS = frozenset({"admin", "owner"})
#: Machines whose token is accepted (each acts for its own environment).
VALID_MACHINES = frozenset({"machine", "machine_other_env"})


def install_machine_tokens(conn: Conn) -> None:
    """Store the tokens of :data:`MACHINES` (as superuser; only their hashes, as the RPC
    does). Idempotent."""
    for m in MACHINES:
        conn.execute(
            "insert into machine_tokens (id, project_id, environment_id, name, token_hash,"
            " created_by, created_at, expires_at, revoked_at, revoked_by)"
            " values (%s, %s, %s, %s, sha256(convert_to(%s, 'UTF8')), %s,"
            " now() - interval '2 days',"
            " case when %s = 'expired' then now() - interval '1 day' end,"
            " case when %s = 'revoked' then now() - interval '1 hour' end,"
            " case when %s = 'revoked' then %s::uuid end)"
            " on conflict (id) do nothing",
            (
                m.token_id,
                demo.PROJECT_STOREFRONT,
                m.environment_id,
                f"{m.state} token of {m.created_by.username}",
                m.token,
                m.created_by.id,
                m.state,
                m.state,
                m.state,
                m.created_by.id,
            ),
        )


def claims_for(user: Identity) -> dict[str, Any]:
    """The JWT claims GoTrue would issue (anon key, machines too: just the role)."""
    if not isinstance(user, demo.DemoUser):
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


def headers_for(user: Identity) -> dict[str, str]:
    """The request headers PostgREST would hand to SQL (lowercase names)."""
    headers = {"apikey": "anon-key", "content-type": "application/json", "accept": "*/*"}
    if isinstance(user, Machine):
        headers["x-devsync-token"] = user.token
    return headers


def impersonate(cur: Cur, user: Identity) -> None:
    """Switch the current transaction to ``user`` the way PostgREST does."""
    role = "authenticated" if isinstance(user, demo.DemoUser) else "anon"
    cur.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
        " set_config('request.headers', %s, true)",
        (role, json.dumps(claims_for(user)), json.dumps(headers_for(user))),
    )


@contextmanager
def acting_as(conn: Conn, user: Identity) -> Iterator[Cur]:
    """A rolled-back transaction in which ``user`` is signed in."""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        impersonate(cur, user)
        yield cur


def try_sql(cur: Cur, query: str, params: Any = None) -> list[tuple[Any, ...]] | None:
    """Run ``query`` under a savepoint: its rows, or None when it raised 42501 (or PT401: a
    machine token refused)."""
    try:
        with cur.connection.transaction():
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    except psycopg.errors.InsufficientPrivilege:
        return None
    except psycopg.DatabaseError as exc:
        if exc.sqlstate == "PT401":
            return None
        raise


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


#: The documented slot averages computed plainly from the points (run as superuser:
#: private.health_number is not granted to users): one row per environment, metric and slot
#: with a point — (environment_id, metric_type, slot, average, count). ``health_sparklines``
#: answers the same as arrays (``reference_sparklines``).
HEALTH_SLOTS_REFERENCE = """
select c.environment_id, c.metric_type,
       least(%(slots)s - 1, floor(date_part('epoch', c.recorded_at - %(since)s) * %(slots)s
             / date_part('epoch', %(until)s - %(since)s))::integer) as slot,
       avg(private.health_number(c.value)), count(*)::integer
from public.health_checks c
where c.environment_id = any(%(ids)s) and c.recorded_at between %(since)s and %(until)s
  and private.health_number(c.value) is not null
group by 1, 2, 3
order by 1, 2, 3
"""

#: ``health_sparklines`` for the parameters of ``HEALTH_SLOTS_REFERENCE``.
SPARKLINES = "select * from public.health_sparklines(%(ids)s, %(since)s, %(slots)s, %(until)s)"


def reference_sparklines(
    conn: psycopg.Connection[Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """``HEALTH_SLOTS_REFERENCE`` in the shape of ``health_sparklines``' rows: (environment_id,
    metric_type, since, slot_seconds, averages, counts) for each environment and metric with a
    point in the window, in that order; an empty slot is None / 0, and an environment or metric
    without any point has no row."""
    slots = params["slots"]
    found: dict[tuple[Any, Any], tuple[list[float | None], list[int]]] = {}
    for env, metric, slot, value, n in conn.execute(HEALTH_SLOTS_REFERENCE, params).fetchall():
        averages, counts = found.setdefault((env, metric), ([None] * slots, [0] * slots))
        averages[slot], counts[slot] = value, n
    width = (params["until"] - params["since"]).total_seconds() / slots
    return [
        (env, metric, params["since"], width, averages, counts)
        for (env, metric), (averages, counts) in found.items()
    ]


def assert_same_sparklines(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    """Rows of ``health_sparklines`` against ``reference_sparklines``: the same environments,
    metrics, window and counts, the same empty slots, averages equal but for the last bits of a
    double (another summing order)."""
    assert [(e, m, s, c) for e, m, s, _, _, c in got] == [
        (e, m, s, c) for e, m, s, _, _, c in expected
    ]
    for row, want in zip(got, expected, strict=True):
        assert row[3] == pytest.approx(want[3], rel=1e-12)
        assert len(row[4]) == len(want[4])
        assert [v is None for v in row[4]] == [v is None for v in want[4]]
        assert row[4] == pytest.approx(want[4], rel=1e-12)


_before_counter = itertools.count(1)


@contextmanager
def demo_before(superuser_url: str, folder: Path, migration: str) -> Iterator[str]:
    """A new demo database migrated up to just before ``migration`` (a version prefix) and
    seeded; its URL. Apply the rest with ``apply_migrations(url)``. Dropped afterwards;
    ``folder`` holds the copied migrations."""
    name = f"devsync_before{os.getpid()}_{next(_before_counter)}"
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(superuser_url, name)
    try:
        before = folder / "before"
        before.mkdir()
        for path in sorted(locations.migrations_dir().glob("*.sql")):
            if path.name < migration:
                shutil.copy(path, before / path.name)
        apply_migrations(url, supabase_compat=True, migrations_dir=before, seed=True)
        yield url
    finally:
        drop_database(superuser_url, name)
