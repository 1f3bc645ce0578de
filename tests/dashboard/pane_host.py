"""A small host App for one pane (drift or health) on the local transport, so pane tests and
snapshots run on real Postgres without the whole dashboard."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import psycopg
from textual import work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer

from devsync_tui.backend.base import FeedEvent
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core import clock
from devsync_tui.dashboard.widgets.virtual_table import VirtualTable


class Fed(Message):
    """One change-feed event for the pane."""

    def __init__(self, event: FeedEvent) -> None:
        super().__init__()
        self.event = event


class PaneHost(App[None]):
    """Connects as ``username``, mounts ``make_pane(backend)`` and shows ``project_id``."""

    def __init__(
        self,
        url: str,
        username: str,
        make_pane: Callable[[PostgresBackend], Widget],
        project_id: UUID,
        focus_env: UUID | None = None,
        *,
        live: bool = False,
    ) -> None:
        super().__init__()
        self.live = live
        #: Every feed event the host passed to the pane, for tests to wait on.
        self.fed: list[FeedEvent] = []
        self.url = url
        self.username = username
        self.make_pane = make_pane
        self.project_id = project_id
        self.focus_env = focus_env
        self.backend: PostgresBackend | None = None
        self.pane: Widget | None = None

    def compose(self) -> ComposeResult:
        yield Footer()

    async def on_mount(self) -> None:
        self.backend = PostgresBackend(self.url, self.username)
        await self.backend.connect()
        self.pane = self.make_pane(self.backend)
        await self.mount(self.pane, before=0)
        await self.show_project(self.project_id, self.focus_env)
        # Keyboard first: the pane's table has focus, so its keys show in the footer.
        self.pane.query(VirtualTable).first().focus()
        if self.live:
            self._follow_feed()

    @work(group="feed", exit_on_error=False)
    async def _follow_feed(self) -> None:
        # Like the real app: the feed worker only posts; the handler touches the pane.
        assert self.backend is not None
        async for event in self.backend.changes():
            self.post_message(Fed(event))

    def on_fed(self, message: Fed) -> None:
        self.fed.append(message.event)
        self.pane.apply_changes([message.event])  # type: ignore[union-attr]

    async def show_project(self, project_id: UUID, focus_env: UUID | None = None) -> None:
        assert self.backend is not None
        assert self.pane is not None
        projects = {p.id: p for p in await self.backend.list_projects()}
        envs = await self.backend.list_environments(project_id)
        self.pane.show(projects[project_id], envs, focus_env=focus_env)  # type: ignore[attr-defined]

    async def on_unmount(self) -> None:
        if self.backend is not None:
            await self.backend.close()


async def settle(pilot: Pilot[None], ready: Callable[[Widget], bool], seconds: float = 60) -> None:
    """Wait until the host's pane is ``ready`` (loaded), then until the screen is painted."""
    app = pilot.app
    assert isinstance(app, PaneHost)
    for _ in range(int(seconds / 0.02)):
        if app.pane is not None and ready(app.pane):
            break
        await pilot.pause(0.02)
    else:
        raise AssertionError("the pane did not finish loading")
    # Not the feed worker: it runs until the app closes (and [] would mean "all workers").
    loads = [w for w in app.workers if w.group != "feed"]
    if loads:
        await app.workers.wait_for_complete(loads)
    await pilot.pause()


def freeze_clock_to_seed(url: str) -> None:
    """Freeze the clock at the moment the seed ran.

    The seed sets last syncs a whole number of minutes before its ``now()`` (ci-runner's one
    minute, the newest); at exactly that moment every "N min ago" comes out the same whatever
    second the seed ran at, and the sparklines (slotted on whole minutes) too.
    """
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select max(last_sync_at) + interval '1 minute' from public.environments"
        ).fetchone()
    assert row is not None
    assert row[0] is not None
    clock.freeze(row[0])
