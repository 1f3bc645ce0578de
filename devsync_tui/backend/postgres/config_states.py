"""Machine config states on the direct PostgreSQL transport (``config_states``)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg.types.json import Jsonb

from devsync_tui.backend.config_states import state_from_row, states_payload, version_from_row
from devsync_tui.backend.postgres.pool import PgCore
from devsync_tui.core.config_states import ConfigState, ConfigStateInput, KeyVersion


class PgConfigStates(PgCore):
    """``report_config_states``, the table, ``config_key_versions``."""

    async def _report_config_states(
        self, environment_id: UUID, states: Sequence[ConfigStateInput]
    ) -> int:
        row = await self.write_one(
            "select public.report_config_states(%s, %s) as n",
            (environment_id, Jsonb(states_payload(states))),
        )
        return int(row["n"]) if row and row["n"] is not None else 0

    async def _config_states(
        self, project_id: UUID, environment_ids: Sequence[UUID] | None
    ) -> list[ConfigState]:
        rows = await self.fetch_all(
            "select * from public.machine_config_states where project_id = %s"
            " and (%s::uuid[] is null or environment_id = any(%s::uuid[]))",
            (
                project_id,
                environment_ids and list(environment_ids),
                environment_ids and list(environment_ids),
            ),
        )
        return [state_from_row(r) for r in rows]

    async def _key_versions(self, environment_id: UUID, keys: Sequence[str]) -> list[KeyVersion]:
        rows = await self.fetch_all(
            "select * from public.config_key_versions(%s, %s)", (environment_id, Jsonb(list(keys)))
        )
        return [version_from_row(r) for r in rows]
