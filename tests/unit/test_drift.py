"""core.drift: the cell rules, the matrix views, the three-signal report, and a 100k-cell
build (200 environments × 500 packages)."""

from __future__ import annotations

import time
from uuid import UUID, uuid4

import pytest

from devsync_tui.core.drift import (
    SYMBOLS,
    DriftCell,
    DriftState,
    build_matrix,
    drift_report,
)
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager

PROJECT = uuid4()
ENV_A, ENV_B = UUID(int=1), UUID(int=2)
NPM, PIP = PackageManager.NPM, PackageManager.PIP
HEALTHY, OUTDATED, VULNERABLE = (
    DependencyStatus.HEALTHY,
    DependencyStatus.OUTDATED,
    DependencyStatus.VULNERABLE,
)


def dep(
    env: UUID | None,
    name: str,
    version: str | None,
    constraint: str | None = None,
    status: DependencyStatus = HEALTHY,
    manager: PackageManager = NPM,
) -> Dependency:
    return Dependency(uuid4(), PROJECT, env, manager, name, constraint, version, status)


def only_cell(*deps: Dependency) -> DriftCell | None:
    matrix = build_matrix(deps, [ENV_A])
    assert len(matrix.rows) == 1
    return matrix.rows[0].cells[0]


def state_of(*deps: Dependency) -> DriftState:
    cell = only_cell(*deps)
    assert cell is not None
    return cell.state


def test_symbols_cover_every_state_and_are_distinct() -> None:
    assert set(SYMBOLS) == set(DriftState)
    assert len(set(SYMBOLS.values())) == len(DriftState)


def test_matches() -> None:
    assert state_of(dep(None, "react", "18.2.0", "^18"), dep(ENV_A, "react", "18.2.0", "^18")) == (
        DriftState.MATCHES
    )


def test_equivalent_versions_match() -> None:
    baseline = dep(None, "attrs", "23.1", manager=PIP)
    assert state_of(baseline, dep(ENV_A, "attrs", "23.1.0", manager=PIP)) == DriftState.MATCHES


def test_differs_from_baseline_and_only_in_env() -> None:
    assert state_of(dep(None, "react", "18.2.0", "^18"), dep(ENV_A, "react", "18.3.1")) == (
        DriftState.DIFFERS
    )
    assert state_of(dep(ENV_A, "left-pad", "1.3.0")) == DriftState.DIFFERS


def test_missing_and_absent() -> None:
    deps = [dep(None, "react", "18.2.0"), dep(ENV_B, "vue", "3.4.0")]
    matrix = build_matrix(deps, [ENV_A, ENV_B])
    react, vue = matrix.rows
    assert react.cells == (DriftCell(None, None, DriftState.MISSING),) * 2
    assert react.worst == DriftState.MISSING
    assert vue.baseline is None
    assert vue.cells[0] is None  # absent, and the baseline does not ask for it
    assert vue.cells[1] == DriftCell("3.4.0", None, DriftState.DIFFERS)


def test_violates_baseline_constraint_before_own() -> None:
    baseline = dep(None, "express", "4.18.2", "^4.18.0")
    assert state_of(baseline, dep(ENV_A, "express", "5.0.0", "^5")) == DriftState.VIOLATES
    # No baseline constraint: the environment's own constraint decides.
    assert state_of(dep(None, "ms", "2.1.3"), dep(ENV_A, "ms", "3.0.0", "^2")) == (
        DriftState.VIOLATES
    )
    # A constraint nobody can parse is not a violation.
    assert state_of(dep(ENV_A, "x", "1.0.0", "github:a/b")) == DriftState.DIFFERS


def test_status_ranks() -> None:
    baseline = dep(None, "lodash", "4.17.21", "^4")
    assert state_of(baseline, dep(ENV_A, "lodash", "4.17.21", status=OUTDATED)) == (
        DriftState.OUTDATED
    )
    assert state_of(baseline, dep(ENV_A, "lodash", "4.17.21", status=VULNERABLE)) == (
        DriftState.VULNERABLE
    )
    # Vulnerable beats a violation; a violation beats outdated.
    assert state_of(baseline, dep(ENV_A, "lodash", "3.0.0", status=VULNERABLE)) == (
        DriftState.VULNERABLE
    )
    assert state_of(baseline, dep(ENV_A, "lodash", "3.0.0", status=OUTDATED)) == (
        DriftState.VIOLATES
    )


def test_baseline_cell_and_worst() -> None:
    matrix = build_matrix(
        [dep(None, "a", "1.0.0", "^2", status=OUTDATED), dep(ENV_A, "a", "1.0.0")], [ENV_A]
    )
    row = matrix.rows[0]
    assert row.baseline == DriftCell("1.0.0", "^2", DriftState.VIOLATES)
    assert row.cells[0] == DriftCell("1.0.0", None, DriftState.VIOLATES)
    assert row.worst == DriftState.VIOLATES


def test_rows_of_other_environments_are_ignored() -> None:
    matrix = build_matrix([dep(ENV_B, "a", "1.0.0")], [ENV_A])
    assert matrix.rows == ()


