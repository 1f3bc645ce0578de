"""Cells for ``open_workspace`` (migration 20261205160000_open_workspace): the dashboard's
opening view in one call. Security invoker: what it returns follows each table's policies
(PERMISSIONS.md reads), so the cells ask what the separate reads' cells ask. See
tests/db/matrix_ops.py for the conventions.
"""

from __future__ import annotations

from tests.db.helpers import MEMBERS, SIGNED_IN
from tests.db.matrix_ops import BOB_ENV, NOBODY, Op, S, q

#: jsonpath over the document: a row of the opened views with this key
_KEY_IN_VIEWS = (
    "select 1 where jsonb_path_exists({call}, '$.views[*].rows[*] ? (@.key == \"{key}\")')"
)

OPENING_OPS: list[Op] = [
    Op("open_workspace.call", SIGNED_IN, lambda c, u, i: q(c, "select open_workspace()")),
    Op(
        "open_workspace.project_defaults",
        MEMBERS,
        lambda c, u, i: q(
            c, _KEY_IN_VIEWS.format(call="open_workspace(%s)", key="FEATURE_FLAGS"), (str(S),)
        ),
    ),
    Op(
        "open_workspace.environment_rows",
        MEMBERS,
        lambda c, u, i: q(
            c,
            _KEY_IN_VIEWS.format(call="open_workspace(%s, %s)", key="BOB_DEBUG_PORT"),
            ("storefront", str(BOB_ENV)),
        ),
    ),
    Op(
        "open_workspace.tree",
        MEMBERS,
        lambda c, u, i: q(
            c,
            "select 1 where jsonb_path_exists(open_workspace(), '$.projects[*] ? (@.id == $s)',"
            " jsonb_build_object('s', %s::text))",
            (str(S),),
        ),
    ),
    Op(
        "open_workspace.secret_values",
        NOBODY,
        lambda c, u, i: q(
            c,
            "select 1 where jsonb_path_exists(open_workspace(%s, %s),"
            " '$.views[*].rows[*] ? (@.is_secret == true && @.value != null)')",
            ("storefront", str(BOB_ENV)),
        ),
    ),
]
