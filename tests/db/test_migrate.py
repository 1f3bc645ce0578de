"""The migrator: order, records, idempotence, and clean failure, on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devsync_tui import locations
from devsync_tui.backend.errors import InvalidInput, Unavailable
from devsync_tui.backend.postgres.migrate import (
    MigrationFailed,
    applied_versions,
    apply_migrations,
    drop_database,
    list_migrations,
    split_statements,
    with_database,
)

pytestmark = pytest.mark.db

_counter = itertools.count(1)

FIRST = """
-- a comment; with a semicolon
create table widget (id int primary key, label text default 'a;b');
create function widget_count() returns bigint language plpgsql as $body$
begin
    return (select count(*) from widget);  -- inside the body; not a split point
end;
$body$;
"""
SECOND = "insert into widget (id) values (1), (2);\n"
BROKEN = "create table gadget (id int);\ninsert into widget (id) values (1);\n"


@pytest.fixture
def empty_db_url(pg_superuser_url: str) -> Iterator[str]:
    """A new, empty database (no compat file, no migrations)."""
    name = f"devsync_mig{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_superuser_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield with_database(pg_superuser_url, name)
    finally:
        drop_database(pg_superuser_url, name)


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def _migrate(url: str, folder: Path) -> list[str]:
    return apply_migrations(url, supabase_compat=False, migrations_dir=folder)


def _table_exists(url: str, name: str) -> bool:
    return _rows(url, f"select to_regclass('public.{name}') is not null")[0][0] is True


def test_applies_in_version_order_and_records_like_the_supabase_cli(
    empty_db_url: str, tmp_path: Path
) -> None:
    # Written out of order on purpose; the second needs the first's table.
    folder = _write(
        tmp_path / "m",
        {"20240102000000_fill.sql": SECOND, "20240101000000_widgets.sql": FIRST, "README": "x"},
    )
    applied = _migrate(empty_db_url, folder)
    assert applied == ["20240101000000", "20240102000000"]
    assert _rows(empty_db_url, "select widget_count()") == [(2,)]
    records = _rows(
        empty_db_url,
        "select version, name, statements from supabase_migrations.schema_migrations"
        " order by version",
    )
    assert [(r[0], r[1]) for r in records] == [
        ("20240101000000", "widgets"),
        ("20240102000000", "fill"),
    ]
    first_statements = records[0][2]
    assert isinstance(first_statements, list)
    assert len(first_statements) == 2
    assert first_statements[0].startswith("-- a comment; with a semicolon\ncreate table widget")
    assert "return (select count(*) from widget);" in first_statements[1]
    assert applied_versions(empty_db_url) == ["20240101000000", "20240102000000"]


def test_running_again_applies_nothing_and_later_files_apply_alone(
    empty_db_url: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "m", {"1_widgets.sql": FIRST, "2_fill.sql": SECOND})
    assert _migrate(empty_db_url, folder) == ["1", "2"]
    assert _migrate(empty_db_url, folder) == []
    assert _rows(empty_db_url, "select count(*) from widget") == [(2,)]
    _write(folder, {"3_more.sql": "insert into widget (id) values (3);"})
    assert _migrate(empty_db_url, folder) == ["3"]
    assert _rows(empty_db_url, "select count(*) from widget") == [(3,)]


def test_broken_migration_is_rolled_back_whole_and_not_recorded(
    empty_db_url: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path / "m",
        {"1_widgets.sql": FIRST, "2_fill.sql": SECOND, "3_broken.sql": BROKEN, "4_never.sql": "x"},
    )
    with pytest.raises(MigrationFailed) as info:
        _migrate(empty_db_url, folder)
    message = str(info.value)
    assert "3_broken.sql" in message
    assert "rolled back" in message
    assert "duplicate key" in message
    assert "\n" not in message
    # The statement before the failing one in the same file did not survive...
    assert not _table_exists(empty_db_url, "gadget")
    # ...the migrations before it did, and nothing after it ran.
    assert applied_versions(empty_db_url) == ["1", "2"]
    assert _rows(empty_db_url, "select count(*) from widget") == [(2,)]

    (folder / "3_broken.sql").write_text("create table gadget (id int);", encoding="utf-8")
    (folder / "4_never.sql").write_text("insert into gadget values (4);", encoding="utf-8")
    assert _migrate(empty_db_url, folder) == ["3", "4"]
    assert _rows(empty_db_url, "select id from gadget") == [(4,)]


def test_seed_loads_only_when_migrations_were_applied(empty_db_url: str, tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"1_widgets.sql": FIRST})
    seed = tmp_path / "seed.sql"
    seed.write_text("insert into widget (id, label) values (10, 'seeded');", encoding="utf-8")
    apply_migrations(
        empty_db_url, supabase_compat=False, migrations_dir=folder, seed=True, seed_file=seed
    )
    assert _rows(empty_db_url, "select id, label from widget") == [(10, "seeded")]
    # A second run has nothing to migrate, so it does not seed twice (which would conflict).
    apply_migrations(
        empty_db_url, supabase_compat=False, migrations_dir=folder, seed=True, seed_file=seed
    )
    assert _rows(empty_db_url, "select count(*) from widget") == [(1,)]


def test_unreachable_server_is_one_sentence(tmp_path: Path) -> None:
    url = f"postgresql://postgres@/postgres?host={tmp_path}"
    with pytest.raises(Unavailable) as info:
        apply_migrations(url, supabase_compat=False, migrations_dir=_write(tmp_path / "m", {}))
    assert str(info.value).startswith("Cannot connect to the database:")
    assert "\n" not in str(info.value)


def test_missing_folder_and_duplicate_versions_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        list_migrations(tmp_path / "nowhere")
    folder = _write(tmp_path / "m", {"1_a.sql": "", "01_b.sql": "", "1_c.sql": ""})
    with pytest.raises(InvalidInput, match="share a version"):
        list_migrations(folder)


def test_split_statements_respects_quotes_comments_and_dollar_bodies() -> None:
    script = (
        "select 'a;b', \"we;ird\"; /* block; /* nested; */ still */ select E'it\\'s;';\n"
        "do $$ begin perform 1; end $$;\n-- trailing; comment only\n;;"
    )
    assert list(split_statements(script)) == [
        "select 'a;b', \"we;ird\"",
        "/* block; /* nested; */ still */ select E'it\\'s;'",
        "do $$ begin perform 1; end $$",
    ]


def test_project_migrations_are_idempotent_over_the_demo_schema(fresh_db_url: str) -> None:
    """The real compat file and migrations: re-applying to a migrated database changes nothing."""
    versions = [m.version for m in list_migrations(locations.migrations_dir())]
    assert versions, "supabase/migrations holds no migration"
    assert applied_versions(fresh_db_url) == versions
    assert apply_migrations(fresh_db_url, supabase_compat=True, seed=True) == []
    assert applied_versions(fresh_db_url) == versions


def test_concurrent_migrators_apply_each_migration_once(empty_db_url: str, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # Not idempotent on purpose: a second application would raise "already exists".
    folder = _write(tmp_path / "m", {"1_widgets.sql": FIRST, "2_fill.sql": SECOND})
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _migrate(empty_db_url, folder), range(4)))
    assert sorted(v for applied in results for v in applied) == ["1", "2"]
    assert _rows(empty_db_url, "select count(*) from widget") == [(2,)]
