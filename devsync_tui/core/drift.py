"""Dependency drift: the matrix the TUI shows (packages × baseline + environments); the report
``devsync drift`` prints is ``core.drift_report`` (re-exported here).

Each place (the baseline, an environment) holds a set of versions of a package — npm nests
copies, pip pins under exclusive markers, Cargo locks two majors. A version's state, first
rule that applies:

1. VULNERABLE — its ``status`` is vulnerable, unless every advisory known for it is an
   accepted risk (``accepted``): then the rules below apply, and ACCEPTED instead of MATCHES,
   DIFFERS or OUTDATED;
2. VIOLATES — it does not satisfy the baseline's constraint (or, when the baseline has none,
   its own);
3. OUTDATED — its ``status`` is outdated;
4. DIFFERS — the baseline lacks the package, or has it but not at this version;
5. MATCHES.

A cell is the worst of its versions' states; MISSING when the baseline has the package and
the environment none of it, and at least DIFFERS when the environment lacks one of the
baseline's versions. A cell of several versions lists them all (``versions``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from devsync_tui.core.drift_report import (
    BASELINE_NAME,
    DriftFinding,
    DriftReport,
    FindingKind,
    drift_report,
)
from devsync_tui.core.drift_sets import (
    LABELS,
    OUTDATED,
    SYMBOLS,
    VULNERABLE,
    DriftState,
    by_name,
    constraint_for,
    group,
    matches_baseline,
    ordered,
    violates,
)
from devsync_tui.core.models import Dependency, DependencySummary, PackageManager

__all__ = [
    "BASELINE_NAME",
    "LABELS",
    "SYMBOLS",
    "DriftCell",
    "DriftFinding",
    "DriftMatrix",
    "DriftReport",
    "DriftRow",
    "DriftState",
    "FindingKind",
    "build_matrix",
    "drift_report",
]


@dataclass(frozen=True, slots=True)
class DriftCell:
    """One package in one environment (or the baseline).

    ``version`` is the resolved version — for several versions, all of them, newest first,
    separated by ", " — and ``versions`` then holds one cell per version with its own state
    (empty for a single version: see ``entries``)."""

    version: str | None
    constraint: str | None
    state: DriftState
    versions: tuple[DriftCell, ...] = ()

    @property
    def entries(self) -> tuple[DriftCell, ...]:
        """One cell per installed version (itself when there is one)."""
        return self.versions or (self,)


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
        ordered_rows = sorted(self.rows, key=lambda r: -r.worst)  # sorted() is stable
        return DriftMatrix(self.environment_ids, tuple(ordered_rows))

    def summary(self) -> DependencySummary:
        """Its counts, as the database's ``dependency_summary`` counts the same rows."""
        vulnerable = missing = drifted = 0
        for row in self.rows:
            if row.worst:
                drifted += 1
            if row.worst == DriftState.VULNERABLE:
                vulnerable += 1
            # A row is at least MISSING where a cell is: only those rows need a look.
            if (
                row.worst >= DriftState.MISSING
                and row.baseline is not None
                and any(c is not None and c.state is DriftState.MISSING for c in row.cells)
            ):
                missing += 1
        return DependencySummary(len(self.rows), vulnerable, missing, drifted)

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


#: Versions whose every advisory is accepted: (manager, name, resolved version).
Accepted = frozenset[tuple[PackageManager, str, str | None]]


def _is_accepted(dep: Dependency, accepted: Accepted) -> bool:
    return (dep.package_manager, dep.package_name, dep.resolved_version) in accepted


def _state(dep: Dependency, baseline: Sequence[Dependency], accepted: Accepted) -> DriftState:
    risk = dep.status is VULNERABLE
    if risk and not _is_accepted(dep, accepted):
        return DriftState.VULNERABLE
    if violates(dep.package_manager, dep.resolved_version, constraint_for(dep, baseline)):
        return DriftState.VIOLATES
    if risk:
        return DriftState.ACCEPTED
    if dep.status is OUTDATED:
        return DriftState.OUTDATED
    if not baseline:
        return DriftState.DIFFERS
    if matches_baseline(dep.package_manager, dep.resolved_version, baseline):
        return DriftState.MATCHES
    return DriftState.DIFFERS


def _baseline_state(dep: Dependency, accepted: Accepted) -> DriftState:
    risk = dep.status is VULNERABLE
    if risk and not _is_accepted(dep, accepted):
        return DriftState.VULNERABLE
    if violates(dep.package_manager, dep.resolved_version, dep.version_constraint):
        return DriftState.VIOLATES
    if risk:
        return DriftState.ACCEPTED
    if dep.status is OUTDATED:
        return DriftState.OUTDATED
    return DriftState.MATCHES


