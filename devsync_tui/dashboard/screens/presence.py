"""Presence on the main screen: announce where this dashboard is (project, environment, tab,
the key being edited) and show who else is on the project, in the header and as a marker on
the environments in the tree.

The backend pushes a presence event when someone arrives, moves or leaves (both transports);
the screen then reads who is here at once. Between pushes the announcement is repeated every
``HEARTBEAT_SECONDS`` (the database forgets a silent client after 15 s), which also notices
clients that vanished without saying goodbye.

Who is here is shown only while the backend says so: when it refuses (the user was removed from
the project's team) the list goes, and when the project itself went from the tree (no selection
left) this dashboard leaves it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from textual import work
from textual.message import Message

from devsync_tui.backend.errors import DevSyncError, PermissionDenied
from devsync_tui.backend.live import PRESENCE_TABLE, PresenceEntry, PresenceInfo
from devsync_tui.backend.presence import HEARTBEAT_SECONDS
from devsync_tui.dashboard.panes.tabs import TABS

if TYPE_CHECKING:
    from devsync_tui.core.models import Environment
    from devsync_tui.dashboard.messages import LiveBatch
    from devsync_tui.dashboard.session import Selection, Session
    from devsync_tui.dashboard.widgets.nav_tree import NavTree
    from devsync_tui.dashboard.widgets.status_header import StatusHeader

log = logging.getLogger("devsync.ui")

_TAB_TITLES = {tab.id: tab.title for tab in TABS}


@dataclass(frozen=True, slots=True)
class Place:
    """Where this dashboard is; what it announces."""

    project_id: UUID | None
    environment_id: UUID | None = None
    tab: str | None = None
    editing_key: str | None = None


class PresenceSeen(Message):
    """Who else is on the selected project, and where."""

    def __init__(self, project_id: UUID | None, info: PresenceInfo | None) -> None:
        super().__init__()
        self.project_id = project_id
        self.info = info


def describe(entry: PresenceEntry, env_names: dict[UUID, str]) -> str:
    """``bob (staging · Health)``, or ``bob (staging · ✎LOG_LEVEL)`` while editing a key (on
    the Configuration tab: the tab goes, so that the key fits a header of 100 columns)."""
    where = []
    if entry.environment_id is not None and entry.environment_id in env_names:
        where.append(env_names[entry.environment_id])
    if entry.editing_key:
        where.append(f"✎{entry.editing_key}")
    elif entry.tab:
        where.append(_TAB_TITLES.get(entry.tab, entry.tab))
    return f"{entry.username} ({' · '.join(where)})" if where else entry.username


def header_text(info: PresenceInfo | None, environments: Iterable[Environment]) -> str:
    """The header's presence part: each other person once (their first client), placed."""
    if info is None:
        return ""
    names = {env.id: env.name for env in environments}
    seen: dict[str, PresenceEntry] = {}
    for entry in sorted(info.entries, key=lambda e: (e.username, e.editing_key is None)):
        seen.setdefault(entry.username, entry)
    return ", ".join(describe(entry, names) for entry in seen.values())


def tree_marks(info: PresenceInfo | None) -> dict[UUID, tuple[str, ...]]:
    """Environment id → who is on it (an ✎ before those editing a key there)."""
    marks: dict[UUID, set[str]] = {}
    for entry in info.entries if info is not None else ():
        if entry.environment_id is not None:
            name = f"✎{entry.username}" if entry.editing_key else entry.username
            marks.setdefault(entry.environment_id, set()).add(name)
    return {env: tuple(sorted(names)) for env, names in marks.items()}


