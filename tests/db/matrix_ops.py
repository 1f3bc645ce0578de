"""The cells of PERMISSIONS.md as operations: each one tries one action on one table (or the
RPC that is the only road for it) and says whether it went through.

An operation returns True when the action took effect (rows visible / affected / RPC returned)
and False when it was denied: SQLSTATE 42501 or zero rows. Any other error is a bug and
propagates. ``allowed`` lists the identities (helpers.IDENTITIES) PERMISSIONS.md allows.
``witness_for`` names the RLS policies whose removal must turn this allowance into a denial.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tests.db.helpers import ADMINS, Cur, Identity, try_sql
from tests.support import demo

S = demo.PROJECT_STOREFRONT
BILL = demo.PROJECT_BILLING
ACME = demo.TEAM_ACME
BOB_ENV = demo.ENV_BOB_LAPTOP
NOBODY: frozenset[str] = frozenset()
ENV_WRITERS = ADMINS | {"env_owner"}

User = Identity
Ids = dict[str, Any]


@dataclass(frozen=True)
class Op:
    name: str
    allowed: frozenset[str]
    run: Callable[[Cur, User, Ids], bool]
    witness_for: tuple[str, ...] = ()


def q(cur: Cur, query: str, params: Any = None) -> bool:
    """True when ``query`` returned at least one row; False when it raised 42501 or no rows."""
    rows = try_sql(cur, query, params)
    return bool(rows)


def me(user: User) -> UUID | None:
    """The user's id; None for anon and machines (they are nobody)."""
    return user.id if isinstance(user, demo.DemoUser) else None


def other_than(user: User, first: demo.DemoUser, second: demo.DemoUser) -> UUID:
    return second.id if user is first else first.id


def dep_report(name: str) -> str:
    return json.dumps(
        [
            {
                "package_manager": "npm",
                "package_name": name,
                "version_constraint": "^1.0.0",
                "resolved_version": "1.0.1",
            }
        ]
    )


def health_report() -> str:
    return json.dumps(
        [
            {
                "metric_type": "cpu",
                "value": {"value": 12.5, "unit": "%"},
                "recorded_at": "2099-01-01T00:00:00Z",
            }
        ]
    )
