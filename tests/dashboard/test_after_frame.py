"""Work that waits for a frame to be drawn (``AppChrome.call_after_frame``), and the cached
start that uses it: connecting for real starts as soon as the cached view is drawn, not once
the screen has settled (0.1-0.15 s and 4-5 frames later). These tests fail if Textual (pinned
at 8.2.8) stops drawing its frames through ``App._display``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rich.console import RenderableType
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from devsync_tui.dashboard import app as app_module
from devsync_tui.dashboard.app import DevSyncApp
from devsync_tui.dashboard.app_chrome import AppChrome
from devsync_tui.dashboard.screens.main import MainScreen
from tests.dashboard.conftest import wait_for, wait_ready
from tests.dashboard.test_cached_view import _app, _factory, _keys, _see_live


class _Counted(AppChrome):
    """Counts the frames drawn; what waited for a frame records how many there were."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0
        self.seen: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        yield Static("hello", id="hello")

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        if renderable is not None and not self._batch_count:
            self.frames += 1
        super()._display(screen, renderable)

    def on_mount(self) -> None:
        self.call_after_frame(lambda: self.seen.append(("first", self.frames)))
        self.call_after_frame(lambda: self.seen.append(("second", self.frames)))


async def test_what_waits_for_a_frame_runs_once_right_after_it() -> None:
    app = _Counted()
    async with app.run_test(size=(40, 5)) as pilot:
        await wait_for(pilot, lambda: len(app.seen) == 2)
        # Both after a frame, in the order asked.
        first = app.seen[0][1]
        assert first >= 1
        assert app.seen == [("first", first), ("second", first)]
        before = app.frames
        app.call_after_frame(lambda: app.seen.append(("later", app.frames)))
        app.query_one("#hello", Static).update("changed")
        await wait_for(pilot, lambda: len(app.seen) == 3)
        assert app.seen[2][0] == "later"
        assert app.seen[2][1] > before  # after a frame drawn since, not one drawn before
        await pilot.pause(0.2)
        assert len(app.seen) == 3  # once


class _Watched(DevSyncApp):
    """DevSyncApp counting the main screen's frames, and with rows each time."""

    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")  # its own, not ours

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.main_frames: list[int] = []
        self.shown_at: int | None = None

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        if isinstance(screen, MainScreen) and renderable is not None and not self._batch_count:
            self.main_frames.append(len(_keys(self)))
        super()._display(screen, renderable)

    def _first_view_shown(self) -> None:
        if self.shown_at is None:
            self.shown_at = len(self.main_frames)
        super()._first_view_shown()


@pytest.mark.db
async def test_connecting_starts_once_the_cached_view_is_drawn(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    template = _app(fresh_db_url, _factory(fresh_db_url))
    gate = asyncio.Event()
    frames_when_connecting: list[int] = []
    opening = _factory(fresh_db_url, gate)

    async def factory(settings: Any, **kw: Any) -> Any:
        frames_when_connecting.append(len(app.main_frames))
        return await opening(settings, **kw)

    app = _Watched(
        template.settings,
        factory,
        user="alice",
        animations=False,
        cached=template._cached,
        cache_owner=template._cache_owner,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(frames_when_connecting))
        # The first frame of the main screen had the cached rows, and the app was told then.
        assert app.main_frames[0] > 0
        assert app.shown_at is not None
        assert app.shown_at <= 2, app.main_frames
        assert app.first_view.is_set()
        # Connecting started right after that frame, before the screen settled.
        assert frames_when_connecting[0] <= 2
        gate.set()
        await wait_ready(pilot, within=20)
        assert app.main.header.link == "live"
