"""A machine summed up: dependencies as version sets against the baseline, configuration
states by kind, most urgent first."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from devsync_tui.core.config_states import ConfigState
from devsync_tui.core.machine_summary import summarize_config, summarize_dependencies
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager

ENV, PROJECT = uuid4(), uuid4()


def _dep(env: object, name: str, version: str, status: DependencyStatus) -> Dependency:
    return Dependency(uuid4(), PROJECT, env, PackageManager.NPM, name, None, version, status)  # type: ignore[arg-type]


def test_a_nested_old_copy_differs_from_the_baseline() -> None:
    base = [_dep(None, "lodash", "4.17.21", DependencyStatus.HEALTHY)]
    mine = [
        _dep(ENV, "lodash", "4.17.21", DependencyStatus.HEALTHY),
        _dep(ENV, "lodash", "4.17.11", DependencyStatus.VULNERABLE),
    ]
    summary = summarize_dependencies(mine, base, capped=False)
    assert (summary.total, summary.versions, summary.differ, summary.missing) == (1, 2, 1, 0)
    assert summary.vulnerable == 1
    assert summary.lines()[0] == "1 package (npm 1), 2 versions"
    same = summarize_dependencies(mine[:1], base, capped=False)
    assert (same.differ, same.lines()[0]) == (0, "1 package (npm 1)")


def _state(key: str, state: str, synced: int | None = 1, behind: int | None = None) -> ConfigState:
    return ConfigState(
        ENV, PROJECT, key, state, synced, behind, datetime(2026, 12, 5, 9, tzinfo=UTC)
    )


def test_config_summary_names_drifting_keys_most_urgent_first() -> None:
    summary = summarize_config(
        [
            _state("A", "in_sync"),
            _state("LOCAL_ONLY", "only_local", None),
            _state("LOG_LEVEL", "behind", 3, 1),
            _state("DATABASE_URL", "differs"),
            _state("TOKEN", "unknown"),
            _state("FROM_A_NEWER_SCHEMA", "stale_copy"),
        ]
    )
    assert summary.drifted
    assert summary.lines("2 min ago") == [
        "1 of 6 keys in sync (reported 2 min ago)",
        "stale_copy: FROM_A_NEWER_SCHEMA",
        "differs: DATABASE_URL",
        "behind: LOG_LEVEL (has v1, synced v3)",
        "only on the machine: LOCAL_ONLY",
        "unknown: TOKEN",
        "On the machine, `devsync env pull` in the checkout brings it in step.",
    ]


def test_config_summary_in_sync_none_and_many() -> None:
    assert summarize_config([_state("A", "in_sync"), _state("B", "in_sync")]).lines() == [
        "in sync: all 2 keys"
    ]
    assert summarize_config([]).lines()[0].startswith("No report yet")
    only_unknown = summarize_config([_state("A", "in_sync"), _state("S", "unknown")])
    assert not only_unknown.drifted
    assert only_unknown.lines()[-1] == "unknown: S"
    many = summarize_config([_state(f"K{n}", "missing") for n in range(7)])
    assert many.lines()[1] == "missing on the machine: K0, K1, K2, K3 and 3 more"
