"""The report ``devsync drift`` prints: three signals kept apart, since one package can show
all three — baseline drift (version sets that differ from the baseline's), constraint
violations, and freshness/security (``status`` outdated or vulnerable).

Baseline drift, per package and environment (``drift_sets.split``):

- ``missing`` — the baseline has the package, the environment none of its versions;
- ``extra`` — the environment has a package the baseline does not;
- ``differs`` — a version where the baseline has another (newest paired with newest);
- ``extra_version`` — a further copy the baseline does not have (lodash 4.17.21 and a nested
  4.17.11 against a baseline of 4.17.21: the old copy);
- ``missing_version`` — a baseline version the environment lacks beside the ones it has.

Violations and freshness are per version: each installed copy counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from devsync_tui.core.drift_sets import (
    OUTDATED,
    VULNERABLE,
    by_name,
    constraint_for,
    group,
    ordered,
    split,
    violates,
)
from devsync_tui.core.models import Dependency, PackageKind, PackageManager

FindingKind = Literal[
    "differs",
    "missing",
    "extra",
    "extra_version",
    "missing_version",
    "violates",
    "outdated",
    "vulnerable",
]


@dataclass(frozen=True, slots=True)
class DriftFinding:
    """One problem of one package version in one place (``environment_id`` None = the
    baseline)."""

    kind: FindingKind
    package_manager: PackageManager
    package_name: str
    environment_id: UUID | None
    environment_name: str
    version: str | None
    expected: str | None  # baseline version (drift) or constraint (violation)
    #: Where the package comes from (the row's kind; for ``missing``, the baseline's).
    source: PackageKind = PackageKind.REGISTRY

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "package_manager": self.package_manager.value,
            "package_name": self.package_name,
            "package_kind": self.source.value,
            "environment_id": str(self.environment_id) if self.environment_id else None,
            "environment": self.environment_name,
            "version": self.version,
            "expected": self.expected,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The three signals of ``devsync drift``, each sorted by package then environment."""

    baseline_drift: tuple[DriftFinding, ...]
    violations: tuple[DriftFinding, ...]
    freshness: tuple[DriftFinding, ...]
    packages: int
    environments: int
    #: Vulnerable versions whose every known advisory the project accepts (until a date):
    #: shown apart, not counted as drift (``core.drift_facts.apply_accepted``).
    ignored: tuple[DriftFinding, ...] = ()

    @property
    def has_drift(self) -> bool:
        return bool(self.baseline_drift or self.violations or self.freshness)

    def to_json(self) -> dict[str, Any]:
        return {
            "packages": self.packages,
            "environments": self.environments,
            "drift": self.has_drift,
            "baseline_drift": [f.to_json() for f in self.baseline_drift],
            "constraint_violations": [f.to_json() for f in self.violations],
            "outdated_or_vulnerable": [f.to_json() for f in self.freshness],
            "ignored": [f.to_json() for f in self.ignored],
        }


BASELINE_NAME = "baseline"


def _drift_in(
    manager: PackageManager,
    name: str,
    env_id: UUID,
    env_name: str,
    deps: list[Dependency],
    baseline: list[Dependency],
) -> list[DriftFinding]:
    """Baseline drift of one package in one environment."""

    def make(
        kind: FindingKind, dep: Dependency | None, expected: str | None, source: Dependency
    ) -> DriftFinding:
        version = dep.resolved_version if dep is not None else None
        return DriftFinding(kind, manager, name, env_id, env_name, version, expected, source.kind)

    if not baseline:
        return [make("extra", d, None, d) for d in ordered(manager, deps)]
    if not deps:
        return [make("missing", None, b.resolved_version, b) for b in ordered(manager, baseline)]
    pairs, extra, lacking = split(manager, deps, baseline)
    out = [make("differs", d, b.resolved_version, d) for d, b in pairs]
    listed = ", ".join(b.resolved_version or "unresolved" for b in ordered(manager, baseline))
    out += [make("extra_version", d, listed, d) for d in extra]
    out += [make("missing_version", None, b.resolved_version, b) for b in lacking]
    return out


def drift_report(deps: Iterable[Dependency], environments: Mapping[UUID, str]) -> DriftReport:
    """Findings for the baseline and the given environments (id → name, in display order)."""
    env_ids = list(environments)
    names = list(environments.values())
    grouped = group(deps, {env_id: i for i, env_id in enumerate(env_ids)})
    drift: list[DriftFinding] = []
    violations: list[DriftFinding] = []
    freshness: list[DriftFinding] = []
    for manager, name, key in by_name(grouped):
        baseline, by_column = grouped[key]
        for column, env_id in enumerate(env_ids):
            here = by_column.get(column, [])
            drift += _drift_in(manager, name, env_id, names[column], here, baseline)
        places: list[tuple[UUID | None, str, Dependency]] = [
            (None, BASELINE_NAME, b) for b in ordered(manager, baseline)
        ]
        for column in sorted(by_column):
            places += [
                (env_ids[column], names[column], d) for d in ordered(manager, by_column[column])
            ]
        for place_id, place_name, dep in places:
            constraint = (
                constraint_for(dep, baseline) if place_id is not None else dep.version_constraint
            )
            version = dep.resolved_version
            if violates(manager, version, constraint):
                violations.append(
                    DriftFinding(
                        "violates",
                        manager,
                        name,
                        place_id,
                        place_name,
                        version,
                        constraint,
                        dep.kind,
                    )
                )
            if dep.status is OUTDATED or dep.status is VULNERABLE:
                status_kind: FindingKind = "outdated" if dep.status is OUTDATED else "vulnerable"
                freshness.append(
                    DriftFinding(
                        status_kind, manager, name, place_id, place_name, version, None, dep.kind
                    )
                )
    return DriftReport(
        tuple(drift), tuple(violations), tuple(freshness), len(grouped), len(env_ids)
    )


def merged_report(parts: Iterable[DriftReport], environments: int) -> DriftReport:
    """One report from the reports of disjoint sets of whole packages (``drift_report`` of each
    page of ``Backend.dependency_pages``): the same as ``drift_report`` of all their rows, so a
    project never has to be held whole. Findings are put back in package order (a stable
    sort: a package's own findings keep theirs)."""

    def in_order(findings: list[DriftFinding]) -> tuple[DriftFinding, ...]:
        return tuple(sorted(findings, key=lambda f: (f.package_manager, f.package_name)))

    drift: list[DriftFinding] = []
    violations: list[DriftFinding] = []
    freshness: list[DriftFinding] = []
    ignored: list[DriftFinding] = []
    packages = 0
    for part in parts:
        drift += part.baseline_drift
        violations += part.violations
        freshness += part.freshness
        ignored += part.ignored
        packages += part.packages
    return DriftReport(
        in_order(drift),
        in_order(violations),
        in_order(freshness),
        packages,
        environments,
        in_order(ignored),
    )
