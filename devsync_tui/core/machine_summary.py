"""A machine in a few lines: what it runs against the project baseline, and how its actual
configuration stands against the synced one (the machine detail on a Health row).

Dependencies are compared as version sets per package, as drift does (issue 13): a machine
with lodash 4.17.21 and a nested 4.17.11 against a baseline of 4.17.21 differs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from devsync_tui.core.config_states import LABELS, ConfigState, DriftState
from devsync_tui.core.models import Dependency, DependencyStatus
from devsync_tui.core.wording import count

#: Keys named per state before "and N more".
KEYS_NAMED = 4


def _versions(deps: Iterable[Dependency]) -> dict[tuple[str, str], frozenset[str | None]]:
    found: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for d in deps:
        found[(str(d.package_manager), d.package_name)].add(d.resolved_version)
    return {k: frozenset(v) for k, v in found.items()}


@dataclass(frozen=True, slots=True)
class DependencySummary:
    """What a machine runs, against the project baseline."""

    total: int  # packages (a package locked at several versions counts once)
    versions: int  # every (package, version) row
    by_manager: dict[str, int]
    differ: int
    missing: int
    vulnerable: int
    outdated: int
    capped: bool

    def lines(self) -> list[str]:
        if not self.total and not self.missing:
            return ["No dependencies reported yet (`devsync scan` or `devsync agent` there)."]
        at_least = "at least " if self.capped else ""
        managers = ", ".join(f"{m} {n}" for m, n in sorted(self.by_manager.items()))
        first = f"{at_least}{count(self.total, 'package')}" + (f" ({managers})" if managers else "")
        if self.versions > self.total:
            first += f", {self.versions} versions"
        against = f"{self.differ} differ from the baseline · {self.missing} of the baseline missing"
        health = f"{self.vulnerable} vulnerable · {self.outdated} outdated"
        return [first, against, health]


def summarize_dependencies(
    mine: Sequence[Dependency], baseline: Sequence[Dependency], capped: bool
) -> DependencySummary:
    """Count ``mine`` by manager and status, and against ``baseline`` (same manager and name:
    a different set of resolved versions differs; a baseline package absent here is
    missing). Vulnerable and outdated count versions."""
    base, here = _versions(baseline), _versions(mine)
    statuses = Counter(d.status for d in mine)
    return DependencySummary(
        total=len(here),
        versions=len(mine),
        by_manager=dict(Counter(manager for manager, _ in here)),
        differ=sum(1 for k, v in here.items() if k in base and base[k] != v),
        missing=sum(1 for k in base if k not in here),
        vulnerable=statuses[DependencyStatus.VULNERABLE],
        outdated=statuses[DependencyStatus.OUTDATED],
        capped=capped,
    )


@dataclass(frozen=True, slots=True)
class ConfigDriftSummary:
    """How a machine's actual configuration stands (from its last report)."""

    in_sync: int
    #: Drifting and unknown keys by state (a state a newer schema added: under its name).
    keys: dict[str, list[str]] = field(default_factory=dict)
    behind: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    observed_at: datetime | None = None

    @property
    def drifted(self) -> bool:
        return any(state != DriftState.UNKNOWN for state in self.keys)

    def lines(self, ago: str | None = None) -> list[str]:
        if not self.in_sync and not self.keys:
            return ["No report yet (`devsync env status` in its checkout, or `devsync agent`)."]
        total = self.in_sync + sum(len(k) for k in self.keys.values())
        seen = f" (reported {ago})" if ago else ""
        if not self.drifted and DriftState.UNKNOWN not in self.keys:
            return [f"in sync: all {count(total, 'key')}{seen}"]
        out = [f"{self.in_sync} of {count(total, 'key')} in sync{seen}"]
        for state, keys in self.keys.items():
            out.append(f"{_label(state)}: {self._named(state, keys)}")
        if self.drifted:
            out.append("On the machine, `devsync env pull` in the checkout brings it in step.")
        return out

    def _named(self, state: str, keys: list[str]) -> str:
        shown = []
        for key in keys[:KEYS_NAMED]:
            if state == DriftState.BEHIND and key in self.behind:
                has, synced = self.behind[key]
                shown.append(f"{key} (has v{has}, synced v{synced})")
            else:
                shown.append(key)
        more = len(keys) - KEYS_NAMED
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _label(state: str) -> str:
    known = next((s for s in DriftState if s.value == state), None)
    return LABELS[known].split(" (")[0] if known is not None else state


#: The order states are listed in: the most urgent first.
_ORDER = [
    DriftState.DIFFERS,
    DriftState.BEHIND,
    DriftState.MISSING,
    DriftState.ONLY_LOCAL,
    DriftState.UNKNOWN,
]


def summarize_config(states: Iterable[ConfigState]) -> ConfigDriftSummary:
    """One machine's stored states, summed up: keys per state that is not in sync."""
    in_sync = 0
    keys: dict[str, list[str]] = defaultdict(list)
    behind: dict[str, tuple[int | None, int | None]] = {}
    newest: datetime | None = None
    for s in states:
        if s.observed_at is not None and (newest is None or s.observed_at > newest):
            newest = s.observed_at
        if s.state == DriftState.IN_SYNC:
            in_sync += 1
            continue
        keys[s.state].append(s.key)
        if s.state == DriftState.BEHIND:
            behind[s.key] = (s.behind_version, s.synced_version)
    order = {state.value: n for n, state in enumerate(_ORDER)}
    ordered = {k: sorted(keys[k]) for k in sorted(keys, key=lambda k: (order.get(k, -1), k))}
    return ConfigDriftSummary(in_sync, ordered, behind, newest)
