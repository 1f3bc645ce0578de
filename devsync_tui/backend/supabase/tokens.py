"""The token RPCs over PostgREST (``tokens.TokenContract``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from devsync_tui.backend.supabase.rest import SupabaseRest


class SupabaseTokens(SupabaseRest):
    """``create_machine_token`` / ``list_machine_tokens`` / ``revoke_machine_token``."""

    async def _create_machine_token(
        self, environment_id: UUID, name: str, expires_at: datetime | None
    ) -> Mapping[str, Any] | None:
        params = {"p_environment_id": environment_id, "p_name": name, "p_expires_at": expires_at}
        return await self._rpc_row("create_machine_token", params)

    async def _list_machine_tokens(self, project_id: UUID | None) -> list[Mapping[str, Any]]:
        return list(await self._rpc_rows("list_machine_tokens", {"p_project_id": project_id}))

    async def _revoke_machine_token(self, token_id: UUID) -> Mapping[str, Any] | None:
        return await self._rpc_row("revoke_machine_token", {"p_token_id": token_id})
