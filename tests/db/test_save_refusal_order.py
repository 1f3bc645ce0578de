"""``…20261206060000_save_configuration_one_pass`` changed how ``private.write_configuration``
finds the row it saves over (the UPDATE checks the version itself; the row is looked up only
after a miss). Every refusal must stay what it was, in the same order: each case runs against
the definitions of the migration before it (``…20261206030000_save_configuration_lean``) and
against the current ones, on the same database, and must raise the same SQLSTATE, message,
detail and hint, and write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.db.helpers import impersonate
from tests.support import demo

pytestmark = pytest.mark.db

_MIGRATIONS = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
BEFORE = _MIGRATIONS / "20261206030000_save_configuration_lean.sql"
NOW = _MIGRATIONS / "20261206060000_save_configuration_one_pass.sql"

S = demo.PROJECT_STOREFRONT
NO_PROJECT = UUID("00000000-0000-4000-c000-00000000ffff")
SAVE = "select * from save_configuration(%s, %s, %s, %s, %s, %s, %s)"
WRITE = "select * from private.write_configuration(%s, %s, %s, %s, %s, %s, %s)"

#: (as whom — None: the login role, calling the internal writer —, statement, arguments);
#: ``{v}`` in an argument is the stored version of the project default FEATURE_FLAGS, ``{ld}``
#: the one of LD_PRELOAD (an execution-control key the test creates first).
CASES: dict[str, tuple[demo.DemoUser | None, str, tuple[Any, ...]]] = {
    "stale version": (demo.ALICE, SAVE, (S, None, "FEATURE_FLAGS", "x", False, "env_var", 999)),
    "stale version of a secret": (
        demo.ALICE,
        SAVE,
        (S, None, "FEATURE_FLAGS", "x", True, "env_var", 999),
    ),
    "no row, default scope": (demo.ALICE, SAVE, (S, None, "NO_SUCH_KEY", "x", False, "env_var", 1)),
    "no row, environment of another project": (
        demo.ALICE,
        SAVE,
        (S, demo.ENV_ALICE_MBP, "NO_SUCH_KEY", "x", False, "env_var", 1),
    ),
    "no row, no such environment": (
        demo.ALICE,
        SAVE,
        (S, UUID("00000000-0000-4000-d000-00000000ffff"), "NO_SUCH_KEY", "x", False, "file", 3),
    ),
    "exists already": (demo.ALICE, SAVE, (S, None, "FEATURE_FLAGS", "x", False, "env_var", None)),
    "bad key before the version": (demo.ALICE, SAVE, (S, None, "1BAD", "x", False, "env_var", 999)),
    "bad value before the version": (
        demo.ALICE,
        SAVE,
        (S, None, "FEATURE_FLAGS", "a\x01b", False, "env_var", 999),
    ),
    "viewer before the version": (
        demo.CAROL,
        SAVE,
        (S, None, "FEATURE_FLAGS", "x", False, "env_var", "{v}"),
    ),
    "execution control, member, current version": (
        demo.BOB,
        SAVE,
        (S, None, "LD_PRELOAD", "x", False, "env_var", "{ld}"),
    ),
    "no project, over a version": (None, WRITE, (NO_PROJECT, None, "K", "x", False, "env_var", 1)),
    "no project before no environment": (
        None,
        WRITE,
        (NO_PROJECT, demo.ENV_STAGING, "K", "x", False, "env_var", 1),
    ),
    "no project, creating": (None, WRITE, (NO_PROJECT, None, "K", "x", False, "env_var", None)),
}


def _version(cur: psycopg.Cursor[Any], key: str) -> int:
    row = cur.execute(
        "select version from configurations where project_id = %s"
        " and environment_id is null and key = %s",
        (S, key),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _run(
    conn: psycopg.Connection[Any], user: demo.DemoUser | None, query: str, args: tuple[Any, ...]
) -> None:
    with conn.transaction(), conn.cursor() as cur:
        if user is not None:
            impersonate(cur, user)
        cur.execute(query, args)


def _refusal(url: str, user: demo.DemoUser | None, query: str, args: tuple[Any, ...]) -> Any:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        stored = {"{v}": _version(cur, "FEATURE_FLAGS"), "{ld}": _version(cur, "LD_PRELOAD")}
        args = tuple(stored.get(a, a) if isinstance(a, str) else a for a in args)
        history = cur.execute("select count(*) from configuration_history").fetchone()
        with pytest.raises(psycopg.Error) as caught:
            _run(conn, user, query, args)
        assert cur.execute("select count(*) from configuration_history").fetchone() == history
    diag = caught.value.diag
    detail = json.loads(diag.message_detail) if diag.sqlstate == "PT409" else diag.message_detail
    return (diag.sqlstate, diag.message_primary, detail, diag.message_hint)


@pytest.mark.parametrize("case", CASES)
def test_each_refusal_is_the_one_of_the_migration_before(fresh_db_url: str, case: str) -> None:
    user, query, args = CASES[case]
    with psycopg.connect(fresh_db_url, autocommit=True) as admin:
        admin.execute(WRITE, (S, None, "LD_PRELOAD", "/x.so", False, "env_var", None))
        admin.execute(BEFORE.read_text())
    before = _refusal(fresh_db_url, user, query, args)
    with psycopg.connect(fresh_db_url, autocommit=True) as admin:
        admin.execute(NOW.read_text())
    now = _refusal(fresh_db_url, user, query, args)
    assert now == before
    assert before[0] in {"PT409", "P0002", "23505", "22023", "42501"}


def test_a_save_over_the_current_version_writes_one_version(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn, conn.cursor() as cur:
        row = cur.execute(
            "select id, version from configurations where project_id = %s"
            " and environment_id is null and key = 'FEATURE_FLAGS'",
            (S,),
        ).fetchone()
        assert row is not None
        config_id, version = row
        with conn.transaction():
            impersonate(cur, demo.ALICE)
            saved = cur.execute(
                "select id, version, value, is_secret from save_configuration("
                "%s, null, 'FEATURE_FLAGS', 'now', false, 'env_var', %s)",
                (S, version),
            ).fetchone()
        assert saved == (config_id, version + 1, "now", False)
        versions = cur.execute(
            "select version from configuration_history where configuration_id = %s"
            " and version > %s order by id",
            (config_id, version),
        ).fetchall()
        assert versions == [(version + 1,)]
