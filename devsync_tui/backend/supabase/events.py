"""From raw realtime callbacks to FeedEvents, fanned out to every ``changes()`` consumer.

The realtime callbacks (sync, in the websocket listen task) only put tuples into the raw queue:
``("change", (payload, channel_scope))``, ``("link", (state, detail))``, ``("resync", reason)``,
``("presence", project_id)``.
One pump task turns them into ``ChangeEvent`` / ``LinkChanged`` / ``Resync`` — re-reading each
changed row once through PostgREST so RLS decides what it holds — and hands each event to every
subscriber, so two screens calling ``changes()`` both see everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast
from uuid import UUID

from devsync_tui.backend.live import (
    PRESENCE_TABLE,
    ChangeEvent,
    FeedEvent,
    LinkChanged,
    LinkState,
    Resync,
)

log = logging.getLogger("devsync.supabase.realtime")

#: Reads a changed row back through PostgREST: (table, primary key text) → model or None.
Reread = Callable[[str, str], Awaitable[Any | None]]
#: Tables whose changes can change which teams/projects I see (the channels follow them).
SCOPE_TABLES = ("teams", "team_members", "projects")
#: Tables whose events name an environment, not a row: one event per environment and commit
#: (a machine's report of many keys is one event; the view re-reads that environment).
BY_ENVIRONMENT = ("health_checks", "machine_config_states")


def row_key(table: str, record: dict[str, Any]) -> str | None:
    """The ChangeEvent ``id`` of a realtime record (None when the key columns are missing)."""
    if table == "team_members":
        team, user = record.get("team_id"), record.get("user_id")
        return f"{team}:{user}" if team and user else None
    value = record.get("id")
    return None if value is None else str(value)


def as_uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


class FeedFanout:
    """The pump and its subscribers."""

    def __init__(
        self,
        raw: asyncio.Queue[tuple[str, Any]],
        reread: Reread,
        team_of_project: Callable[[UUID], UUID | None],
        on_scope_change: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.raw = raw
        self.reread = reread
        self.team_of_project = team_of_project
        self.on_scope_change = on_scope_change
        #: The link state the pump last took from the raw queue; None until it took one. The
        #: feed queues "live" (or fails to start) before anyone subscribes, so "unknown" lasts
        #: only until the pump runs: a stream opened meanwhile gets that "live" from the pump,
        #: rather than a made-up "offline" first (``devsync run --watch`` said it at every
        #: start).
        self.state: LinkState | None = None
        self.detail = ""
        self._subscribers: list[asyncio.Queue[FeedEvent | None]] = []
        self._recent: deque[tuple[str, str, str, Any]] = deque(maxlen=512)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._pump(), name="devsync-realtime-pump")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for queue in self._subscribers:
            queue.put_nowait(None)  # ends every consumer's iteration

    async def events(self) -> AsyncIterator[FeedEvent]:
        """One consumer's stream: the current link state first (once known), then
        everything."""
        queue: asyncio.Queue[FeedEvent | None] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            if self.state is not None:
                yield LinkChanged(self.state, self.detail)
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(queue)

    def _publish(self, event: FeedEvent) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    async def _pump(self) -> None:
        while True:
            kind, item = await self.raw.get()
            try:
                if kind == "link":
                    self.state, self.detail = cast(LinkState, item[0]), str(item[1])
                    self._publish(LinkChanged(self.state, self.detail))
                elif kind == "presence":
                    project = cast(UUID, item)
                    self._publish(
                        ChangeEvent(
                            table=PRESENCE_TABLE,
                            op="UPDATE",
                            id="",
                            row=None,
                            team_id=self.team_of_project(project),
                            project_id=project,
                        )
                    )
                elif kind == "resync":
                    self._publish(Resync(str(item)))
                elif kind == "change":
                    event = await self.to_change(*item)
                    if event is None:
                        continue
                    self._publish(event)
                    if event.table in SCOPE_TABLES and self.on_scope_change is not None:
                        await self.on_scope_change()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one bad message must not stop the feed
                log.warning("realtime event dropped: %s", exc)

    async def to_change(self, payload: Any, channel_scope: dict[str, str]) -> ChangeEvent | None:
        """A postgres_changes payload as a ChangeEvent (None: not ours, or seen already)."""
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            return None
        table = str(data.get("table") or "")
        op = str(getattr(data.get("type"), "value", data.get("type")) or "")
        if op not in ("INSERT", "UPDATE", "DELETE") or not table:
            return None
        record = data.get("record") or {}
        old = data.get("old_record") or {}
        key = row_key(table, old if op == "DELETE" else record) or row_key(table, record)
        if key is None and table not in BY_ENVIRONMENT:
            return None
        # One commit reaches every channel whose filter matches (my membership is on both the
        # team channel and my own): report it once.
        stamp = data.get("commit_timestamp")
        seen = (table, op, key or str(record.get("environment_id")), stamp)
        if stamp and seen in self._recent:
            return None
        self._recent.append(seen)
        row = None
        if op != "DELETE" and key is not None:
            try:
                row = await self.reread(table, key)
            except Exception as exc:  # unreadable now (RLS, network): the event still counts
                log.info("re-read of %s %s failed: %s", table, key, type(exc).__name__)
        scope = {**channel_scope, **old, **record}
        own_id = as_uuid(scope.get("id"))
        team = as_uuid(scope.get("team_id")) or (own_id if table == "teams" else None)
        project = as_uuid(scope.get("project_id")) or (own_id if table == "projects" else None)
        environment = as_uuid(scope.get("environment_id")) or (
            own_id if table == "environments" else None
        )
        if project is None and table == "health_checks" and environment is not None:
            # health rows carry only their environment: find its project (and so its team)
            with contextlib.suppress(Exception):
                env = await self.reread("environments", str(environment))
                project = getattr(env, "project_id", None)
        if team is None and project is not None:
            team = self.team_of_project(project)
        return ChangeEvent(
            table=table,
            op=cast(Any, op),
            id=key or "",
            row=row,
            team_id=team,
            project_id=project,
            environment_id=environment,
        )
