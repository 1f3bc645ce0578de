"""Presence, the same on both transports: the database holds one row per client
(``announce_presence`` / ``who_is_here`` / ``leave_presence``, docs/DATABASE.md); the change
feed pushes a ``ChangeEvent`` of table ``presence`` when someone arrives, moves or leaves, and
the views then read ``presence()`` again. A client repeats its announcement (the heartbeat)
at least every ``HEARTBEAT_SECONDS``; a client that stops for 15 s is no longer reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from devsync_tui.backend.live import PresenceEntry, PresenceInfo

#: How often a client repeats where it is (the database forgets it after 15 s of silence).
HEARTBEAT_SECONDS = 5.0


def new_client_id() -> UUID:
    """A random id for this client's presence row (only its holder may use it)."""
    return uuid.uuid4()


def announce_args(
    client_id: UUID,
    project_id: UUID,
    environment_id: UUID | None,
    tab: str | None,
    editing_key: str | None,
) -> dict[str, Any]:
    """The RPC's arguments by name."""
    return {
        "p_client_id": client_id,
        "p_project_id": project_id,
        "p_environment_id": environment_id,
        "p_tab": tab,
        "p_editing_key": editing_key,
    }


def presence_from_rows(
    project_id: UUID, rows: Sequence[Mapping[str, Any]], my_client: UUID
) -> PresenceInfo:
    """``who_is_here`` rows as a PresenceInfo without my own client."""
    entries: list[PresenceEntry] = []
    for r in rows:
        client = _uuid(r.get("client_id"))
        user = _uuid(r.get("user_id"))
        if client is None or user is None or client == my_client:
            continue
        entries.append(
            PresenceEntry(
                client_id=client,
                user_id=user,
                username=str(r.get("username") or ""),
                environment_id=_uuid(r.get("environment_id")),
                tab=_text(r.get("tab")),
                editing_key=_text(r.get("editing_key")),
            )
        )
    return PresenceInfo(project_id=project_id, entries=tuple(entries))


def _uuid(value: Any) -> UUID | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, UUID) else UUID(str(value))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
