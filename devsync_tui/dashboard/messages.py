"""Typed messages that workers post to the app and its screens.

Workers never touch widgets: they return data by posting one of these, and only handlers
update the screen (STYLE.md habit 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from textual.message import Message

from devsync_tui.backend.base import Backend, ChangeEvent, FeedEvent, LinkChanged, Resync
from devsync_tui.backend.live import PRESENCE_TABLE
from devsync_tui.core.config_states import ConfigState
from devsync_tui.core.models import EffectiveConfigRow, Identity, Role


class ConnectProgress(Message):
    """The backend factory reported progress (e.g. first start of the local database)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Connected(Message):
    """The backend is connected and we know who we are. ``live`` is False for the cached last
    view's stand-in, which shows that view while the real connection is made."""

    def __init__(
        self, backend: Backend, identity: Identity, roles: dict[UUID, Role], *, live: bool = True
    ) -> None:
        super().__init__()
        self.backend = backend
        self.identity = identity
        self.roles = roles
        self.live = live


class ConnectFailed(Message):
    """Connecting failed; ``text`` is one plain sentence for the user. ``retry`` says whether
    trying again can help (the database was away), not when the answer was a refusal."""

    def __init__(self, text: str, *, retry: bool = True) -> None:
        super().__init__()
        self.text = text
        self.retry = retry


class ViewSeen(Message):
    """A live view of a project or environment is on screen: what the cached last view
    keeps (``dashboard.last_view``). ``required``: its missing required keys and template."""

    def __init__(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        rows: Sequence[EffectiveConfigRow],
        required: tuple[tuple[str, ...], str | None],
        template_id: UUID | None,
    ) -> None:
        super().__init__()
        self.project_id = project_id
        self.environment_id = environment_id
        self.rows = tuple(rows)
        self.required = required
        self.template_id = template_id


class Reconnect(Message):
    """The user asked to try connecting again after a failure."""


class LiveBatch(Message):
    """A coalesced burst of feed events (superseded ones already dropped)."""

    def __init__(self, events: Sequence[FeedEvent]) -> None:
        super().__init__()
        self.events = tuple(events)

    @property
    def resync(self) -> bool:
        """True when views must re-read everything."""
        return any(isinstance(e, Resync) for e in self.events)

    @property
    def link(self) -> LinkChanged | None:
        """The newest link state in the batch, if any."""
        links = [e for e in self.events if isinstance(e, LinkChanged)]
        return links[-1] if links else None

    @property
    def changes(self) -> list[ChangeEvent]:
        return [e for e in self.events if isinstance(e, ChangeEvent)]

    def touches(self, *tables: str) -> bool:
        """True when a change in the batch is in one of ``tables`` (or a resync happened)."""
        return self.resync or any(e.table in tables for e in self.changes)


def coalesce(events: Sequence[FeedEvent]) -> list[FeedEvent]:
    """Drop superseded events of a burst.

    A Resync makes every change before it pointless (views re-read everything); for one row
    only its newest change matters; only the newest link state matters. Order of the kept
    events follows their last occurrence.
    """
    last_resync = max((i for i, e in enumerate(events) if isinstance(e, Resync)), default=-1)
    kept: dict[tuple[str, str], tuple[int, FeedEvent]] = {}
    for index, event in enumerate(events):
        if isinstance(event, LinkChanged):
            kept[("link", "")] = (index, event)
        elif isinstance(event, Resync):
            kept[("resync", "")] = (index, event)
        elif index > last_resync:
            # A presence push is about a project (one client moving between two projects is
            # two pushes with one id): keep the newest per project.
            key = str(event.project_id) if event.table == PRESENCE_TABLE else event.id
            kept[(event.table, key)] = (index, event)
    return [event for _, event in sorted(kept.values(), key=lambda pair: pair[0])]


class ConfigDriftSeen(Message):
    """The states of a project's machines as last read (for the tree and the Configuration
    tab's marks)."""

    def __init__(
        self, project_id: UUID, environment_ids: Sequence[UUID], states: Sequence[ConfigState]
    ) -> None:
        super().__init__()
        self.project_id = project_id
        self.environment_ids = tuple(environment_ids)
        self.states = tuple(states)
