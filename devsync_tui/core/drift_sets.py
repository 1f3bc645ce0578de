"""What the drift matrix and the drift report share: cell states, version comparison, and the
grouping of dependency rows into version sets per package.

A package may be installed at several versions in one place (npm nests copies, pip pins under
exclusive markers, Cargo locks two majors): each place holds a *set* of versions, and drift
compares sets. ``split`` pairs an environment's versions with the baseline's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import IntEnum
from functools import cmp_to_key
from uuid import UUID

from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager
from devsync_tui.core.names import package_key
from devsync_tui.core.versions import compare, satisfies


class DriftState(IntEnum):
    """How a cell stands, ordered by severity (higher = worse)."""

    MATCHES = 0
    DIFFERS = 1
    OUTDATED = 2
    #: Vulnerable, but every advisory known for the version is an accepted risk of the
    #: project (``devsync deps ignore``) that still counts today.
    ACCEPTED = 3
    MISSING = 4
    VIOLATES = 5
    VULNERABLE = 6


#: One character per state, readable without colour.
SYMBOLS: dict[DriftState, str] = {
    DriftState.MATCHES: "=",
    DriftState.DIFFERS: "≠",
    DriftState.OUTDATED: "↑",
    DriftState.ACCEPTED: "~",
    DriftState.MISSING: "∅",
    DriftState.VIOLATES: "✗",
    DriftState.VULNERABLE: "!",
}

#: A word per state, for legends and screen readers.
LABELS: dict[DriftState, str] = {
    DriftState.MATCHES: "matches",
    DriftState.DIFFERS: "differs",
    DriftState.OUTDATED: "outdated",
    DriftState.ACCEPTED: "accepted risk",
    DriftState.MISSING: "missing",
    DriftState.VIOLATES: "violates constraint",
    DriftState.VULNERABLE: "vulnerable",
}

VULNERABLE = DependencyStatus.VULNERABLE
OUTDATED = DependencyStatus.OUTDATED

Key = tuple[PackageManager, str]
#: A package's rows: the baseline's versions, and each shown environment's (by column).
Group = tuple[list[Dependency], dict[int, list[Dependency]]]

_SEMVER_MANAGERS = (PackageManager.NPM, PackageManager.CARGO)


def violates(manager: PackageManager, version: str | None, constraint: str | None) -> bool:
    """True only when the version is known not to satisfy the constraint (None = can't tell)."""
    if not version or not constraint:
        return False
    return satisfies(manager, version, constraint) is False


def same_version(manager: PackageManager, a: str | None, b: str | None) -> bool:
    """Whether two resolved versions are one release (``23.1`` is ``23.1.0`` for pip)."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    # Two plain semver strings are the same version only when equal (build tags aside).
    plain = a[:1].isdigit() and b[:1].isdigit() and "+" not in a and "+" not in b
    if manager in _SEMVER_MANAGERS and plain:
        return False
    return compare(manager, a, b) == 0


def in_versions(manager: PackageManager, version: str | None, others: Iterable[str | None]) -> bool:
    return any(same_version(manager, version, other) for other in others)


def ordered(manager: PackageManager, deps: Sequence[Dependency]) -> list[Dependency]:
    """Rows of one package in version order, newest first (no version last)."""
    if len(deps) < 2:
        return list(deps)

    def cmp(a: Dependency, b: Dependency) -> int:
        va, vb = a.resolved_version, b.resolved_version
        if va is None or vb is None:
            return (va is None) - (vb is None)
        return compare(manager, vb, va)

    return sorted(deps, key=cmp_to_key(cmp))


def split(
    manager: PackageManager, env: Sequence[Dependency], baseline: Sequence[Dependency]
) -> tuple[list[tuple[Dependency, Dependency]], list[Dependency], list[Dependency]]:
    """An environment's versions against the baseline's: (pairs that differ, versions only the
    environment has, baseline versions the environment lacks). Versions both have are left
    out; the rest are paired newest with newest (a bump is one ``differs``), and what cannot
    be paired is an extra copy or a missing one."""
    # A baseline row without a version (only a manifest names it) asks for the package, not
    # for a version: any version matches it.
    wanted = [b for b in baseline if b.resolved_version is not None]
    if not wanted:
        return [], [], []
    theirs = [b.resolved_version for b in wanted]
    ours = [d.resolved_version for d in env]
    extra = ordered(
        manager, [d for d in env if not in_versions(manager, d.resolved_version, theirs)]
    )
    lacking = ordered(
        manager, [b for b in wanted if not in_versions(manager, b.resolved_version, ours)]
    )
    paired = min(len(extra), len(lacking))
    return (
        list(zip(extra[:paired], lacking[:paired], strict=True)),
        extra[paired:],
        lacking[paired:],
    )


def matches_baseline(
    manager: PackageManager, version: str | None, baseline: Sequence[Dependency]
) -> bool:
    """Whether ``version`` is one of the baseline's versions (any, when the baseline names
    none)."""
    theirs = [b.resolved_version for b in baseline if b.resolved_version is not None]
    return not theirs or in_versions(manager, version, theirs)


def constraint_for(dep: Dependency, baseline: Sequence[Dependency]) -> str | None:
    """The constraint a version must satisfy: the baseline's (its first that has one), else
    the row's own."""
    for b in baseline:
        if b.version_constraint:
            return b.version_constraint
    return dep.version_constraint


def group(deps: Iterable[Dependency], index: Mapping[UUID, int]) -> dict[Key, Group]:
    """Rows by package (names matched the way the ecosystem matches them: PEP 503 for pip,
    crates.io's rule for cargo, npm and gems exactly), baseline apart, environments by column;
    rows of environments not in ``index`` are left out."""
    grouped: dict[Key, Group] = {}
    for dep in deps:
        key = (dep.package_manager, package_key(dep.package_manager, dep.package_name))
        if dep.environment_id is None:
            column = -1
        else:
            found = index.get(dep.environment_id)
            if found is None:
                continue  # an environment the caller does not show
            column = found
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = ([], {})
        if column < 0:
            entry[0].append(dep)
        else:
            entry[1].setdefault(column, []).append(dep)
    return grouped


def shown_name(entry: Group) -> str:
    """The name a row shows: the baseline's spelling, else the first environment's."""
    baseline, by_column = entry
    first = baseline[0] if baseline else by_column[min(by_column)][0]
    return first.package_name


def by_name(grouped: Mapping[Key, Group]) -> list[tuple[PackageManager, str, Key]]:
    """(manager, shown name, key) sorted by manager then shown name."""
    return sorted((key[0], shown_name(entry), key) for key, entry in grouped.items())
