"""Template names (migration 20261207203000_template_names): unique within their project by
the exact name, as environment names are; 1 to 200 characters, the whole name; and the
migration applies on a database that already holds duplicates and over-long names."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.postgres.migrate import apply_migrations
from devsync_tui.backend.refusals import database_refusal
from tests.db.helpers import Conn, acting_as, demo_before
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
B = demo.PROJECT_BILLING
MIGRATION = "20261207203000"
INSERT = "insert into env_templates (project_id, name, created_by) values (%s, %s, auth.uid())"

_counter = itertools.count(1)


def test_a_second_template_of_a_name_in_a_project_is_refused(su: Conn) -> None:
    with acting_as(su, demo.BOB) as cur, pytest.raises(psycopg.errors.UniqueViolation) as caught:
        cur.execute(INSERT, (S, "Node.js Starter"))
    assert caught.value.diag.constraint_name == "env_templates_project_id_name_key"
    # What a transport makes of it: one sentence, never the name PostgreSQL's detail quotes.
    refusal = database_refusal(
        "23505", str(caught.value), constraint="env_templates_project_id_name_key"
    )
    assert str(refusal) == "A template with that name already exists in this project."
    with acting_as(su, demo.BOB) as cur, pytest.raises(psycopg.errors.UniqueViolation):
        cur.execute(  # a rename too
            "update env_templates set name = 'Storefront CI' where id = %s",
            (demo.TEMPLATE_NODE_STARTER,),
        )


def test_the_rule_is_the_exact_name_per_project_as_for_environments(su: Conn) -> None:
    with acting_as(su, demo.BOB) as cur:
        cur.execute(INSERT, (S, "node.js starter"))  # another letter case: another name
        cur.execute(INSERT, (B, "Node.js Starter"))  # another project
        cur.execute("select count(*) from env_templates where lower(name) = 'node.js starter'")
        assert cur.fetchone() == (3,)
        # Environments follow the same rule.
        cur.execute("select name from create_environment(%s, 'BOB-LAPTOP', null)", (S,))
        assert cur.fetchone() == ("BOB-LAPTOP",)


def test_a_name_has_1_to_200_characters_whole(su: Conn) -> None:
    with acting_as(su, demo.BOB) as cur:
        cur.execute(INSERT, (S, "🙂" * 200))
        for name in ("🙂" * 201, "a" + " " * 200, " " * 3):
            with (
                pytest.raises(psycopg.errors.CheckViolation) as caught,
                cur.connection.transaction(),
            ):
                cur.execute(INSERT, (S, name))
            assert caught.value.diag.constraint_name == "env_templates_name_check"
    refusal = database_refusal("23514", None, constraint="env_templates_name_check")
    assert str(refusal) == "A template name must have 1 to 200 characters."


@pytest.fixture
def before_names(pg_superuser_url: str, tmp_path: Path) -> Any:
    """A demo database migrated up to just before the rule (apply the rest to it)."""
    with demo_before(pg_superuser_url, tmp_path, MIGRATION) as url:
        yield url


def test_the_migration_renames_existing_duplicates_and_trims_long_names(
    before_names: str,
) -> None:
    padded = "Padded" + " " * 300
    long_name = "x" * 200
    with psycopg.connect(before_names, autocommit=True) as conn:
        for project, name in [
            (S, "Node.js Starter"),  # the seed's is older: it keeps the name
            (S, "Node.js Starter (2)"),  # taken already: the next copy skips it
            (S, "Node.js Starter"),
            (S, long_name),
            (S, long_name),  # its copy is cut to leave room for " (2)"
            (S, padded),
            (B, "Node.js Starter"),  # another project: no duplicate
        ]:
            conn.execute(
                "insert into env_templates (project_id, name) values (%s, %s)", (project, name)
            )
        ids = [
            r[0]
            for r in conn.execute("select id from env_templates order by created_at, id").fetchall()
        ]
    applied = apply_migrations(before_names, supabase_compat=False)
    assert MIGRATION in applied
    with psycopg.connect(before_names) as conn:
        rows = conn.execute(
            "select id, project_id, name from env_templates order by created_at, id"
        ).fetchall()
        assert [r[0] for r in rows] == ids  # renamed, never dropped
        names = [(r[1], r[2]) for r in rows]
        assert (S, "Node.js Starter") in names
        assert names.count((S, "Node.js Starter")) == 1
        assert conn.execute(
            "select id from env_templates where name = 'Node.js Starter' and project_id = %s",
            (S,),
        ).fetchone() == (demo.TEMPLATE_NODE_STARTER,)
        storefront = sorted(n for p, n in names if p == S)
        assert storefront == sorted(
            [
                "Node.js Starter",
                "Node.js Starter (2)",
                "Node.js Starter (3)",
                "Node.js Starter (4)",
                "Storefront CI",
                long_name,
                "x" * 196 + " (2)",
                "Padded",
            ]
        )
        assert (B, "Node.js Starter") in names
        # The rule holds from now on.
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "insert into env_templates (project_id, name) values (%s, 'Storefront CI')",
                (S,),
            )
