"""Dependency drift: the matrix the TUI shows (packages × baseline + environments) and the
report ``devsync drift`` prints.

A cell's state, first rule that applies:

1. MISSING — the package is in the baseline but not in this environment;
2. VULNERABLE — its ``status`` is vulnerable;
3. VIOLATES — its resolved version does not satisfy the baseline's constraint (or, when the
   baseline has none, the environment's own);
4. OUTDATED — its ``status`` is outdated;
5. DIFFERS — its resolved version differs from the baseline's (or the baseline lacks it);
6. MATCHES.

The report keeps the three signals apart (baseline drift, constraint violations,
freshness/security), since one package can show all three.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal
from uuid import UUID

from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager
from devsync_tui.core.names import package_key
from devsync_tui.core.versions import compare, satisfies


class DriftState(IntEnum):
    """How a cell stands, ordered by severity (higher = worse)."""

    MATCHES = 0
    DIFFERS = 1
    OUTDATED = 2
    MISSING = 3
    VIOLATES = 4
    VULNERABLE = 5


#: One character per state, readable without colour.
SYMBOLS: dict[DriftState, str] = {
    DriftState.MATCHES: "=",
    DriftState.DIFFERS: "≠",
    DriftState.OUTDATED: "↑",
    DriftState.MISSING: "∅",
    DriftState.VIOLATES: "✗",
    DriftState.VULNERABLE: "!",
}

#: A word per state, for legends and screen readers.
LABELS: dict[DriftState, str] = {
    DriftState.MATCHES: "matches",
    DriftState.DIFFERS: "differs",
    DriftState.OUTDATED: "outdated",
    DriftState.MISSING: "missing",
    DriftState.VIOLATES: "violates constraint",
    DriftState.VULNERABLE: "vulnerable",
}


@dataclass(frozen=True, slots=True)
class DriftCell:
    """One package in one environment (or the baseline)."""

    version: str | None
    constraint: str | None
    state: DriftState


@dataclass(frozen=True, slots=True)
class DriftRow:
    """One package across the baseline and the environments."""

    package_manager: PackageManager
    package_name: str
    baseline: DriftCell | None  # None: package not in the baseline
    cells: tuple[DriftCell | None, ...]  # aligned with environment_ids; None = absent, no baseline
    worst: DriftState


@dataclass(frozen=True, slots=True)
class DriftMatrix:
    """Packages × environments, rows ordered by (manager, name) unless re-sorted."""

    environment_ids: tuple[UUID, ...]
    rows: tuple[DriftRow, ...]

    def drifted(self) -> DriftMatrix:
        """Only the rows where some cell is not MATCHES."""
        return DriftMatrix(self.environment_ids, tuple(r for r in self.rows if r.worst))

    def sorted_by_severity(self) -> DriftMatrix:
        """Worst rows first; (manager, name) order among equals."""
        ordered = sorted(self.rows, key=lambda r: -r.worst)  # sorted() is stable
        return DriftMatrix(self.environment_ids, tuple(ordered))

    def filtered(self, text: str) -> DriftMatrix:
        """Rows whose package name (or manager) contains ``text``, ignoring case."""
        needle = text.strip().lower()
        if not needle:
            return self
        rows = tuple(
            r
            for r in self.rows
            if needle in r.package_name.lower() or needle == r.package_manager.value
        )
        return DriftMatrix(self.environment_ids, rows)


_VULNERABLE = DependencyStatus.VULNERABLE
_OUTDATED = DependencyStatus.OUTDATED


def _violates(manager: PackageManager, version: str | None, constraint: str | None) -> bool:
    """True only when the version is known not to satisfy the constraint (None = can't tell)."""
    if not version or not constraint:
        return False
    return satisfies(manager, version, constraint) is False


_SEMVER_MANAGERS = (PackageManager.NPM, PackageManager.CARGO)


def _same_version(manager: PackageManager, a: str, b: str) -> bool:
    if a == b:
        return True
    # Two plain semver strings are the same version only when equal (build tags aside).
    plain = a[:1].isdigit() and b[:1].isdigit() and "+" not in a and "+" not in b
    if manager in _SEMVER_MANAGERS and plain:
        return False
    return compare(manager, a, b) == 0


def _state(dep: Dependency, baseline: Dependency | None) -> DriftState:
    if dep.status is _VULNERABLE:
        return DriftState.VULNERABLE
    constraint = dep.version_constraint
    if baseline is not None and baseline.version_constraint:
        constraint = baseline.version_constraint
    if _violates(dep.package_manager, dep.resolved_version, constraint):
        return DriftState.VIOLATES
    if dep.status is _OUTDATED:
        return DriftState.OUTDATED
    if baseline is None:
        return DriftState.DIFFERS
    return DriftState.DIFFERS if _differs(dep, baseline) else DriftState.MATCHES


def _baseline_state(dep: Dependency) -> DriftState:
    if dep.status is _VULNERABLE:
        return DriftState.VULNERABLE
    if _violates(dep.package_manager, dep.resolved_version, dep.version_constraint):
        return DriftState.VIOLATES
    if dep.status is _OUTDATED:
        return DriftState.OUTDATED
    return DriftState.MATCHES


_Key = tuple[PackageManager, str]


def _group(
    deps: Iterable[Dependency], index: Mapping[UUID, int]
) -> dict[_Key, tuple[Dependency | None, dict[int, Dependency]]]:
    grouped: dict[_Key, tuple[Dependency | None, dict[int, Dependency]]] = {}
    for dep in deps:
        # Names are matched the way the ecosystem matches them (PEP 503 for pip, crates.io's
        # rule for cargo; npm and gems exactly): ``Foo_Bar`` on one machine is ``foo-bar``.
        key = (dep.package_manager, package_key(dep.package_manager, dep.package_name))
        entry = grouped.get(key)
        if dep.environment_id is None:
            grouped[key] = (dep, entry[1] if entry else {})
            continue
        column = index.get(dep.environment_id)
        if column is None:
            continue  # an environment the caller does not show
        if entry is None:
            entry = grouped[key] = (None, {})
        entry[1][column] = dep
    return grouped


def _shown(entry: tuple[Dependency | None, dict[int, Dependency]]) -> str:
    """The name a row shows: the baseline's spelling, else the first environment's."""
    baseline, by_column = entry
    first = baseline if baseline is not None else by_column[min(by_column)]
    return first.package_name


def _ordered(
    grouped: dict[_Key, tuple[Dependency | None, dict[int, Dependency]]],
) -> list[tuple[PackageManager, str, _Key]]:
    """(manager, shown name, key) sorted by manager then shown name."""
    return sorted((key[0], _shown(entry), key) for key, entry in grouped.items())


def build_matrix(deps: Iterable[Dependency], environment_ids: Sequence[UUID]) -> DriftMatrix:
    """The drift matrix of these dependency rows over these environments (baseline rows have
    ``environment_id`` None; rows of other environments are ignored)."""
    # Building allocates ~100k small tuples that all survive: a cyclic-GC pass in the middle
    # would only walk them (and every object the caller holds) for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_matrix(deps, environment_ids)
    finally:
        if was_enabled:
            gc.enable()


def _build_matrix(deps: Iterable[Dependency], environment_ids: Sequence[UUID]) -> DriftMatrix:
    env_ids = tuple(environment_ids)
    index = {env_id: i for i, env_id in enumerate(env_ids)}
    width = len(env_ids)
    grouped = _group(deps, index)
    # Identical cells recur across environments: build each once.
    cells: dict[tuple[str | None, str | None, DriftState], DriftCell] = {}
    states: dict[tuple[Any, ...], DriftState] = {}
    missing = DriftCell(None, None, DriftState.MISSING)
    rows: list[DriftRow] = []
    for manager, shown, key in _ordered(grouped):
        baseline_dep, by_column = grouped[key]
        baseline_cell = None
        worst = DriftState.MATCHES
        if baseline_dep is not None:
            b_state = _baseline_state(baseline_dep)
            baseline_cell = DriftCell(
                baseline_dep.resolved_version, baseline_dep.version_constraint, b_state
            )
            worst = b_state
            b_version, b_constraint = baseline_dep.resolved_version, baseline_dep.version_constraint
        else:
            b_version = b_constraint = None
        in_baseline = baseline_dep is not None
        row: list[DriftCell | None] = [missing if in_baseline else None] * width
        if baseline_dep is not None and len(by_column) < width:
            worst = max(worst, DriftState.MISSING)
        for column, dep in by_column.items():
            version, constraint = dep.resolved_version, dep.version_constraint
            memo = (key[0], version, constraint, dep.status, b_version, b_constraint, in_baseline)
            state = states.get(memo)
            if state is None:
                state = states[memo] = _state(dep, baseline_dep)
            cell_key = (version, constraint, state)
            cell = cells.get(cell_key)
            if cell is None:
                cell = cells[cell_key] = DriftCell(version, constraint, state)
            row[column] = cell
            if state > worst:
                worst = state
        rows.append(DriftRow(manager, shown, baseline_cell, tuple(row), worst))
    return DriftMatrix(env_ids, tuple(rows))


FindingKind = Literal["differs", "missing", "extra", "violates", "outdated", "vulnerable"]


@dataclass(frozen=True, slots=True)
class DriftFinding:
    """One problem of one package in one place (``environment_id`` None = the baseline)."""

    kind: FindingKind
    package_manager: PackageManager
    package_name: str
    environment_id: UUID | None
    environment_name: str
    version: str | None
    expected: str | None  # baseline version (drift) or constraint (violation)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "package_manager": self.package_manager.value,
            "package_name": self.package_name,
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
        }


