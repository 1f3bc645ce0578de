"""Fixtures of the database suite: one migrated + seeded database per test module.

Most tests here run inside a transaction that is rolled back, so a module can share one clone
of the template (cheaper than ``fresh_db_url`` per test). Tests that must commit (concurrency,
LISTEN) use ``fresh_db_url`` from tests/conftest.py.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from devsync_tui.backend.postgres.migrate import drop_database, with_database

_counter = itertools.count(1)


@pytest.fixture(scope="module")
def module_db_url(pg_superuser_url: str, _template_db: str) -> Iterator[str]:
    """A clone of the migrated + seeded template shared by one test module; dropped after."""
    name = f"devsync_m{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_superuser_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {} strategy file_copy").format(
                sql.Identifier(name), sql.Identifier(_template_db)
            )
        )
    try:
        yield with_database(pg_superuser_url, name)
    finally:
        drop_database(pg_superuser_url, name)


@pytest.fixture(scope="module")
def su(module_db_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Superuser connection (autocommit) to the module's database; impersonate inside
    ``helpers.acting_as``, which rolls back."""
    with psycopg.connect(module_db_url, autocommit=True) as conn:
        yield conn
