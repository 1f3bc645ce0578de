"""How an audit entry reads in the Activity tab and `devsync audit`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from devsync_tui.core.audit_wording import describe
from devsync_tui.core.models import AuditEntry

ENV, DAVE, BOB = UUID(int=5), UUID(int=7), UUID(int=8)


def _entry(action: str, details: dict[str, Any], target: str | None = None) -> AuditEntry:
    return AuditEntry(
        1, UUID(int=1), BOB, "alice", action, "environment", target, None, None, details,
        datetime(2026, 12, 8, tzinfo=UTC),
    )  # fmt: skip


def test_an_environment_given_to_someone_names_both() -> None:
    entry = _entry(
        "environment.owner", {"name": "bob-laptop", "from": str(BOB), "to": str(DAVE)}, str(ENV)
    )
    assert describe(entry, {str(DAVE): "dave"}) == "gave bob-laptop to dave"
    assert describe(entry) == f"gave bob-laptop to {DAVE}"  # no name known: the id


def test_an_accepted_risk_reads_by_its_advisory() -> None:
    entry = _entry("risk.accept", {"advisory_id": "GHSA-35jh-r3h4-6jhm", "until": "2027-03-01"})
    assert describe(entry) == "accepted risk GHSA-35jh-r3h4-6jhm until 2027-03-01"
