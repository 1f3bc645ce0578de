"""Execution-control variables in the database (migration 20261205100200_execution_control):
the one list agrees with core/execution_control.py, matches any case, and a refused write
leaves nothing behind. Who may do what is in the permission matrix (matrix_cells_exec.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.postgres.migrate import apply_migrations
from devsync_tui.core.execution_control import (
    EXECUTION_CONTROL_FILE_NAMES,
    EXECUTION_CONTROL_FOLDERS,
    EXECUTION_CONTROL_NAMES,
    EXECUTION_CONTROL_PREFIXES,
    is_execution_control,
)
from tests.db.helpers import Conn, Cur, acting_as, config_id, demo_before, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BOB_ENV = demo.ENV_BOB_LAPTOP
EXEC_MIGRATION = "20261205100200"


def test_the_python_list_is_the_sql_list(su: Conn) -> None:
    row = su.execute(
        "select private.execution_control_names(), private.execution_control_prefixes(),"
        " private.execution_control_folders(), private.execution_control_file_names()"
    ).fetchone()
    assert row is not None
    assert list(row[0]) == list(EXECUTION_CONTROL_NAMES)
    assert list(row[1]) == list(EXECUTION_CONTROL_PREFIXES)
    assert list(row[2]) == list(EXECUTION_CONTROL_FOLDERS)
    assert list(row[3]) == list(EXECUTION_CONTROL_FILE_NAMES)


CASES = [
    *((name, "env_var", True) for name in EXECUTION_CONTROL_NAMES),
    *((name.lower(), "env_var", True) for name in EXECUTION_CONTROL_NAMES),
    ("Path", "env_var", True),
    ("PyThOnPaTh", "env_var", True),
    ("DYLD_INSERT_LIBRARIES", "env_var", True),
    ("dyld_library_path", "env_var", True),
    ("GIT_CONFIG_GLOBAL", "env_var", True),
    ("GIT_CONFIG_KEY_0", "env_var", True),
    ("PATH", "file", False),
    ("NODE_OPTIONS", "file", False),
    ("PATH_PREFIX", "env_var", False),
    ("MY_PATH", "env_var", False),
    ("DYLD", "env_var", False),
    ("GIT_CONFIGURED", "env_var", False),
    ("NODE_ENV", "env_var", False),
    ("DATABASE_URL", "env_var", False),
    # files, by path: folders tools run from, dotenv files, names that run code (any case)
    (".git/config", "file", True),
    (".git/hooks/pre-commit", "file", True),
    ("sub/.GIT/config", "file", True),
    (".envrc", "file", True),
    (".env", "file", True),
    (".env.local", "file", True),
    ("config/dev.env", "file", True),
    ("config/DEV.ENV", "file", True),
    (".npmrc", "file", True),
    (".yarnrc.yml", "file", True),
    (".cargo/config.toml", "file", True),
    (".vscode/tasks.json", "file", True),
    ("sub/.Husky/pre-commit", "file", True),
    (".git", "file", True),
    (".nvmrc", "file", False),
    (".python-version", "file", False),
    ("app/.hidden/settings.json", "file", False),
    ("gradle.properties", "file", True),
    ("gradle/wrapper/Gradle-Wrapper.properties", "file", True),
    ("config/app.json", "file", False),
    ("settings.toml", "file", False),
    ("package.json", "file", False),
    ("config/env", "file", False),
    ("config/app.env.json", "file", False),
    ("a.b/c.txt", "file", False),
    (".npmrc", "env_var", False),
    # as Windows opens them: trailing dots and spaces, NTFS streams; leading spaces
    (".npmrc.", "file", True),
    (".npmrc ", "file", True),
    (".git./config", "file", True),
    (".git /config", "file", True),
    (" .git/config", "file", True),
    (".npmrc::$DATA", "file", True),
    (".git:config", "file", True),
    ("config/dev.env.", "file", True),
    ("a:b.txt", "file", False),
]


@pytest.mark.parametrize(("key", "type_", "expected"), CASES)
def test_python_and_sql_classify_every_key_alike(
    su: Conn, key: str, type_: str, expected: bool
) -> None:
    row = su.execute("select private.is_execution_control(%s, %s)", (key, type_)).fetchone()
    assert row == (expected,)
    assert is_execution_control(key, type_) is expected


@pytest.fixture
def cur(su: Conn) -> Iterator[Cur]:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _state(cur: Cur) -> tuple[Any, ...]:
    cur.execute(
        "select (select count(*) from configurations), (select count(*) from"
        " configuration_history), (select count(*) from audit_log),"
        " (select coalesce(sum(version), 0) from configurations)"
    )
    row = cur.fetchone()
    assert row is not None
    return row


def test_a_refused_write_leaves_nothing_behind(cur: Cur) -> None:
    cur.execute(
        "select private.write_configuration(%s, null, 'NODE_OPTIONS', '--max-old-space-size=1',"
        " false, 'env_var', null)",
        (S,),
    )
    before = _state(cur)
    impersonate(cur, demo.BOB)
    for statement in (
        "select save_configuration(%s, null, 'NODE_OPTIONS', '--require=/tmp/x.js', false,"
        " 'env_var', 1)",
        "select save_configuration(%s, %s, 'LD_PRELOAD', '/tmp/x.so', false, 'env_var', null)",
    ):
        params = (S,) if statement.count("%s") == 1 else (S, BOB_ENV)
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege) as caught,
            cur.connection.transaction(),
        ):
            cur.execute(statement, params)
        message = caught.value.diag.message_primary or ""
        assert "only team admins" in message
        assert "/tmp/x" not in str(caught.value)  # never the value
    cur.execute("reset role")
    assert _state(cur) == before


def test_a_member_may_not_write_a_file_that_runs_code_on_pull(cur: Cur) -> None:
    # env pull writes a file configuration at its path in the checkout: .git/config with a
    # core.fsmonitor would run on the admin's next `git status`.
    before = _state(cur)
    impersonate(cur, demo.BOB)
    for key in (".git/config", ".npmrc", "config/dev.env", ".vscode/tasks.json"):
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege) as caught,
            cur.connection.transaction(),
        ):
            cur.execute(
                "select save_configuration(%s, null, %s, '[core]\n\tfsmonitor = evil', false,"
                " 'file', (select version from configurations where project_id = %s"
                " and environment_id is null and key = %s))",
                (S, key, S, key),
            )
        assert f"only team admins may set or change {key}" in str(caught.value)
        assert "fsmonitor" not in str(caught.value)
    cur.execute("reset role")
    assert _state(cur) == before
    impersonate(cur, demo.BOB)  # an ordinary file stays the members'
    cur.execute(
        "select version from save_configuration(%s, null, 'config/app.json', '{}', false,"
        " 'file', (select version from configurations where project_id = %s"
        " and environment_id is null and key = 'config/app.json'))",
        (S, S),
    )
    assert cur.fetchone() is not None
    impersonate(cur, demo.ERIN)  # an admin may
    cur.execute(
        "select version from save_configuration(%s, null, '.envrc', 'dotenv', false, 'file', null)",
        (S,),
    )
    assert cur.fetchone() == (1,)


def test_an_admin_may_and_the_change_is_recorded(cur: Cur) -> None:
    impersonate(cur, demo.ERIN)
    cur.execute(
        "select version from save_configuration(%s, %s, 'PATH', '/opt/bin:/usr/bin', false,"
        " 'env_var', null)",
        (S, BOB_ENV),
    )
    assert cur.fetchone() == (1,)
    cur.execute("select count(*) from audit_log where details ->> 'key' = 'PATH'")
    assert cur.fetchone() == (1,)


def test_the_env_owner_still_deletes_an_environment_holding_one(su: Conn) -> None:
    su.execute(
        "select private.write_configuration(%s, %s, 'PATH', '/opt/bin', false, 'env_var', null)",
        (S, BOB_ENV),
    )
    try:
        with acting_as(su, demo.BOB) as cur:
            cur.execute("delete from environments where id = %s returning id", (BOB_ENV,))
            assert cur.fetchone() is not None
    finally:
        su.execute(
            "delete from configurations where environment_id = %s and key = 'PATH'", (BOB_ENV,)
        )


def test_a_template_of_another_team_may_not_bring_them(cur: Cur) -> None:
    # mallory's own team, with a public template that sets NODE_OPTIONS
    impersonate(cur, demo.MALLORY)
    cur.execute("select id from create_team('Evil', 'evil')")
    team = cur.fetchone()
    assert team is not None
    cur.execute("insert into projects (team_id, name) values (%s, 'bait') returning id", team)
    project = cur.fetchone()
    assert project is not None
    cur.execute(
        "insert into env_templates (project_id, name, config_json, is_public, created_by)"
        ' values (%s, \'Handy\', \'{"NODE_OPTIONS": "--require=/tmp/x.js", "A": "1"}\','
        " true, auth.uid()) returning id",
        project,
    )
    template = cur.fetchone()
    assert template is not None
    impersonate(cur, demo.ALICE)  # even an admin of Acme
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege) as caught,
        cur.connection.transaction(),
    ):
        cur.execute("select create_environment(%s, 'new', %s)", (S, template[0]))
    assert "NODE_OPTIONS" in str(caught.value)
    # a public template without such keys still works
    impersonate(cur, demo.MALLORY)
    cur.execute(
        'update env_templates set config_json = \'{"A": "1"}\' where id = %s returning id',
        template,
    )
    assert cur.fetchone() is not None
    impersonate(cur, demo.ALICE)
    cur.execute("select name from create_environment(%s, 'new', %s)", (S, template[0]))
    assert cur.fetchone() == ("new",)


_counter = itertools.count(1)


@pytest.fixture
def upgraded_db(pg_superuser_url: str, tmp_path: Path) -> Iterator[str]:
    """A demo database migrated up to just before the rule, holding a member-written
    NODE_OPTIONS default; then every later migration applied."""
    with demo_before(pg_superuser_url, tmp_path, EXEC_MIGRATION) as url:
        with psycopg.connect(url) as conn, conn.cursor() as c:
            impersonate(c, demo.DAVE)
            c.execute(
                "select save_configuration(%s, null, 'NODE_OPTIONS', '--require=./dave.js',"
                " false, 'env_var', null)",
                (S,),
            )
        applied = apply_migrations(url, supabase_compat=False)
        assert EXEC_MIGRATION in {v[: len(EXEC_MIGRATION)] for v in applied}
        yield url


def test_rows_written_before_the_rule_stay_readable_and_need_an_admin(upgraded_db: str) -> None:
    with psycopg.connect(upgraded_db, autocommit=True) as su:
        cid = config_id(su, S, None, "NODE_OPTIONS")
        with acting_as(su, demo.DAVE) as cur:
            cur.execute("select key, value from effective_configuration(%s)", (BOB_ENV,))
            assert ("NODE_OPTIONS", "--require=./dave.js") in cur.fetchall()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                cur.execute("select delete_configuration(%s, 1)", (cid,))
        with acting_as(su, demo.ERIN) as cur:
            cur.execute("select delete_configuration(%s, 1)", (cid,))
