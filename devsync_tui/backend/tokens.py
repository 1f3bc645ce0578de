"""Machine tokens in the Backend contract: create, list, revoke (docs/DATABASE.md, the token
RPCs). The database decides who may; here are the rules around the calls each transport
translates: the token comes back once and is never kept, lists are newest first."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from devsync_tui.backend import refusals, rows
from devsync_tui.core.models import MachineTokenInfo, NewMachineToken


class TokenContract(abc.ABC):
    """``devsync token create|list|revoke``."""

    async def create_machine_token(
        self, environment_id: UUID, name: str, expires_at: datetime | None
    ) -> NewMachineToken:
        """A new token for the environment (admins; its owner), shown only here."""
        row = await self._create_machine_token(environment_id, name, expires_at)
        if row is None or row.get("token") is None:
            raise refusals.not_done("create_machine_token")
        return NewMachineToken(id=rows.as_uuid(row["id"]), token=str(row["token"]))

    async def list_machine_tokens(self, project_id: UUID | None = None) -> list[MachineTokenInfo]:
        """The tokens I may see (of one project, or all), newest first."""
        found = [
            rows.machine_token_from_row(r) for r in await self._list_machine_tokens(project_id)
        ]
        return sorted(found, key=lambda t: (t.created_at, str(t.id)), reverse=True)

    async def revoke_machine_token(self, token_id: UUID) -> MachineTokenInfo:
        """Revoke a token (admins; its creator); revoking a revoked one changes nothing."""
        row = await self._revoke_machine_token(token_id)
        if row is None:
            raise refusals.not_done("revoke_machine_token")
        return rows.machine_token_from_row(row)

    @abc.abstractmethod
    async def _create_machine_token(
        self, environment_id: UUID, name: str, expires_at: datetime | None
    ) -> Mapping[str, Any] | None:
        """RPC ``create_machine_token``: its row ``{id, token}``."""

    @abc.abstractmethod
    async def _list_machine_tokens(self, project_id: UUID | None) -> list[Mapping[str, Any]]:
        """RPC ``list_machine_tokens``."""

    @abc.abstractmethod
    async def _revoke_machine_token(self, token_id: UUID) -> Mapping[str, Any] | None:
        """RPC ``revoke_machine_token``: the token's row."""
