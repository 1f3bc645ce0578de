"""What is known about the versions of a drift report (advisories, freshness), for
``devsync drift --json`` and the text report: each vulnerable version names its advisories,
each outdated one its latest (and wanted) release."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from devsync_tui.core.drift_report import DriftFinding, DriftReport
from devsync_tui.core.models import (
    AcceptedRisk,
    Advisory,
    Dependency,
    DependencyStatus,
    PackageFacts,
    PackageManager,
)


def accepted_for(
    advisory: Advisory, risks: Sequence[AcceptedRisk], today: date
) -> AcceptedRisk | None:
    """The project's entry accepting this advisory (by its id or an alias), if it counts
    today; an expired entry counts no more."""
    names = {advisory.id, *advisory.aliases}
    for risk in risks:
        if risk.advisory_id in names and risk.active(today):
            return risk
    return None


def all_accepted(found: Sequence[Advisory], risks: Sequence[AcceptedRisk], today: date) -> bool:
    """Whether a version with the advisories ``found`` is an accepted risk: it has some, and
    every one is accepted today (one nobody accepted, or none known: not accepted)."""
    return bool(found) and all(accepted_for(a, risks, today) is not None for a in found)


def accepted_versions(
    deps: Iterable[Dependency], facts: PackageFacts, risks: Sequence[AcceptedRisk], today: date
) -> frozenset[tuple[PackageManager, str, str | None]]:
    """The vulnerable versions among ``deps`` whose every known advisory is accepted today:
    (manager, name, version), as ``core.drift.build_matrix`` takes them."""
    if not risks:
        return frozenset()
    by_version: dict[tuple[PackageManager, str, str | None], list[Advisory]] = {}
    for a in facts.advisories:
        by_version.setdefault((a.package_manager, a.package_name, a.version), []).append(a.advisory)
    found = set()
    for d in deps:
        if d.status is not DependencyStatus.VULNERABLE:
            continue
        key = (d.package_manager, d.package_name, d.resolved_version)
        if key not in found and all_accepted(by_version.get(key, []), risks, today):
            found.add(key)
    return frozenset(found)


def apply_accepted(
    report: DriftReport, facts: PackageFacts, risks: Sequence[AcceptedRisk], today: date
) -> DriftReport:
    """The report with each vulnerable version whose every known advisory is accepted moved
    to ``ignored`` (a version with an advisory nobody accepted, or with none known, stays)."""
    kept: list[DriftFinding] = []
    ignored: list[DriftFinding] = []
    for finding in report.freshness:
        found = (
            facts.advisories_of(finding.package_manager, finding.package_name, finding.version)
            if finding.kind == "vulnerable"
            else []
        )
        if all_accepted(found, risks, today):
            ignored.append(finding)
        else:
            kept.append(finding)
    return dataclasses.replace(report, freshness=tuple(kept), ignored=tuple(ignored))


def advisory_json(advisory: Advisory, accepted: AcceptedRisk | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": advisory.id,
        "aliases": list(advisory.aliases),
        "severity": advisory.severity,
        "summary": advisory.summary,
        "fixed_version": advisory.fixed_version,
    }
    if accepted is not None:
        data["accepted"] = {"until": accepted.until.isoformat(), "reason": accepted.reason}
    return data


def advisory_text(advisory: Advisory) -> str:
    """``GHSA-… (CVE-…, HIGH; fixed in 4.17.21)``."""
    extra = [*advisory.aliases[:2], *([advisory.severity] if advisory.severity else [])]
    inside = ", ".join(extra)
    if advisory.fixed_version:
        inside += ("; " if inside else "") + f"fixed in {advisory.fixed_version}"
    return f"{advisory.id} ({inside})" if inside else advisory.id


def finding_facts(
    finding: DriftFinding,
    facts: PackageFacts,
    constraint: str | None,
    risks: Sequence[AcceptedRisk] = (),
    today: date = date.min,
) -> dict[str, Any]:
    """The facts a finding's JSON carries: advisories of a vulnerable version (with the
    project's acceptance where one counts), latest and wanted of an outdated one."""
    if finding.kind == "vulnerable":
        found = facts.advisories_of(finding.package_manager, finding.package_name, finding.version)
        return {"advisories": [advisory_json(a, accepted_for(a, risks, today)) for a in found]}
    if finding.kind == "outdated":
        fresh = facts.freshness_of(finding.package_manager, finding.package_name, constraint)
        return {
            "latest": fresh.latest if fresh else None,
            "wanted": fresh.wanted if fresh else None,
        }
    return {}


def report_json(
    report: DriftReport,
    deps: Iterable[Dependency],
    facts: PackageFacts,
    risks: Sequence[AcceptedRisk] = (),
    today: date = date.min,
) -> dict[str, Any]:
    """``DriftReport.to_json()`` with the facts: findings carry theirs (``ignored`` ones their
    acceptance), and ``advisories`` / ``freshness`` / ``accepted_risks`` list every one known
    for the versions and packages in the report."""
    rows = list(deps)
    constraints = {
        (d.package_manager, d.package_name, d.environment_id, d.resolved_version): (
            d.version_constraint
        )
        for d in rows
    }
    data = report.to_json()
    for key, findings in (
        ("outdated_or_vulnerable", report.freshness),
        ("ignored", report.ignored),
    ):
        data[key] = [
            {
                **f.to_json(),
                **finding_facts(
                    f,
                    facts,
                    constraints.get(
                        (f.package_manager, f.package_name, f.environment_id, f.version)
                    ),
                    risks,
                    today,
                ),
            }
            for f in findings
        ]
    data["accepted_risks"] = [
        {
            "advisory_id": r.advisory_id,
            "until": r.until.isoformat(),
            "reason": r.reason,
            "expired": not r.active(today),
        }
        for r in risks
    ]
    versions = {(d.package_manager, d.package_name, d.resolved_version) for d in rows}
    names = {(d.package_manager, d.package_name) for d in rows}
    data["advisories"] = [
        {
            "package_manager": a.package_manager.value,
            "package_name": a.package_name,
            "version": a.version,
            **advisory_json(a.advisory),
        }
        for a in facts.advisories
        if (a.package_manager, a.package_name, a.version) in versions
    ]
    data["freshness"] = [
        {
            "package_manager": f.package_manager.value,
            "package_name": f.package_name,
            "version_constraint": f.version_constraint,
            "latest": f.latest,
            "wanted": f.wanted,
            "checked_at": f.checked_at.isoformat(),
        }
        for f in facts.freshness
        if (f.package_manager, f.package_name) in names
    ]
    return data
