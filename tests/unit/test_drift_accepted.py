"""Which vulnerable versions are accepted risks: every known advisory accepted (by id or an
alias) and the acceptance not expired; none known, or one not accepted, is not accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from devsync_tui.core.drift_facts import accepted_versions
from devsync_tui.core.models import (
    AcceptedRisk,
    Advisory,
    Dependency,
    DependencyStatus,
    PackageFacts,
    PackageManager,
    VersionAdvisory,
)

NPM = PackageManager.NPM
TODAY = date(2026, 12, 5)
GHSA = Advisory("GHSA-35jh-r3h4-6jhm", ("CVE-2021-23337",), "HIGH")
OTHER = Advisory("GHSA-p6mc-m468-83gw", (), "HIGH")


def _dep(name: str, version: str, status: DependencyStatus) -> Dependency:
    return Dependency(uuid4(), uuid4(), None, NPM, name, None, version, status)


def _risk(advisory_id: str, until: date) -> AcceptedRisk:
    return AcceptedRisk(
        uuid4(), uuid4(), advisory_id, "reviewed", until, None, datetime(2026, 12, 1, tzinfo=UTC)
    )


def _facts(*found: tuple[str, str, Advisory]) -> PackageFacts:
    return PackageFacts(tuple(VersionAdvisory(NPM, n, v, a) for n, v, a in found))


def test_accepted_versions() -> None:
    vulnerable = DependencyStatus.VULNERABLE
    deps = [
        _dep("lodash", "4.17.11", vulnerable),  # one advisory, accepted by its CVE alias
        _dep("minimist", "1.2.5", vulnerable),  # two advisories, one accepted
        _dep("qs", "6.5.2", vulnerable),  # no advisory stored
        _dep("ok", "1.0.0", DependencyStatus.HEALTHY),
    ]
    facts = _facts(
        ("lodash", "4.17.11", GHSA),
        ("minimist", "1.2.5", GHSA),
        ("minimist", "1.2.5", OTHER),
    )
    risks = [_risk("CVE-2021-23337", TODAY)]
    assert accepted_versions(deps, facts, risks, TODAY) == {(NPM, "lodash", "4.17.11")}
    expired = [_risk("CVE-2021-23337", date(2026, 12, 4))]
    assert accepted_versions(deps, facts, expired, TODAY) == frozenset()
    both = [*risks, _risk(OTHER.id, TODAY)]
    assert accepted_versions(deps, facts, both, TODAY) == {
        (NPM, "lodash", "4.17.11"),
        (NPM, "minimist", "1.2.5"),
    }
    assert accepted_versions(deps, facts, [], TODAY) == frozenset()
