"""SQLSTATE → DevSync errors on errors a real PostgreSQL raises; values never reach messages."""

from __future__ import annotations

import tempfile
import uuid

import psycopg
import pytest

from devsync_tui.backend.errors import (
    Conflict,
    DevSyncError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.postgres.errors import map_error
from devsync_tui.core.models import ConfigType
from tests.support import demo

pytestmark = pytest.mark.db


def _raised(url: str, statement: str, params: tuple[object, ...] = ()) -> psycopg.Error:
    with psycopg.connect(url) as conn, pytest.raises(psycopg.Error) as info:
        conn.execute(statement, params)
    return info.value


def _raise_sql(errcode: str, message: str, detail: str = "") -> str:
    return (
        f"do $$ begin raise exception '{message}' using errcode = '{errcode}'"
        + (f", detail = '{detail}'" if detail else "")
        + "; end $$"
    )


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [
        ("42501", PermissionDenied),
        ("P0002", NotFound),
        ("22023", InvalidInput),
        ("23514", InvalidInput),
        ("40001", Unavailable),
        ("57014", Unavailable),
        ("XX000", DevSyncError),
    ],
)
def test_sqlstates(demo_db_url: str, errcode: str, kind: type[DevSyncError]) -> None:
    mapped = map_error(_raised(demo_db_url, _raise_sql(errcode, "plain words")))
    assert type(mapped) is kind
    text = str(mapped)
    assert text[0].isupper()
    assert text.endswith(".")


def test_a_full_disk_is_named_not_a_broken_connection(demo_db_url: str) -> None:
    mapped = map_error(_raised(demo_db_url, _raise_sql("53100", "could not extend file")))
    assert isinstance(mapped, Unavailable)
    assert "disk is full" in str(mapped)
    assert "nothing was written" in str(mapped)
    assert "not available" not in str(mapped)


def test_conflict_reads_current_version_from_detail(demo_db_url: str) -> None:
    mapped = map_error(_raised(demo_db_url, _raise_sql("PT409", "moved", '{"current_version": 7}')))
    assert isinstance(mapped, Conflict)
    assert mapped.current_version == 7
    gone = map_error(_raised(demo_db_url, _raise_sql("PT409", "gone", '{"current_version": null}')))
    assert isinstance(gone, Conflict)
    assert gone.current_version is None


@pytest.mark.parametrize(
    "statement",
    [
        "select 'hunter2-secret-value'::uuid",
        "select 'hunter2-secret-value'::int",
        "select repeat('hunter2-secret-value', 1)::varchar(3)::char(2)::date",
    ],
)
def test_postgres_messages_quoting_values_are_replaced(demo_db_url: str, statement: str) -> None:
    exc = _raised(demo_db_url, statement)
    mapped = map_error(exc)
    assert isinstance(mapped, InvalidInput)
    assert "hunter2" not in str(mapped)


def test_unique_violation_names_the_thing_not_the_value(fresh_db_url: str) -> None:
    exc = _raised(
        fresh_db_url,
        "insert into public.teams (name, slug, owner_id) values ('x', %s, %s)",
        (demo.TEAM_ACME_SLUG, demo.ALICE.id),
    )
    assert exc.diag.message_detail
    assert demo.TEAM_ACME_SLUG in exc.diag.message_detail
    mapped = map_error(exc)
    assert isinstance(mapped, InvalidInput)
    assert str(mapped) == "A team with that slug already exists."


def test_unreachable_server_is_unavailable() -> None:
    nowhere = tempfile.mkdtemp(prefix="devsync-nosock-")
    exc = _raised_connect(f"host={nowhere} dbname=x connect_timeout=2")
    assert isinstance(map_error(exc), Unavailable)


def _raised_connect(conninfo: str) -> psycopg.Error:
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(conninfo)
    return info.value


async def test_backend_never_leaks_psycopg_types(demo_db_url: str) -> None:
    nowhere = tempfile.mkdtemp(prefix="devsync-nosock-")
    with pytest.raises(Unavailable):
        await PostgresBackend(f"host={nowhere} dbname=x", "alice", embedded=False).connect()
    with pytest.raises(InvalidInput):  # an unknown --user is bad input
        await PostgresBackend(demo_db_url, "zelda", embedded=False).connect()
    with pytest.raises(Unavailable):
        await PostgresBackend(demo_db_url, "alice", embedded=False).list_teams()  # not connected
    bob = PostgresBackend(demo_db_url, "bob", embedded=False)
    await bob.connect()
    try:
        with pytest.raises(NotFound):
            await bob.reveal_secret(uuid.uuid4())
        with pytest.raises(NotFound):
            await bob.effective_configuration(uuid.uuid4())
        with pytest.raises((NotFound, PermissionDenied)):
            await bob.save_configuration(
                uuid.uuid4(),
                None,
                "KEY",
                "v",
                is_secret=False,
                type=ConfigType.ENV_VAR,
                expected_version=None,
            )
        with pytest.raises(InvalidInput) as info:
            await bob.save_configuration(
                demo.PROJECT_STOREFRONT,
                demo.ENV_BOB_LAPTOP,
                "NUL",
                "has\x00nul-secret-bits",
                is_secret=True,
                type=ConfigType.ENV_VAR,
                expected_version=None,
            )
        assert "secret-bits" not in str(info.value)
    finally:
        await bob.close()


async def test_a_malformed_database_url_is_input_and_never_echoed() -> None:
    # libpq's parse error quotes the whole URL, password included: say what is wrong instead.
    for url in ("garbage://", "postgresql://u:SECRETPW@[::1/db"):
        with pytest.raises(InvalidInput) as info:
            await PostgresBackend(url, "alice", embedded=False).connect()
        assert str(info.value) == "The database URL is not a valid PostgreSQL connection string."
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
