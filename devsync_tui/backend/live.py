"""What the change feed yields (``Backend.changes``) and who else is looking (presence).

Transport-neutral: each transport's feed produces these; views consume them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

ChangeOp = Literal["INSERT", "UPDATE", "DELETE"]
LinkState = Literal["live", "reconnecting", "offline"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A row changed. ``row`` is the re-read row (a model from core.models) or None for
    DELETE and for rows the user may no longer see. ``id`` is the primary key as text
    (``"<team_id>:<user_id>"`` for team_members). ``team_id``/``project_id``/``environment_id``
    are the scope ids the change carried (None where not applicable)."""

    table: str
    op: ChangeOp
    id: str
    row: Any | None
    team_id: UUID | None = None
    project_id: UUID | None = None
    environment_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Resync:
    """A gap happened (reconnect, token refresh): re-read everything on screen."""

    reason: str


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The change feed's connection state changed (header: live / reconnecting / offline)."""

    state: LinkState
    detail: str = ""


FeedEvent = ChangeEvent | Resync | LinkChanged


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    """One client (a running dashboard) on a project: who (from the server: the session's
    profile, never what the client says) and where — environment, tab, the key being edited."""

    client_id: UUID
    user_id: UUID
    username: str
    environment_id: UUID | None = None
    tab: str | None = None
    editing_key: str | None = None


@dataclass(frozen=True, slots=True)
class PresenceInfo:
    """Who else is on a project: every other client's entry (my own client left out)."""

    project_id: UUID
    entries: tuple[PresenceEntry, ...] = ()

    @property
    def usernames(self) -> tuple[str, ...]:
        """The people behind the entries, each once, sorted."""
        return tuple(sorted({e.username for e in self.entries}))


#: The ChangeEvent ``table`` of a presence push: someone arrived, moved or left the event's
#: ``project_id`` (``id`` is their client id; ``row`` is None: read ``Backend.presence``).
PRESENCE_TABLE = "presence"
