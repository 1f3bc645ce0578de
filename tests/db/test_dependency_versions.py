"""Every version a machine runs is a row (migration ``…120000_dependency_versions``): several
versions of one package side by side, each with its kind; a report replaces the version set;
rows stored before the migration carry over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devsync_tui import locations
from devsync_tui.backend.postgres.migrate import apply_migrations
from tests.db.helpers import Conn, Cur, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BOB_ENV = demo.ENV_BOB_LAPTOP
MIGRATION = "20261205120000"


@pytest.fixture
def cur(su: Conn) -> Any:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _pkg(name: str, version: str | None, **extra: Any) -> dict[str, Any]:
    return {"package_manager": "npm", "package_name": name, "resolved_version": version, **extra}


def _report(cur: Cur, packages: list[dict[str, Any]]) -> int:
    cur.execute("select report_dependencies(%s, %s, %s)", (S, BOB_ENV, json.dumps(packages)))
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def _stored(cur: Cur) -> list[tuple[Any, ...]]:
    cur.execute(
        "select package_name, resolved_version, kind, status from dependencies"
        " where environment_id = %s order by 1, 2 nulls first",
        (BOB_ENV,),
    )
    return cur.fetchall()


def test_every_version_and_its_kind_is_a_row(cur: Cur) -> None:
    impersonate(cur, demo.BOB)
    packages = [
        _pkg("lodash", "4.17.21"),
        _pkg("lodash", "4.17.11", status="vulnerable"),
        _pkg("app", "1.0.0", kind="workspace"),
        _pkg("local-lib", None, kind="path"),
        _pkg("fork", "git+https://github.com/o/fork.git#abc", kind="git"),
    ]
    assert _report(cur, packages) == 5
    assert _stored(cur) == [
        ("app", "1.0.0", "workspace", "healthy"),
        ("fork", "git+https://github.com/o/fork.git#abc", "git", "healthy"),
        ("local-lib", None, "path", "healthy"),
        ("lodash", "4.17.11", "registry", "vulnerable"),
        ("lodash", "4.17.21", "registry", "healthy"),
    ]
    # the nested copy goes, the other version stays (the same row: no change event)
    cur.execute(
        "select xmin::text from dependencies where environment_id = %s"
        " and package_name = 'lodash' and resolved_version = '4.17.21'",
        (BOB_ENV,),
    )
    before = cur.fetchone()
    assert _report(cur, [_pkg("lodash", "4.17.21")]) == 1
    cur.execute(
        "select xmin::text from dependencies where environment_id = %s"
        " and package_name = 'lodash' and resolved_version = '4.17.21'",
        (BOB_ENV,),
    )
    assert cur.fetchone() == before
    assert _stored(cur) == [("lodash", "4.17.21", "registry", "healthy")]


def test_a_bad_kind_is_refused_and_nothing_is_written(cur: Cur) -> None:
    impersonate(cur, demo.BOB)
    before = _stored(cur)
    with (
        pytest.raises(psycopg.errors.InvalidParameterValue, match="kind of package x"),
        cur.connection.transaction(),
    ):
        _report(cur, [_pkg("ok", "1.0.0"), _pkg("x", "1.0.0", kind="magic")])
    assert _stored(cur) == before


def test_the_list_index_serves_the_project_order(cur: Cur) -> None:
    cur.execute(
        "select indexdef from pg_indexes where indexname = 'dependencies_project_package_idx'"
    )
    row = cur.fetchone()
    assert row is not None
    assert '(project_id, package_manager, package_name COLLATE "C"' in str(row[0])


def test_rows_stored_before_the_migration_carry_over(pg_superuser_url: str, tmp_path: Path) -> None:
    """Apply the migrations before this one, store the old shape, then apply the rest."""
    from devsync_tui.backend.postgres.migrate import drop_database, with_database

    older, newer = tmp_path / "older", tmp_path / "newer"
    older.mkdir()
    newer.mkdir()
    for path in sorted(locations.migrations_dir().glob("*.sql")):
        shutil.copy(path, (older if path.name < MIGRATION else newer) / path.name)
        shutil.copy(path, newer / path.name)
    name = f"devsync_t_versions_{tmp_path.name[-8:]}".replace("-", "_")
    with psycopg.connect(pg_superuser_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')  # type: ignore[arg-type]
    url = with_database(pg_superuser_url, name)
    try:
        apply_migrations(url, supabase_compat=True, migrations_dir=older, seed=True)
        with psycopg.connect(url) as conn:
            old = conn.execute(
                "select id, environment_id, package_name, resolved_version, status"
                " from dependencies order by id"
            ).fetchall()
        assert old
        assert apply_migrations(url, supabase_compat=True, migrations_dir=newer)[0] == MIGRATION
        with psycopg.connect(url) as conn:
            new = conn.execute(
                "select id, environment_id, package_name, resolved_version, status, kind"
                " from dependencies order by id"
            ).fetchall()
        assert [r[:5] for r in new] == old
        assert {r[5] for r in new} == {"registry"}
    finally:
        drop_database(pg_superuser_url, name)
