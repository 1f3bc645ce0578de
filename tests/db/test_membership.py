"""Membership rules: the owner and the last admin stay, anyone but the owner may leave, changes
take effect at once, and every change is audited whatever road it came by."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.db.helpers import Conn, Cur, impersonate
from tests.support import demo

pytestmark = pytest.mark.db

ACME = demo.TEAM_ACME


def _denied(cur: Cur, query: str, params: Any) -> psycopg.Error:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        _savepoint(cur, query, params)
    return err.value


def _savepoint(cur: Cur, query: str, params: Any) -> None:
    with cur.connection.transaction():
        cur.execute(query, params)


@pytest.fixture
def cur(su: Conn) -> Any:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def test_owner_cannot_be_demoted_removed_or_leave(cur: Cur) -> None:
    impersonate(cur, demo.ERIN)
    err = _denied(cur, "select set_member_role(%s, %s, 'member')", (ACME, demo.ALICE.id))
    assert "owner" in (err.diag.message_primary or "")
    _denied(cur, "select remove_team_member(%s, %s)", (ACME, demo.ALICE.id))
    impersonate(cur, demo.ALICE)
    _denied(cur, "select remove_team_member(%s, %s)", (ACME, demo.ALICE.id))
    _denied(cur, "select set_member_role(%s, %s, 'viewer')", (ACME, demo.ALICE.id))
    cur.execute(
        "select role from team_members where team_id = %s and user_id = %s", (ACME, demo.ALICE.id)
    )
    assert cur.fetchone() == ("admin",)


def test_last_admin_cannot_go_by_any_road(cur: Cur) -> None:
    # A team whose owner row was made a plain member by a direct (superuser) write: then the
    # single remaining admin is the last one, and even a direct write cannot remove them.
    cur.execute(
        "insert into teams (id, name, slug, owner_id) values (gen_random_uuid(), 'T', 't-last',"
        " %s) returning id",
        (demo.MALLORY.id,),
    )
    row = cur.fetchone()
    assert row is not None
    team = row[0]
    cur.execute(
        "insert into team_members (team_id, user_id, role) values (%s, %s, 'member'),"
        " (%s, %s, 'admin')",
        (team, demo.MALLORY.id, team, demo.DAVE.id),
    )
    err = _denied(
        cur,
        "update team_members set role = 'member' where team_id = %s and user_id = %s",
        (team, demo.DAVE.id),
    )
    assert "last admin" in (err.diag.message_primary or "")
    _denied(
        cur, "delete from team_members where team_id = %s and user_id = %s", (team, demo.DAVE.id)
    )
    impersonate(cur, demo.DAVE)
    _denied(cur, "select remove_team_member(%s, %s)", (team, demo.DAVE.id))
    _denied(cur, "select set_member_role(%s, %s, 'viewer')", (team, demo.DAVE.id))


def test_a_second_admin_may_be_demoted_and_may_leave(cur: Cur) -> None:
    impersonate(cur, demo.ALICE)
    cur.execute("select role from set_member_role(%s, %s, 'member')", (ACME, demo.ERIN.id))
    assert cur.fetchone() == ("member",)
    cur.execute("select role from set_member_role(%s, %s, 'admin')", (ACME, demo.ERIN.id))
    impersonate(cur, demo.ERIN)
    cur.execute("select remove_team_member(%s, %s)", (ACME, demo.ERIN.id))
    cur.execute("select count(*) from teams where id = %s", (ACME,))
    assert cur.fetchone() == (0,)


def test_removal_takes_effect_at_once(cur: Cur) -> None:
    bob_secret = "select id from configurations where environment_id = %s and key = 'DATABASE_URL'"
    cur.execute(bob_secret, (demo.ENV_BOB_LAPTOP,))
    row = cur.fetchone()
    assert row is not None
    secret_id = row[0]
    impersonate(cur, demo.BOB)
    cur.execute("select count(*) from configurations")
    visible = cur.fetchone()
    assert visible is not None
    assert visible[0] > 0
    impersonate(cur, demo.ERIN)
    cur.execute("select remove_team_member(%s, %s)", (ACME, demo.BOB.id))
    impersonate(cur, demo.BOB)
    for table in (
        "teams",
        "projects",
        "environments",
        "configurations",
        "dependencies",
        "health_checks",
        "configuration_history",
        "team_members",
    ):
        cur.execute(f"select count(*) from {table}")
        assert cur.fetchone() == (0,), table
    _denied(cur, "select reveal_secret(%s)", (secret_id,))
    _denied(
        cur,
        "select save_configuration(%s, %s, 'K', 'v', false, 'env_var', null)",
        (demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP),
    )
    _denied(cur, "select report_health(%s, '[]')", (demo.ENV_BOB_LAPTOP,))


def test_leaving_takes_effect_at_once(cur: Cur) -> None:
    impersonate(cur, demo.CAROL)
    cur.execute("select remove_team_member(%s, %s)", (ACME, demo.CAROL.id))
    cur.execute("select count(*) from projects")
    assert cur.fetchone() == (0,)


def test_added_member_sees_and_writes_at_once(cur: Cur) -> None:
    impersonate(cur, demo.MALLORY)
    cur.execute("select count(*) from projects")
    assert cur.fetchone() == (0,)
    impersonate(cur, demo.ERIN)
    cur.execute("select role from add_team_member(%s, 'Mallory', 'member')", (ACME,))
    assert cur.fetchone() == ("member",)
    impersonate(cur, demo.MALLORY)
    cur.execute("select count(*) from projects")
    assert cur.fetchone() == (2,)
    cur.execute(
        "select version from save_configuration(%s, null, 'MALLORY_WAS_HERE', 'yes',"
        " false, 'env_var', null)",
        (demo.PROJECT_STOREFRONT,),
    )
    assert cur.fetchone() == (1,)


def test_membership_changes_are_audited_by_every_road(cur: Cur) -> None:
    impersonate(cur, demo.ERIN)
    cur.execute("select add_team_member(%s, 'mallory', 'viewer')", (ACME,))
    cur.execute("select set_member_role(%s, %s, 'member')", (ACME, demo.MALLORY.id))
    cur.execute("select remove_team_member(%s, %s)", (ACME, demo.MALLORY.id))
    # a direct write by the database owner (no user) is audited too
    cur.execute("reset role")
    cur.execute("select set_config('request.jwt.claims', '', true)")
    cur.execute(
        "update team_members set role = 'member' where team_id = %s and user_id = %s",
        (ACME, demo.CAROL.id),
    )
    cur.execute(
        "select action, actor_id, target_id, details from audit_log where team_id = %s"
        " and action like 'member.%%' order by id desc limit 4",
        (ACME,),
    )
    rows = cur.fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("member.role", None, str(demo.CAROL.id)),
        ("member.remove", demo.ERIN.id, str(demo.MALLORY.id)),
        ("member.role", demo.ERIN.id, str(demo.MALLORY.id)),
        ("member.add", demo.ERIN.id, str(demo.MALLORY.id)),
    ]
    assert rows[0][3] == {"from": "viewer", "to": "member"}


def test_create_team_makes_owner_and_admin_and_audits(cur: Cur) -> None:
    impersonate(cur, demo.MALLORY)
    cur.execute("select id, owner_id from create_team('Mallory Labs', 'mallory-labs')")
    row = cur.fetchone()
    assert row is not None
    team, owner = row
    assert owner == demo.MALLORY.id
    cur.execute("select user_id, role from team_members where team_id = %s", (team,))
    assert cur.fetchall() == [(demo.MALLORY.id, "admin")]
    cur.execute("select action from audit_log where team_id = %s order by id", (team,))
    assert [r[0] for r in cur.fetchall()] == ["team.create", "member.add"]
    # Acme stays invisible to her
    cur.execute("select count(*) from teams")
    assert cur.fetchone() == (1,)


def test_owner_deleting_the_team_removes_everything(cur: Cur) -> None:
    impersonate(cur, demo.ALICE)
    cur.execute("delete from teams where id = %s returning id", (ACME,))
    assert cur.fetchone() == (ACME,)
    cur.execute("reset role")
    for table in (
        "team_members",
        "projects",
        "environments",
        "configurations",
        "configuration_secrets",
        "configuration_history",
        "dependencies",
        "health_checks",
    ):
        cur.execute(f"select count(*) from {table}")
        assert cur.fetchone() == (0,), table


def test_env_owner_demoted_to_viewer_loses_every_write(cur: Cur) -> None:
    impersonate(cur, demo.ALICE)
    cur.execute("select set_member_role(%s, %s, 'viewer')", (ACME, demo.BOB.id))
    impersonate(cur, demo.BOB)
    env, project = demo.ENV_BOB_LAPTOP, demo.PROJECT_STOREFRONT
    _denied(
        cur, "select save_configuration(%s, %s, 'K', 'v', false, 'env_var', null)", (project, env)
    )
    _denied(cur, "select report_health(%s, '[]')", (env,))
    _denied(cur, "select report_dependencies(%s, %s, '[]')", (project, env))
    for query in (
        "update environments set status = 'error' where id = %s returning id",
        "delete from dependencies where environment_id = %s returning id",
    ):
        cur.execute(query, (env,))
        assert cur.fetchall() == []
    cur.execute("select count(*) from configurations where environment_id = %s", (env,))
    still_reads = cur.fetchone()
    assert still_reads is not None
    assert still_reads[0] > 0
