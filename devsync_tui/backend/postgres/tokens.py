"""The token RPCs on the direct PostgreSQL transport (``tokens.TokenContract``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from devsync_tui.backend.postgres.pool import PgCore


class PgTokens(PgCore):
    """``create_machine_token`` / ``list_machine_tokens`` / ``revoke_machine_token``."""

    async def _create_machine_token(
        self, environment_id: UUID, name: str, expires_at: datetime | None
    ) -> Mapping[str, Any] | None:
        return await self.write_one(
            "select * from public.create_machine_token(%s, %s, %s)",
            (environment_id, name, expires_at),
        )

    async def _list_machine_tokens(self, project_id: UUID | None) -> list[Mapping[str, Any]]:
        return list(
            await self.fetch_all("select * from public.list_machine_tokens(%s)", (project_id,))
        )

    async def _revoke_machine_token(self, token_id: UUID) -> Mapping[str, Any] | None:
        return await self.write_one("select * from public.revoke_machine_token(%s)", (token_id,))
