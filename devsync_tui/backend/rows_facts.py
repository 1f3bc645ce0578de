"""Rows of the package facts and accepted risks → models, and models → the JSON their RPCs
take (``rows`` holds the others)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from devsync_tui.backend.rows import ROW_MAPPERS, Row, as_datetime, as_uuid, opt_str, opt_uuid
from devsync_tui.core.models import (
    AcceptedRisk,
    Advisory,
    AdvisoryCheck,
    Freshness,
    PackageManager,
    VersionAdvisory,
)


# -- package facts (advisories and freshness) ----------------------------------------------
def package_facts_payload(
    advisories: Sequence[AdvisoryCheck], freshness: Sequence[Freshness]
) -> dict[str, Any]:
    """``p_facts`` of ``report_package_facts`` / ``machine_report_package_facts``."""
    return {
        "advisories": [
            {
                "package_manager": str(c.package_manager),
                "package_name": c.package_name,
                "version": c.version,
                "checked_at": c.checked_at.isoformat(),
                "advisories": [
                    {
                        "id": a.id,
                        "aliases": list(a.aliases),
                        "severity": a.severity,
                        "summary": a.summary,
                        "fixed_version": a.fixed_version,
                    }
                    for a in c.advisories
                ],
            }
            for c in advisories
        ],
        "freshness": [
            {
                "package_manager": str(f.package_manager),
                "package_name": f.package_name,
                "version_constraint": f.version_constraint or "",
                "latest": f.latest,
                "wanted": f.wanted,
                "checked_at": f.checked_at.isoformat(),
            }
            for f in freshness
        ],
    }


def version_advisory_from_row(r: Row) -> VersionAdvisory:
    aliases = r.get("aliases") or []
    if isinstance(aliases, str):  # PostgREST sends text[] as a JSON array; be lenient
        aliases = [aliases]
    return VersionAdvisory(
        package_manager=PackageManager(r["package_manager"]),
        package_name=str(r["package_name"]),
        version=str(r["version"]),
        advisory=Advisory(
            id=str(r["advisory_id"]),
            aliases=tuple(str(a) for a in aliases),
            severity=opt_str(r.get("severity")),
            summary=opt_str(r.get("summary")),
            fixed_version=opt_str(r.get("fixed_version")),
        ),
    )


def freshness_from_row(r: Row) -> Freshness:
    return Freshness(
        package_manager=PackageManager(r["package_manager"]),
        package_name=str(r["package_name"]),
        version_constraint=opt_str(r.get("version_constraint")) or None,
        latest=opt_str(r.get("latest")),
        wanted=opt_str(r.get("wanted")),
        checked_at=as_datetime(r["checked_at"]),
    )


def accepted_risk_from_row(r: Row) -> AcceptedRisk:
    until = r["until"]
    return AcceptedRisk(
        id=as_uuid(r["id"]),
        project_id=as_uuid(r["project_id"]),
        advisory_id=str(r["advisory_id"]),
        reason=str(r["reason"]),
        until=until if isinstance(until, date) else date.fromisoformat(str(until)),
        created_by=opt_uuid(r.get("created_by")),
        created_at=as_datetime(r["created_at"]),
    )


# ``Transport._rows("accepted_risks", …)`` builds these (``rows.row_to_model``).
ROW_MAPPERS["accepted_risks"] = accepted_risk_from_row
