"""What is known about the versions of a drift report (advisories, freshness), for
``devsync drift --json`` and the text report: each vulnerable version names its advisories,
each outdated one its latest (and wanted) release."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from devsync_tui.core.drift_report import DriftFinding, DriftReport
from devsync_tui.core.models import Advisory, Dependency, PackageFacts


def advisory_json(advisory: Advisory) -> dict[str, Any]:
    return {
        "id": advisory.id,
        "aliases": list(advisory.aliases),
        "severity": advisory.severity,
        "summary": advisory.summary,
        "fixed_version": advisory.fixed_version,
    }


def advisory_text(advisory: Advisory) -> str:
    """``GHSA-… (CVE-…, HIGH; fixed in 4.17.21)``."""
    extra = [*advisory.aliases[:2], *([advisory.severity] if advisory.severity else [])]
    inside = ", ".join(extra)
    if advisory.fixed_version:
        inside += ("; " if inside else "") + f"fixed in {advisory.fixed_version}"
    return f"{advisory.id} ({inside})" if inside else advisory.id


def finding_facts(
    finding: DriftFinding, facts: PackageFacts, constraint: str | None
) -> dict[str, Any]:
    """The facts a finding's JSON carries: advisories of a vulnerable version, latest and
    wanted of an outdated one."""
    if finding.kind == "vulnerable":
        found = facts.advisories_of(finding.package_manager, finding.package_name, finding.version)
        return {"advisories": [advisory_json(a) for a in found]}
    if finding.kind == "outdated":
        fresh = facts.freshness_of(finding.package_manager, finding.package_name, constraint)
        return {
            "latest": fresh.latest if fresh else None,
            "wanted": fresh.wanted if fresh else None,
        }
    return {}


def report_json(
    report: DriftReport, deps: Iterable[Dependency], facts: PackageFacts
) -> dict[str, Any]:
    """``DriftReport.to_json()`` with the facts: findings carry theirs, and ``advisories`` /
    ``freshness`` list every one known for the versions and packages in the report."""
    rows = list(deps)
    constraints = {
        (d.package_manager, d.package_name, d.environment_id, d.resolved_version): (
            d.version_constraint
        )
        for d in rows
    }
    data = report.to_json()
    data["outdated_or_vulnerable"] = [
        {
            **f.to_json(),
            **finding_facts(
                f,
                facts,
                constraints.get((f.package_manager, f.package_name, f.environment_id, f.version)),
            ),
        }
        for f in report.freshness
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
