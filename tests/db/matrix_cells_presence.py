"""Cells for presence (migrations 20261125180000_presence, 20261205150000_presence_places):
where each client of a member is on a project.

Presence follows "projects read: members" in PERMISSIONS.md: every member of the project's
team, viewers included, may announce it and see it; the table is written only by the RPCs, and
a row is always the caller's. The matrix's ``ids`` fixture stores alice as present on
storefront, so reads have a row to find. Joining the project's private Realtime channel
(``realtime.messages`` read with ``realtime.topic()`` set) follows the same rule; sending on it
is nobody's. See tests/db/matrix_ops.py for the conventions.
"""

from __future__ import annotations

from tests.db.helpers import MEMBERS, SIGNED_IN
from tests.db.matrix_ops import NOBODY, Op, S, me, q
from tests.support import demo

_TOPIC = f"devsync:presence:{S}"


def _channel_read(c, u, i) -> bool:  # type: ignore[no-untyped-def]
    """Realtime's join check: a message of the topic, stored by the server, read as the user."""
    c.execute("savepoint channel_read")
    try:
        c.execute("select set_config('realtime.topic', %s, true)", (_TOPIC,))
        c.execute("select current_setting('role')")
        role = c.fetchone()[0]
        c.execute("reset role")
        c.execute(
            "insert into realtime.messages (topic, extension) values (%s, 'presence') returning id",
            (_TOPIC,),
        )
        message = c.fetchone()[0]
        c.execute("select set_config('role', %s, true)", (role,))
        return q(c, "select 1 from realtime.messages where id = %s", (message,))
    finally:
        c.execute("rollback to savepoint channel_read")


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
        "presence.rpc_announce",
        MEMBERS,
        lambda c, u, i: (
            q(c, "select * from announce_presence(gen_random_uuid(), %s)", (S,))
            and q(
                c,
                "select 1 from presence where user_id = %s and project_id = %s",
                (me(u), S),
            )
        ),
    ),
    Op(
        "presence.rpc_leave",
        SIGNED_IN,
        lambda c, u, i: q(c, "select leave_presence(gen_random_uuid())"),
    ),
    Op(
        "presence.rpc_who_is_here",
        MEMBERS,
        lambda c, u, i: q(c, "select username from who_is_here(%s)", (S,)),
    ),
    Op("presence.channel_join", MEMBERS, _channel_read),
    Op(
        "presence.channel_send",
        NOBODY,
        lambda c, u, i: q(
            c,
            "insert into realtime.messages (topic, extension) values (%s, 'broadcast')"
            " returning id",
            (_TOPIC,),
        ),
    ),
]