def _joined(manager: PackageManager, parts: list[tuple[Dependency, DriftState]]) -> DriftCell:
    """The cell of one place: one version as it is; several all listed (newest first), with
    the worst state."""
    if len(parts) == 1:
        dep, state = parts[0]
        return DriftCell(dep.resolved_version, dep.version_constraint, state)
    state_of = {id(d): s for d, s in parts}
    cells = tuple(
        DriftCell(d.resolved_version, d.version_constraint, state_of[id(d)])
        for d in ordered(manager, [d for d, _ in parts])
    )
    shown = ", ".join(c.version or "—" for c in cells)
    constraint = next((c.constraint for c in cells if c.constraint), None)
    return DriftCell(shown, constraint, max(c.state for c in cells), cells)


def _set_cell(
    manager: PackageManager, deps: list[Dependency], baseline: list[Dependency], accepted: Accepted
) -> DriftCell:
    """An environment's cell when it or the baseline has several versions: at least DIFFERS
    when it lacks one of the baseline's versions."""
    cell = _joined(manager, [(d, _state(d, baseline, accepted)) for d in deps])
    lacking = any(
        not matches_baseline(manager, b.resolved_version, deps)
        for b in baseline
        if b.resolved_version is not None
    )
    if lacking and cell.state < DriftState.DIFFERS:
        return DriftCell(cell.version, cell.constraint, DriftState.DIFFERS, cell.versions)
    return cell


def build_matrix(
    deps: Iterable[Dependency], environment_ids: Sequence[UUID], accepted: Accepted = frozenset()
) -> DriftMatrix:
    """The drift matrix of these dependency rows over these environments (baseline rows have
    ``environment_id`` None; rows of other environments are ignored); vulnerable versions in
    ``accepted`` are ACCEPTED (``core.drift_facts.accepted_versions``)."""
    # Building allocates ~100k small tuples that all survive: a cyclic-GC pass in the middle
    # would only walk them (and every object the caller holds) for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_matrix(deps, environment_ids, accepted)
    finally:
        if was_enabled:
            gc.enable()


def _baseline_cell(
    manager: PackageManager, baseline: list[Dependency], accepted: Accepted
) -> DriftCell | None:
    if not baseline:
        return None
    if len(baseline) == 1:
        b = baseline[0]
        return DriftCell(b.resolved_version, b.version_constraint, _baseline_state(b, accepted))
    return _joined(manager, [(b, _baseline_state(b, accepted)) for b in baseline])


def _build_matrix(
    deps: Iterable[Dependency], environment_ids: Sequence[UUID], accepted: Accepted
) -> DriftMatrix:
    env_ids = tuple(environment_ids)
    index = {env_id: i for i, env_id in enumerate(env_ids)}
    width = len(env_ids)
    grouped = group(deps, index)
    # Identical cells recur across environments: build each once.
    cells: dict[tuple[str | None, str | None, DriftState], DriftCell] = {}
    states: dict[tuple[Any, ...], DriftState] = {}
    missing = DriftCell(None, None, DriftState.MISSING)
    rows: list[DriftRow] = []
    for manager, shown, key in by_name(grouped):
        baseline, by_column = grouped[key]
        baseline_cell = _baseline_cell(manager, baseline, accepted)
        worst = baseline_cell.state if baseline_cell is not None else DriftState.MATCHES
        single = baseline[0] if len(baseline) == 1 else None
        b_version = single.resolved_version if single is not None else None
        b_constraint = single.version_constraint if single is not None else None
        in_baseline = bool(baseline)
        row: list[DriftCell | None] = [missing if in_baseline else None] * width
        if in_baseline and len(by_column) < width:
            worst = max(worst, DriftState.MISSING)
        for column, here in by_column.items():
            if len(here) > 1 or len(baseline) > 1:
                cell = _set_cell(manager, here, baseline, accepted)
            else:
                dep = here[0]
                version, constraint = dep.resolved_version, dep.version_constraint
                memo = (
                    manager,
                    version,
                    constraint,
                    dep.status,
                    b_version,
                    b_constraint,
                    in_baseline,
                    bool(accepted) and _is_accepted(dep, accepted),
                )
                state = states.get(memo)
                if state is None:
                    state = states[memo] = _state(dep, baseline, accepted)
                cell_key = (version, constraint, state)
                found = cells.get(cell_key)
                if found is None:
                    found = cells[cell_key] = DriftCell(version, constraint, state)
                cell = found
            row[column] = cell
            if cell.state > worst:
                worst = cell.state
        rows.append(DriftRow(manager, shown, baseline_cell, tuple(row), worst))
    return DriftMatrix(env_ids, tuple(rows))
