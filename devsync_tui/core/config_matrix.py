"""The Config drift view's data: keys × machines, one reported state per cell.

Built from the stored states (``machine_config_states``) of a project's environments; a key
appears when any machine reported it. A cell is None when that machine reported nothing for
the key (it has no report, or its report does not name the key).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from devsync_tui.core.config_states import ConfigState


@dataclass(frozen=True, slots=True)
class ConfigDriftRow:
    """One key across the machines (cells in the matrix's environment order)."""

    key: str
    cells: tuple[ConfigState | None, ...]

    @property
    def drifted(self) -> bool:
        return any(cell is not None and cell.drifted for cell in self.cells)

    @property
    def drifted_count(self) -> int:
        return sum(1 for cell in self.cells if cell is not None and cell.drifted)


@dataclass(frozen=True, slots=True)
class ConfigDriftMatrix:
    environment_ids: tuple[UUID, ...]
    rows: tuple[ConfigDriftRow, ...]

    def drifted(self) -> ConfigDriftMatrix:
        return ConfigDriftMatrix(self.environment_ids, tuple(r for r in self.rows if r.drifted))

    def drifted_environments(self) -> set[UUID]:
        """Machines with at least one drifted key."""
        out: set[UUID] = set()
        for row in self.rows:
            for env_id, cell in zip(self.environment_ids, row.cells, strict=True):
                if cell is not None and cell.drifted:
                    out.add(env_id)
        return out

    def reported(self) -> set[UUID]:
        """Machines that reported anything."""
        return {
            env_id
            for row in self.rows
            for env_id, cell in zip(self.environment_ids, row.cells, strict=True)
            if cell is not None
        }


def build_config_matrix(
    states: Iterable[ConfigState], environment_ids: Sequence[UUID]
) -> ConfigDriftMatrix:
    """The matrix of ``states`` with one column per environment (in the order given; states of
    other environments are left out), rows by key."""
    column = {env_id: i for i, env_id in enumerate(environment_ids)}
    width = len(environment_ids)
    by_key: dict[str, list[ConfigState | None]] = {}
    for state in states:
        index = column.get(state.environment_id)
        if index is None:
            continue
        cells = by_key.get(state.key)
        if cells is None:
            cells = by_key[state.key] = [None] * width
        cells[index] = state
    rows = tuple(ConfigDriftRow(key, tuple(by_key[key])) for key in sorted(by_key))
    return ConfigDriftMatrix(tuple(environment_ids), rows)


def drifted_environments(states: Iterable[ConfigState]) -> set[UUID]:
    """Environments with at least one drifted key (for the tree's mark)."""
    return {s.environment_id for s in states if s.drifted}


def drifted_keys(states: Iterable[ConfigState], environment_id: UUID) -> dict[str, ConfigState]:
    """One machine's drifted keys (for the Configuration tab's mark)."""
    return {s.key: s for s in states if s.environment_id == environment_id and s.drifted}
