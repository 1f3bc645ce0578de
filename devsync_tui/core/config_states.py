"""Configuration drift per machine: what a machine runs against what the team synced.

The comparison runs where the values are (the machine, :func:`compare`); only its outcome, a
:class:`DriftState` and version numbers per key, is stored (``machine_config_states``) and
shown. Never a value, never a hash of one.

How each key of the effective configuration is judged, against what the machine has (its
dotenv files merged, later files winning; a ``file`` configuration: the file at its path):

- the machine has no value: ``missing``;
- a secret whose value the comparer may not reveal: ``unknown`` (nothing is guessed);
- equal to the synced value: ``in_sync``;
- equal to an earlier *plain* version N of the key (its history, in the scope the key comes
  from): ``behind`` N. Old secret values are never revealed for this (each reveal is audited
  and an old secret may be one rotated because it leaked), so a secret that differs is
  ``differs``;
- otherwise ``differs``.

A dotenv key the configuration does not have is ``only_local``. ``unknown`` is not drift (the
comparer cannot tell); every other state but ``in_sync`` is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class DriftState(StrEnum):
    IN_SYNC = "in_sync"
    DIFFERS = "differs"
    MISSING = "missing"
    ONLY_LOCAL = "only_local"
    BEHIND = "behind"
    UNKNOWN = "unknown"


#: States that are drift (``devsync env status`` exits 1 when one is found).
DRIFTED = frozenset(
    {DriftState.DIFFERS, DriftState.MISSING, DriftState.ONLY_LOCAL, DriftState.BEHIND}
)

#: One symbol per state, distinct without colour (the legend says what each means).
SYMBOLS: dict[DriftState, str] = {
    DriftState.IN_SYNC: "=",
    DriftState.DIFFERS: "≠",
    DriftState.MISSING: "-",
    DriftState.ONLY_LOCAL: "+",
    DriftState.BEHIND: "<",
    DriftState.UNKNOWN: "?",
}
#: What a cell shows when the machine reported nothing for the key.
NO_REPORT = "·"

LABELS: dict[DriftState, str] = {
    DriftState.IN_SYNC: "in sync",
    DriftState.DIFFERS: "differs",
    DriftState.MISSING: "missing on the machine",
    DriftState.ONLY_LOCAL: "only on the machine",
    DriftState.BEHIND: "behind",
    DriftState.UNKNOWN: "unknown (a secret the reporter may not reveal)",
}


def parse_state(text: str) -> DriftState | None:
    """The state named ``text``; None for one this version does not know (a newer schema)."""
    try:
        return DriftState(text)
    except ValueError:
        return None


def legend() -> str:
    """``= in sync  ≠ differs  …`` for screens and help."""
    parts = [f"{SYMBOLS[s]} {LABELS[s].split(' (')[0]}" for s in DriftState]
    return "  ".join([*parts, f"{NO_REPORT} no report"])


@dataclass(frozen=True, slots=True)
class ConfigState:
    """One stored state (a row of ``machine_config_states``)."""

    environment_id: UUID
    project_id: UUID
    key: str
    state: str  # a DriftState value, or one a newer schema added
    synced_version: int | None
    behind_version: int | None
    observed_at: datetime | None = None

    @property
    def drift(self) -> DriftState | None:
        return parse_state(self.state)

    @property
    def drifted(self) -> bool:
        """Drift, or a state this version does not know (shown, never hidden)."""
        known = self.drift
        return known is None or known in DRIFTED


@dataclass(frozen=True, slots=True)
class ConfigStateInput:
    """One key as a machine reports it (``report_config_states``)."""

    key: str
    state: DriftState
    synced_version: int | None = None
    behind_version: int | None = None


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One history entry of a key (``config_key_versions``): a secret's value is None."""

    key: str
    version: int
    value: str | None
    is_secret: bool
    op: str
    changed_at: datetime | None
    changed_by: str | None


@dataclass(frozen=True, slots=True)
class Synced:
    """A key of the effective configuration as the comparer has it."""

    key: str
    version: int
    is_secret: bool
    is_file: bool
    value: str | None  # None: a secret the comparer may not reveal


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """The outcome for one key (what is reported, plus what the machine says locally)."""

    key: str
    state: DriftState
    synced_version: int | None
    behind_version: int | None
    is_secret: bool
    is_file: bool

    def as_input(self) -> ConfigStateInput:
        return ConfigStateInput(self.key, self.state, self.synced_version, self.behind_version)


def compare(
    synced: Iterable[Synced],
    local_vars: Mapping[str, str | None],
    local_files: Mapping[str, str | None],
    versions: Mapping[str, Sequence[KeyVersion]] | None = None,
) -> list[KeyStatus]:
    """Each key's state, by key (see the module docstring). ``local_vars``: the dotenv keys
    (None: a key without a value, which python-dotenv reads as unset); ``local_files``: each
    file configuration's content on the machine (None: no such file)."""
    versions = versions or {}
    out: list[KeyStatus] = []
    seen: set[str] = set()
    for row in synced:
        seen.add(row.key)
        have = local_files.get(row.key) if row.is_file else local_vars.get(row.key)
        behind = None
        if have is None:
            state = DriftState.MISSING
        elif row.value is None:
            state = DriftState.UNKNOWN
        elif have == row.value:
            state = DriftState.IN_SYNC
        else:
            behind = _older_version(row, have, versions.get(row.key, ()))
            state = DriftState.DIFFERS if behind is None else DriftState.BEHIND
        out.append(KeyStatus(row.key, state, row.version, behind, row.is_secret, row.is_file))
    for key, value in local_vars.items():
        if key not in seen and value is not None:
            out.append(KeyStatus(key, DriftState.ONLY_LOCAL, None, None, False, False))
    return sorted(out, key=lambda s: s.key)


def _older_version(row: Synced, have: str, history: Sequence[KeyVersion]) -> int | None:
    """The newest earlier version whose plain value equals ``have``."""
    for entry in sorted(history, key=lambda e: e.version, reverse=True):
        if entry.version >= row.version or entry.op == "delete":
            continue
        if not entry.is_secret and entry.value is not None and entry.value == have:
            return entry.version
    return None


def needs_history(statuses: Iterable[KeyStatus]) -> list[str]:
    """Keys whose history could tell ``behind``: plain keys that differ."""
    return sorted(s.key for s in statuses if s.state is DriftState.DIFFERS and not s.is_secret)


def is_drift(statuses: Iterable[KeyStatus]) -> bool:
    return any(s.state in DRIFTED for s in statuses)