class PresenceActions:
    """Mixed into MainScreen (which provides header, nav_tree, session and selection)."""

    if TYPE_CHECKING:

        @property
        def header(self) -> StatusHeader: ...

        @property
        def nav_tree(self) -> NavTree: ...

    session: Session | None
    selection: Selection | None
    _presence_place: Place | None = None
    _presence_info: PresenceInfo | None = None
    _presence_wake: asyncio.Event | None = None
    _presence_editing: str | None = None

    # -- where am I ----------------------------------------------------------------------
    def _current_place(self) -> Place:
        selection = self.selection
        if selection is None or selection.project is None:
            return Place(None)
        from textual.widgets import TabbedContent

        tabs = self.query_one(TabbedContent)  # type: ignore[attr-defined]
        return Place(
            project_id=selection.project.id,
            environment_id=selection.environment.id if selection.environment else None,
            tab=tabs.active or None,
            editing_key=self._presence_editing,
        )

    def presence_moved(self) -> None:
        """The selection, the tab or the edited key changed: announce it at once."""
        session = self.session
        if session is None:
            return
        place = self._current_place()
        if place == self._presence_place:
            return
        if self._presence_place is None or place.project_id != self._presence_place.project_id:
            self._presence_info = None
            self._show_presence()
        self._presence_place = place
        if self._presence_wake is None:
            self._presence_wake = asyncio.Event()
            self.presence_loop()
        self._presence_wake.set()

    def presence_pushed(self, batch: LiveBatch) -> None:
        """Someone arrived, moved or left (or the feed had a gap): read who is here now."""
        place = self._presence_place
        if place is None or place.project_id is None or self._presence_wake is None:
            return
        if batch.resync or any(
            e.table == PRESENCE_TABLE and e.project_id == place.project_id for e in batch.changes
        ):
            self._presence_wake.set()

    @work(exclusive=True, group="presence", exit_on_error=False)
    async def presence_loop(self) -> None:
        """Announce on every move and every heartbeat; read again on every push. Always
        through the current session's backend (a reconnect replaces it: announce again)."""
        wake = self._presence_wake
        assert wake is not None
        announced: Place | None = None
        backend: object = None
        failed: str | None = None  # the last failure logged (each said once)
        while True:
            place = self._presence_place
            if place is not None and place.project_id is not None and self.selection is None:
                # The project went from the tree under us (removed from its team, or the
                # project deleted): nobody is shown there any more, and we leave it.
                place = self._presence_place = Place(None)
                self._presence_info = None
                self._show_presence()
            session = self.session
            pushed = wake.is_set()
            wake.clear()
            if session is not None and session.backend is not backend:
                backend, announced = session.backend, None
            try:
                info: PresenceInfo | None = None
                if session is None or place is None:
                    pass
                elif session.cached_read_only:
                    pass  # a cached view (--offline, or not connected): nobody to tell
                elif place.project_id is None and place == announced:
                    pass  # on no project: said once
                elif place != announced or not pushed:  # moved, or the heartbeat is due
                    info = await session.backend.set_presence(
                        place.project_id,
                        environment_id=place.environment_id,
                        tab=place.tab,
                        editing_key=place.editing_key,
                    )
                    announced = place
                elif place.project_id is not None:
                    info = await session.backend.presence(place.project_id)
                project = place.project_id if place is not None else None
                self.post_message(PresenceSeen(project, info))  # type: ignore[attr-defined]
                failed = None
            except DevSyncError as exc:
                # Expected (the database away, a refusal): said once, not every heartbeat.
                if str(exc) != failed:
                    failed = str(exc)
                    log.info("presence not announced: %s", exc)
                if isinstance(exc, PermissionDenied) and place is not None:
                    # No longer allowed to see who is here: what was shown is not so any more.
                    self.post_message(PresenceSeen(place.project_id, None))  # type: ignore[attr-defined]
            if wake.is_set():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), HEARTBEAT_SECONDS)

    def on_presence_seen(self, message: PresenceSeen) -> None:
        place = self._presence_place
        if place is None or message.project_id != place.project_id:
            return  # moved on since
        self._presence_info = message.info
        self._show_presence()

    def _show_presence(self) -> None:
        selection = self.selection
        envs: Sequence[Environment] = selection.environments if selection else ()
        self.header.presence = header_text(self._presence_info, envs)
        self.nav_tree.show_presence(tree_marks(self._presence_info))

    # -- the key being edited ------------------------------------------------------------
    def presence_suspended(self) -> None:
        """A screen is on top of the main one: the configuration editor says which key."""
        self._presence_editing = _edited_key(self.app.screen)  # type: ignore[attr-defined]
        self.presence_moved()

    def presence_resumed(self) -> None:
        if self._presence_editing is not None:
            self._presence_editing = None
            self.presence_moved()


def _edited_key(screen: object) -> str | None:
    """The key the configuration editor on top edits (None: another screen, a new key)."""
    module = sys.modules.get("devsync_tui.dashboard.screens.config_editor")
    editor = getattr(module, "ConfigEditor", None) if module is not None else None
    if editor is None or not isinstance(screen, editor):
        return None
    return screen.target.key or None