BASELINE_NAME = "baseline"


def drift_report(deps: Iterable[Dependency], environments: Mapping[UUID, str]) -> DriftReport:
    """Findings for the baseline and the given environments (id → name, in display order)."""
    env_ids = list(environments)
    names = list(environments.values())
    grouped = _group(deps, {env_id: i for i, env_id in enumerate(env_ids)})
    drift: list[DriftFinding] = []
    violations: list[DriftFinding] = []
    freshness: list[DriftFinding] = []
    for manager, name, key in _ordered(grouped):
        baseline, by_column = grouped[key]
        for column, env_id in enumerate(env_ids):
            dep = by_column.get(column)
            kind: FindingKind | None = None
            if dep is None and baseline is not None:
                kind = "missing"
            elif dep is not None and baseline is None:
                kind = "extra"
            elif dep is not None and baseline is not None and _differs(dep, baseline):
                kind = "differs"
            if kind is not None:
                version = dep.resolved_version if dep is not None else None
                expected = baseline.resolved_version if baseline is not None else None
                drift.append(
                    DriftFinding(kind, manager, name, env_id, names[column], version, expected)
                )
        places: list[tuple[UUID | None, str, Dependency]] = []
        if baseline is not None:
            places.append((None, BASELINE_NAME, baseline))
        places.extend((env_ids[c], names[c], by_column[c]) for c in sorted(by_column))
        for place_id, place_name, dep in places:
            constraint = dep.version_constraint
            if place_id is not None and baseline is not None and baseline.version_constraint:
                constraint = baseline.version_constraint
            version = dep.resolved_version
            if _violates(manager, version, constraint):
                violations.append(
                    DriftFinding(
                        "violates", manager, name, place_id, place_name, version, constraint
                    )
                )
            if dep.status is _OUTDATED or dep.status is _VULNERABLE:
                status_kind: FindingKind = "outdated" if dep.status is _OUTDATED else "vulnerable"
                freshness.append(
                    DriftFinding(status_kind, manager, name, place_id, place_name, version, None)
                )
    return DriftReport(
        tuple(drift), tuple(violations), tuple(freshness), len(grouped), len(env_ids)
    )


def _differs(dep: Dependency, baseline: Dependency) -> bool:
    ours, theirs = dep.resolved_version, baseline.resolved_version
    if theirs is None:
        return False
    return ours is None or not _same_version(dep.package_manager, ours, theirs)
