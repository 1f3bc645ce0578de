"""Machine config states over PostgREST (``config_states``)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from devsync_tui.backend.config_states import state_from_row, states_payload, version_from_row
from devsync_tui.backend.supabase.rest import Filter, SupabaseRest, eq, in_
from devsync_tui.core.config_states import ConfigState, ConfigStateInput, KeyVersion


class SupabaseConfigStates(SupabaseRest):
    """``report_config_states``, the table, ``config_key_versions``."""

    async def _report_config_states(
        self, environment_id: UUID, states: Sequence[ConfigStateInput]
    ) -> int:
        n = await self._rpc(
            "report_config_states",
            {"p_environment_id": environment_id, "p_states": states_payload(states)},
        )
        return int(n or 0)

    async def _config_states(
        self, project_id: UUID, environment_ids: Sequence[UUID] | None
    ) -> list[ConfigState]:
        where: list[Filter] = [eq("project_id", project_id)]
        if environment_ids is None:
            found = await self._select(
                "machine_config_states",
                where=where,
                order=[("environment_id", False), ("key", False)],
            )
        else:
            ids = sorted(str(e) for e in environment_ids)
            found = []
            for start in range(0, len(ids), 100):
                found += await self._select(
                    "machine_config_states",
                    where=[*where, in_("environment_id", ids[start : start + 100])],
                    order=[("environment_id", False), ("key", False)],
                )
        return [state_from_row(r) for r in found]

    async def _key_versions(self, environment_id: UUID, keys: Sequence[str]) -> list[KeyVersion]:
        found = await self._rpc_rows(
            "config_key_versions", {"p_environment_id": environment_id, "p_keys": list(keys)}
        )
        return [version_from_row(r) for r in found]
