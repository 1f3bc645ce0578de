"""Cells of PERMISSIONS.md for the team-shaped tables: profiles, teams, team_members,
projects, env_templates, environments (see tests/db/matrix_ops.py for the conventions)."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.db.helpers import ADMINS, MEMBERS, SIGNED_IN, WRITERS
from tests.db.matrix_ops import (
    ACME,
    BILL,
    BOB_ENV,
    ENV_WRITERS,
    NOBODY,
    Op,
    S,
    me,
    other_than,
    q,
)
from tests.support import demo


def _owner_given(cur: Any, new_owner: demo.DemoUser) -> bool:
    """Hand bob-laptop to ``new_owner``: True when the RPC returned the row with that owner;
    False when refused (42501 for who calls, 22023 for whom it would go to)."""
    try:
        with cur.connection.transaction():
            cur.execute(
                "select user_id from set_environment_owner(%s, %s)", (BOB_ENV, new_owner.id)
            )
            rows = cur.fetchall()
    except psycopg.errors.InvalidParameterValue:
        return False
    except psycopg.errors.InsufficientPrivilege:
        return False
    except psycopg.DatabaseError as exc:
        if exc.sqlstate == "PT401":
            return False
        raise
    return bool(rows) and rows[0][0] == new_owner.id


TEAM_OPS: list[Op] = [
    # profiles
    Op(
        "profiles.select",
        SIGNED_IN,
        lambda c, u, i: q(c, "select id from profiles where id = %s", (demo.ALICE.id,)),
        ("profiles_select",),
    ),
    Op(
        "profiles.update_own",
        SIGNED_IN,
        lambda c, u, i: q(
            c,
            "update profiles set full_name = 'Renamed' where id = %s returning id",
            (me(u) or demo.ALICE.id,),
        ),
        ("profiles_update",),
    ),
    Op(
        "profiles.update_other",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update profiles set full_name = 'X' where id = %s returning id",
            (other_than(u, demo.ALICE, demo.BOB),),
        ),
    ),
    Op(
        "profiles.insert",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into profiles (id, username) values (%s, 'intruder') returning id",
            (demo.MALLORY.id,),
        ),
    ),
    Op(
        "profiles.delete_own",
        NOBODY,
        lambda c, u, i: q(
            c, "delete from profiles where id = %s returning id", (me(u) or demo.ALICE.id,)
        ),
    ),
    # teams
    Op(
        "teams.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from teams where id = %s", (ACME,)),
        ("teams_select",),
    ),
    Op(
        "teams.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into teams (name, slug, owner_id) values ('X', 'x-direct', %s) returning id",
            (me(u) or demo.ALICE.id,),
        ),
    ),
    Op(
        "teams.create_rpc",
        SIGNED_IN,
        lambda c, u, i: q(c, "select id from create_team('New Team', 'new-team')"),
    ),
    Op(
        "teams.update",
        ADMINS,
        lambda c, u, i: q(
            c, "update teams set name = 'Acme Inc' where id = %s returning id", (ACME,)
        ),
        ("teams_update",),
    ),
    Op(
        "teams.delete",
        frozenset({"owner"}),
        lambda c, u, i: q(c, "delete from teams where id = %s returning id", (ACME,)),
        ("teams_delete",),
    ),
    # team_members: reads by policy, writes only through the RPCs
    Op(
        "team_members.select",
        MEMBERS,
        lambda c, u, i: q(c, "select user_id from team_members where team_id = %s", (ACME,)),
        ("team_members_select",),
    ),
    Op(
        "team_members.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into team_members (team_id, user_id, role)"
            " values (%s, %s, 'member') returning user_id",
            (ACME, demo.MALLORY.id),
        ),
    ),
    Op(
        "team_members.update_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update team_members set role = 'admin' where team_id = %s"
            " and user_id = %s returning user_id",
            (ACME, demo.DAVE.id),
        ),
    ),
    Op(
        "team_members.delete_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "delete from team_members where team_id = %s and user_id = %s returning user_id",
            (ACME, demo.DAVE.id),
        ),
    ),
    Op(
        "team_members.add_rpc",
        ADMINS,
        lambda c, u, i: q(
            c, "select user_id from add_team_member(%s, 'mallory', 'member')", (ACME,)
        ),
    ),
    Op(
        "team_members.set_role_rpc",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select user_id from set_member_role(%s, %s, 'viewer')",
            (ACME, other_than(u, demo.DAVE, demo.BOB)),
        ),
    ),
    Op(
        "team_members.remove_other_rpc",
        ADMINS,
        lambda c, u, i: q(
            c, "select remove_team_member(%s, %s)", (ACME, other_than(u, demo.CAROL, demo.DAVE))
        ),
    ),
    Op(
        "team_members.leave_rpc",
        MEMBERS - {"owner"},
        lambda c, u, i: q(c, "select remove_team_member(%s, %s)", (ACME, me(u))),
    ),
    # projects
    Op(
        "projects.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from projects where id = %s", (S,)),
        ("projects_select",),
    ),
    Op(
        "projects.insert",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into projects (team_id, name) values (%s, 'new-project') returning id",
            (ACME,),
        ),
        ("projects_insert",),
    ),
    Op(
        "projects.update",
        WRITERS,
        lambda c, u, i: q(
            c, "update projects set description = 'x' where id = %s returning id", (S,)
        ),
        ("projects_update",),
    ),
    Op(
        "projects.delete",
        ADMINS,
        lambda c, u, i: q(c, "delete from projects where id = %s returning id", (BILL,)),
        ("projects_delete",),
    ),
    # env_templates
    Op(
        "env_templates.select_team",
        MEMBERS,
        lambda c, u, i: q(
            c, "select id from env_templates where id = %s", (demo.TEMPLATE_NODE_STARTER,)
        ),
        ("env_templates_select",),
    ),
    Op(
        "env_templates.select_public",
        SIGNED_IN,
        lambda c, u, i: q(
            c, "select id from env_templates where id = %s", (demo.TEMPLATE_PYTHON_DATA_SCIENCE,)
        ),
        ("env_templates_select",),
    ),
    Op(
        "env_templates.insert",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into env_templates (project_id, name, created_by)"
            " values (%s, 'T', %s) returning id",
            (S, me(u)),
        ),
        ("env_templates_insert",),
    ),
    Op(
        "env_templates.update",
        WRITERS,
        lambda c, u, i: q(
            c,
            "update env_templates set name = 'Renamed' where id = %s returning id",
            (demo.TEMPLATE_NODE_STARTER,),
        ),
        ("env_templates_update",),
    ),
    Op(
        "env_templates.delete_own",
        ADMINS | {"env_owner"},  # bob created Node.js Starter
        lambda c, u, i: q(
            c, "delete from env_templates where id = %s returning id", (demo.TEMPLATE_NODE_STARTER,)
        ),
        ("env_templates_delete",),
    ),
    Op(
        "env_templates.delete_other",
        ADMINS,  # alice created Storefront CI
        lambda c, u, i: q(
            c,
            "delete from env_templates where id = %s returning id",
            (demo.TEMPLATE_STOREFRONT_CI,),
        ),
    ),
    # environments
    Op(
        "environments.select",
        MEMBERS,
        lambda c, u, i: q(c, "select id from environments where id = %s", (BOB_ENV,)),
        ("environments_select",),
    ),
    Op(
        "environments.insert_own",
        WRITERS,
        lambda c, u, i: q(
            c,
            "insert into environments (project_id, user_id, name)"
            " values (%s, %s, 'new-env') returning id",
            (S, me(u) or demo.ALICE.id),
        ),
        ("environments_insert",),
    ),
    Op(
        "environments.insert_for_other",
        ADMINS,
        lambda c, u, i: q(
            c,
            "insert into environments (project_id, user_id, name)"
            " values (%s, %s, 'their-env') returning id",
            (S, other_than(u, demo.CAROL, demo.DAVE)),
        ),
    ),
    Op(
        "environments.create_rpc",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from create_environment(%s, 'from-template', %s)",
            (S, demo.TEMPLATE_NODE_STARTER),
        ),
    ),
    Op(
        "environments.update",
        ENV_WRITERS,
        lambda c, u, i: q(
            c, "update environments set status = 'error' where id = %s returning id", (BOB_ENV,)
        ),
        ("environments_update",),
    ),
    Op(
        "environments.delete",
        ENV_WRITERS,
        lambda c, u, i: q(c, "delete from environments where id = %s returning id", (BOB_ENV,)),
        ("environments_delete",),
    ),
    # who owns an environment: only through set_environment_owner (the column is not granted)
    Op(
        "environments.set_owner_rpc",
        ADMINS,
        lambda c, u, i: _owner_given(c, demo.DAVE),
    ),
    Op(
        "environments.set_owner_to_admin_rpc",
        ADMINS,
        lambda c, u, i: _owner_given(c, demo.ERIN),
    ),
    Op(
        "environments.set_owner_to_viewer_rpc",
        NOBODY,
        lambda c, u, i: _owner_given(c, demo.CAROL),
    ),
    Op(
        "environments.set_owner_to_outsider_rpc",
        NOBODY,
        lambda c, u, i: _owner_given(c, demo.MALLORY),
    ),
    Op(
        "environments.update_owner_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update environments set user_id = %s where id = %s returning id",
            (demo.DAVE.id, BOB_ENV),
        ),
    ),
    Op(
        "environments.create_for_other_rpc",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from create_environment(%s, 'for-other', null, %s) where user_id = %s",
            (S, other_than(u, demo.DAVE, demo.BOB), other_than(u, demo.DAVE, demo.BOB)),
        ),
    ),
    Op(
        "environments.create_for_viewer_rpc",
        NOBODY,
        lambda c, u, i: _refused_22023(
            c, "select id from create_environment(%s, 'for-carol', null, %s)", (S, demo.CAROL.id)
        ),
    ),
    Op(
        "environments.create_for_self_rpc",
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from create_environment(%s, 'mine', null, %s)",
            (S, me(u) or demo.ALICE.id),
        ),
    ),
]


def _refused_22023(cur: Any, query: str, params: Any) -> bool:
    """``q``, with 22023 (a bad owner) counted as a refusal too."""
    try:
        with cur.connection.transaction():
            return q(cur, query, params)
    except psycopg.errors.InvalidParameterValue:
        return False
