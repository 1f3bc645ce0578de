"""Handing an environment to someone (set_environment_owner, create_environment's p_owner):
who may is in the permission matrix (matrix_cells_team.py); here is what it does: the audit
row, the refusals' codes and sentences, configurations and admins' tokens untouched."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, acting_as, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BOB_ENV = demo.ENV_BOB_LAPTOP


def _one(cur: Any, query: str, params: Any = None) -> Any:
    cur.execute(query, params)
    return cur.fetchone()


def test_admin_hands_bob_laptop_to_dave_audited_configurations_untouched(su: Conn) -> None:
    before = su.execute(
        "select key, version from configurations where environment_id = %s order by key",
        (BOB_ENV,),
    ).fetchall()
    with acting_as(su, demo.ALICE) as cur:
        row = _one(
            cur, "select user_id, name from set_environment_owner(%s, %s)", (BOB_ENV, demo.DAVE.id)
        )
        assert row == (demo.DAVE.id, "bob-laptop")
        audit = _one(
            cur,
            "select action, target_type, target_id, environment_id, details, actor_id"
            " from audit_log where action = 'environment.owner' order by id desc limit 1",
        )
        assert audit[:4] == ("environment.owner", "environment", str(BOB_ENV), BOB_ENV)
        assert audit[4] == {
            "name": "bob-laptop",
            "from": str(demo.BOB.id),
            "to": str(demo.DAVE.id),
        }
        assert audit[5] == demo.ALICE.id
        cur.execute(
            "select key, version from configurations where environment_id = %s order by key",
            (BOB_ENV,),
        )
        assert cur.fetchall() == before
        # giving it to whom it already belongs changes nothing and writes no second row
        cur.execute("select count(*) from audit_log where action = 'environment.owner'")
        count = cur.fetchone()
        _one(cur, "select * from set_environment_owner(%s, %s)", (BOB_ENV, demo.DAVE.id))
        cur.execute("select count(*) from audit_log where action = 'environment.owner'")
        assert cur.fetchone() == count


def test_the_new_owner_may_then_write_its_overrides(su: Conn) -> None:
    with acting_as(su, demo.ALICE) as cur:
        _one(cur, "select * from set_environment_owner(%s, %s)", (BOB_ENV, demo.DAVE.id))
        impersonate(cur, demo.DAVE)
        row = _one(
            cur,
            "select version from save_configuration(%s, %s, 'DAVE_WAS_HERE', '1', false,"
            " 'env_var', null)",
            (S, BOB_ENV),
        )
        assert row == (1,)


@pytest.mark.parametrize(
    ("who", "target", "sqlstate", "sentence"),
    [
        (demo.DAVE, demo.DAVE, "42501", "only an admin of the team can change who owns"),
        (demo.BOB, demo.DAVE, "42501", "only an admin of the team can change who owns"),
        (demo.ALICE, demo.CAROL, "22023", "member or an admin of its team (viewers do not"),
        (demo.ALICE, demo.MALLORY, "22023", "only to a member or an admin of its team"),
    ],
)
def test_refusals(
    su: Conn, who: demo.DemoUser, target: demo.DemoUser, sqlstate: str, sentence: str
) -> None:
    with acting_as(su, who) as cur, pytest.raises(psycopg.DatabaseError) as caught:
        cur.execute("select * from set_environment_owner(%s, %s)", (BOB_ENV, target.id))
    assert caught.value.sqlstate == sqlstate
    assert sentence in str(caught.value)


def test_unknown_environment_is_p0002(su: Conn) -> None:
    with acting_as(su, demo.ALICE) as cur, pytest.raises(psycopg.DatabaseError) as caught:
        cur.execute("select * from set_environment_owner(gen_random_uuid(), %s)", (demo.DAVE.id,))
    assert caught.value.sqlstate == "P0002"


def test_create_environment_for_someone_else(su: Conn) -> None:
    with acting_as(su, demo.ERIN) as cur:
        row = _one(
            cur,
            "select user_id from create_environment(%s, 'dave-desktop', %s, %s)",
            (S, demo.TEMPLATE_NODE_STARTER, demo.DAVE.id),
        )
        assert row == (demo.DAVE.id,)
        # three arguments by position still answer (the old signature's callers)
        row = _one(cur, "select user_id from create_environment(%s, 'erin-box', null)", (S,))
        assert row == (demo.ERIN.id,)
