"""Required keys of templates in the database (migration 20261205140000_required_keys): the
shape check and create_environment leaving out a required key that has no value."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, Cur, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
CONFIG = {
    "PORT": {"value": "3000", "required": True},
    "SENTRY_DSN": {"required": True},
    "API_TOKEN": {"is_secret": True, "required": True},
    "EXTRA": {"is_secret": True, "required": False},
    "PLAIN": "1",
}


@pytest.fixture
def cur(su: Conn) -> Any:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def _template(cur: Cur, config: object) -> None:
    cur.execute(
        "insert into env_templates (project_id, name, config_json, created_by)"
        " values (%s, 'Required', %s, %s) returning id",
        (S, json.dumps(config), demo.DAVE.id),
    )


def test_required_entries_without_a_value_are_not_copied(cur: Cur) -> None:
    impersonate(cur, demo.DAVE)
    _template(cur, CONFIG)
    row = cur.fetchone()
    assert row is not None
    cur.execute("select id from create_environment(%s, 'dave-required', %s)", (S, row[0]))
    env = cur.fetchone()
    assert env is not None
    cur.execute(
        "select key, value, is_secret from configurations where environment_id = %s order by key",
        (env[0],),
    )
    # SENTRY_DSN and API_TOKEN are required with no value: the environment must get them.
    assert cur.fetchall() == [("EXTRA", None, True), ("PLAIN", "1", False), ("PORT", "3000", False)]


@pytest.mark.parametrize("bad", ["yes", 1, None, [True], {"x": True}])
def test_required_must_be_a_boolean(cur: Cur, bad: object) -> None:
    impersonate(cur, demo.DAVE)
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        _template(cur, {"SENTRY_DSN": {"required": bad}})
    assert caught.value.diag.constraint_name == "env_templates_required_boolean"


def test_an_update_is_checked_too(cur: Cur) -> None:
    impersonate(cur, demo.BOB)
    with pytest.raises(psycopg.errors.CheckViolation):
        cur.execute(
            "update env_templates set config_json = %s where id = %s",
            (json.dumps({"X": {"required": "true"}}), demo.TEMPLATE_NODE_STARTER),
        )


def test_an_entry_without_a_value_never_hides_a_project_default(cur: Cur) -> None:
    # Node.js Starter's {"STRIPE_SECRET_KEY": {"is_secret": true}}: storefront's defaults set
    # it, so the new environment inherits it (an empty override would hide it); EXTRA has no
    # default and stays a placeholder to fill.
    impersonate(cur, demo.DAVE)
    cur.execute(
        "select id from create_environment(%s, 'dave-starter', %s)",
        (S, demo.TEMPLATE_NODE_STARTER),
    )
    env = cur.fetchone()
    assert env is not None
    cur.execute(
        "select key, source, is_secret from effective_configuration(%s)"
        " where key = 'STRIPE_SECRET_KEY'",
        (env[0],),
    )
    assert cur.fetchall() == [("STRIPE_SECRET_KEY", "default", True)]
    _template(cur, {"EXTRA": {"is_secret": True}, "STRIPE_SECRET_KEY": {"is_secret": True}})
    row = cur.fetchone()
    assert row is not None
    cur.execute("select id from create_environment(%s, 'dave-extra', %s)", (S, row[0]))
    env = cur.fetchone()
    assert env is not None
    cur.execute("select key from configurations where environment_id = %s", (env[0],))
    assert cur.fetchall() == [("EXTRA",)]