def test_views() -> None:
    deps = [
        dep(None, "zod", "3.22.4"),
        dep(ENV_A, "zod", "3.22.4"),
        dep(None, "axios", "1.6.0"),
        dep(ENV_A, "axios", "1.6.0", status=VULNERABLE),
        dep(None, "chalk", "5.3.0"),
        dep(ENV_A, "chalk", "5.2.0"),
        dep(ENV_A, "requests", "2.31.0", manager=PIP),
    ]
    matrix = build_matrix(deps, [ENV_A])
    assert [r.package_name for r in matrix.rows] == ["axios", "chalk", "zod", "requests"]
    assert [r.package_name for r in matrix.drifted().rows] == ["axios", "chalk", "requests"]
    assert [r.package_name for r in matrix.sorted_by_severity().rows] == [
        "axios",
        "chalk",
        "requests",
        "zod",
    ]
    assert [r.package_name for r in matrix.filtered("CH").rows] == ["chalk"]
    assert [r.package_name for r in matrix.filtered("pip").rows] == ["requests"]
    assert matrix.filtered("  ") is matrix
    assert matrix.drifted().environment_ids == (ENV_A,)


def test_report_keeps_three_signals_apart() -> None:
    deps = [
        dep(None, "express", "4.18.2", "^4.18.0"),
        dep(ENV_A, "express", "5.0.0", status=VULNERABLE),  # differs + violates + vulnerable
        dep(None, "react", "18.2.0"),  # missing in A
        dep(ENV_A, "left-pad", "1.3.0"),  # extra in A
        dep(None, "ms", "2.1.3", "^3", status=OUTDATED),  # baseline itself violates, outdated
        dep(ENV_A, "ms", "2.1.3"),
    ]
    report = drift_report(deps, {ENV_A: "bob-laptop"})
    assert report.has_drift
    assert [(f.kind, f.package_name, f.version, f.expected) for f in report.baseline_drift] == [
        ("differs", "express", "5.0.0", "4.18.2"),
        ("extra", "left-pad", "1.3.0", None),
        ("missing", "react", None, "18.2.0"),
    ]
    assert [(f.package_name, f.environment_name, f.expected) for f in report.violations] == [
        ("express", "bob-laptop", "^4.18.0"),
        ("ms", "baseline", "^3"),
        ("ms", "bob-laptop", "^3"),
    ]
    assert [(f.kind, f.package_name, f.environment_id) for f in report.freshness] == [
        ("vulnerable", "express", ENV_A),
        ("outdated", "ms", None),
    ]
    data = report.to_json()
    assert data["drift"] is True
    assert data["packages"] == 4
    assert data["baseline_drift"][0]["environment_id"] == str(ENV_A)


def test_report_without_drift() -> None:
    deps = [dep(None, "a", "1.0.0", "^1"), dep(ENV_A, "a", "1.0.0", "^1")]
    report = drift_report(deps, {ENV_A: "ci"})
    assert not report.has_drift
    assert report.to_json()["drift"] is False


@pytest.fixture(scope="module")
def large_inputs() -> tuple[list[Dependency], list[UUID]]:
    """200 environments × 500 packages: baselines with constraints, every env its own rows
    with a realistic mix of matches, bumps, violations and statuses."""
    envs = [UUID(int=1000 + i) for i in range(200)]
    deps: list[Dependency] = []
    for p in range(500):
        manager = (NPM, PIP, PackageManager.GEM, PackageManager.CARGO)[p % 4]
        name = f"pkg-{p:03d}"
        deps.append(dep(None, name, f"{p % 7 + 1}.{p % 5}.0", f"^{p % 7 + 1}.0", manager=manager))
        for e, env in enumerate(envs):
            minor = (p + e) % 9
            status = VULNERABLE if (p * e) % 97 == 0 else OUTDATED if (p + e) % 31 == 0 else HEALTHY
            version = f"{p % 7 + 1 + (e % 23 == 0)}.{minor}.0"
            deps.append(dep(env, name, version, None, status, manager))
    return deps, envs


def test_large_matrix(large_inputs: tuple[list[Dependency], list[UUID]]) -> None:
    deps, envs = large_inputs
    started = time.perf_counter()
    matrix = build_matrix(deps, envs)
    elapsed = time.perf_counter() - started
    print(f"\nbuild_matrix 200 envs x 500 packages ({len(deps):,} rows): {elapsed:.3f} s")
    assert len(matrix.rows) == 500
    assert all(len(row.cells) == 200 for row in matrix.rows)
    counts = {state: 0 for state in DriftState}
    for row in matrix.rows:
        for cell in row.cells:
            assert cell is not None
            counts[cell.state] += 1
    assert sum(counts.values()) == 100_000
    assert all(counts[s] for s in (DriftState.MATCHES, DriftState.DIFFERS, DriftState.VIOLATES))
    assert counts[DriftState.VULNERABLE]
    assert counts[DriftState.OUTDATED]
    assert len(matrix.drifted().rows) == 500


