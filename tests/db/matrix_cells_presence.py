"""Cells for presence (migration 20261125180000_presence): who is viewing which project.

Presence follows "projects read: members" in PERMISSIONS.md: every member of the project's
team, viewers included, may announce it and see it; the table is written only by the RPCs. The
matrix's ``ids`` fixture stores alice as present on storefront, so reads have a row to find.
See tests/db/matrix_ops.py for the conventions.
"""

from __future__ import annotations

from tests.db.helpers import MEMBERS, SIGNED_IN
from tests.db.matrix_ops import NOBODY, Op, S, me, q
from tests.support import demo

PRESENCE_OPS: list[Op] = [
    Op(
        "presence.select",
        MEMBERS,
        lambda c, u, i: q(
            c,
            "select user_id from presence where project_id = %s and user_id = %s",
            (S, demo.ALICE.id),
        ),
        ("presence_select",),
    ),
    Op(
        "presence.insert_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into presence (user_id, project_id) values (%s, %s)"
            " on conflict do nothing returning user_id",
            (me(u) or demo.BOB.id, demo.PROJECT_BILLING),
        ),
    ),
    Op(
        "presence.update_direct",
        NOBODY,
        lambda c, u, i: q(
            c,
            "update presence set seen_at = now() where user_id = %s returning user_id",
            (demo.ALICE.id,),
        ),
    ),
    Op(
        "presence.delete_direct",
        NOBODY,
        lambda c, u, i: q(c, "delete from presence where project_id = %s returning user_id", (S,)),
    ),
    Op(
        "presence.rpc_set",
        MEMBERS,
        lambda c, u, i: (
            q(c, "select set_presence(%s)", (S,))
            and q(
                c,
                "select 1 from presence where user_id = %s and project_id = %s",
                (me(u), S),
            )
        ),
    ),
    Op(
        "presence.rpc_clear",
        SIGNED_IN,
        lambda c, u, i: q(c, "select set_presence(null)"),
    ),
    Op(
        "presence.rpc_who_is_viewing",
        MEMBERS,
        lambda c, u, i: q(c, "select username from who_is_viewing(%s)", (S,)),
    ),
]