def test_a_nested_old_copy_is_drift_of_its_own() -> None:
    """lodash 4.17.21 and a nested 4.17.11 against a baseline of 4.17.21: the old copy."""
    deps = [
        dep(None, "lodash", "4.17.21", "^4.17.21"),
        dep(ENV_A, "lodash", "4.17.21"),
        dep(ENV_A, "lodash", "4.17.11"),
        dep(ENV_B, "lodash", "4.17.21"),
    ]
    matrix = build_matrix(deps, [ENV_A, ENV_B])
    (row,) = matrix.rows
    a, b = row.cells
    assert a is not None
    assert b is not None
    assert a.version == "4.17.21, 4.17.11"  # every version, newest first
    # 4.17.11 does not satisfy the baseline's ^4.17.21: the worst of the two versions
    assert a.state == DriftState.VIOLATES
    assert [(c.version, c.state) for c in a.entries] == [
        ("4.17.21", DriftState.MATCHES),
        ("4.17.11", DriftState.VIOLATES),
    ]
    assert b == DriftCell("4.17.21", None, DriftState.MATCHES)
    assert b.entries == (b,)
    report = drift_report(deps, {ENV_A: "bob-laptop", ENV_B: "ci"})
    assert [(f.kind, f.environment_name, f.version, f.expected) for f in report.baseline_drift] == [
        ("extra_version", "bob-laptop", "4.17.11", "4.17.21")
    ]
    assert [(f.environment_name, f.version) for f in report.violations] == [
        ("bob-laptop", "4.17.11")
    ]
    assert report.to_json()["baseline_drift"][0]["package_kind"] == "registry"


def test_version_sets_pair_bumps_and_list_what_is_left() -> None:
    deps = [
        dep(None, "serde", "1.0.197", manager=PackageManager.CARGO),
        dep(None, "serde", "0.9.15", manager=PackageManager.CARGO),
        dep(ENV_A, "serde", "1.0.200", manager=PackageManager.CARGO),  # a bump of 1.0.197
        dep(ENV_B, "serde", "1.0.197", manager=PackageManager.CARGO),  # lacks 0.9.15
    ]
    report = drift_report(deps, {ENV_A: "a", ENV_B: "b"})
    assert [(f.kind, f.environment_name, f.version, f.expected) for f in report.baseline_drift] == [
        ("differs", "a", "1.0.200", "1.0.197"),
        ("missing_version", "a", None, "0.9.15"),
        ("missing_version", "b", None, "0.9.15"),
    ]
    matrix = build_matrix(deps, [ENV_A, ENV_B])
    (row,) = matrix.rows
    assert row.baseline is not None
    assert row.baseline.version == "1.0.197, 0.9.15"
    assert [c.state if c else None for c in row.cells] == [DriftState.DIFFERS, DriftState.DIFFERS]


def test_same_version_sets_are_no_drift() -> None:
    deps = [
        dep(None, "numpy", "1.24.4", manager=PIP),
        dep(None, "numpy", "2.0.2", manager=PIP),
        dep(ENV_A, "numpy", "2.0.2", manager=PIP),
        dep(ENV_A, "numpy", "1.24.4", manager=PIP),
    ]
    assert not drift_report(deps, {ENV_A: "a"}).has_drift
    assert build_matrix(deps, [ENV_A]).rows[0].worst == DriftState.MATCHES


def test_an_accepted_vulnerable_version_is_accepted_not_vulnerable() -> None:
    accepted = frozenset({(NPM, "lodash", "4.17.20")})
    base = dep(None, "lodash", "4.17.20", "^4.17.0", VULNERABLE)
    here = dep(ENV_A, "lodash", "4.17.20", "^4.17.0", VULNERABLE)
    other = dep(ENV_A, "left-pad", "1.0.0", None, VULNERABLE)
    matrix = build_matrix([base, here, other], [ENV_A], accepted)
    rows = {r.package_name: r for r in matrix.rows}
    cell = rows["lodash"].cells[0]
    assert cell is not None
    assert cell.state is DriftState.ACCEPTED
    assert rows["lodash"].baseline is not None
    assert rows["lodash"].baseline.state is DriftState.ACCEPTED
    assert rows["lodash"].worst is DriftState.ACCEPTED
    # Another package at an accepted package's version is not accepted (names count).
    assert rows["left-pad"].cells[0] is not None
    assert rows["left-pad"].cells[0].state is DriftState.VULNERABLE
    # Accepted does not hide a violated constraint.
    bad = dep(ENV_A, "lodash", "4.17.20", None, VULNERABLE)
    strict = dep(None, "lodash", "4.17.21", "^4.17.21")
    violating = build_matrix([strict, bad], [ENV_A], accepted).rows[0].cells[0]
    assert violating is not None
    assert violating.state is DriftState.VIOLATES
    # Without the acceptance it is vulnerable again (an expired entry is not passed in).
    assert only_cell(here) == DriftCell("4.17.20", "^4.17.0", DriftState.VULNERABLE)
