"""DevSyncApp and its one factory, ``make_app`` (called by the CLI and by the tests).

The first frame shows the shell at once; connecting (which may start the embedded database)
runs in a worker that reports progress and posts ``Connected``. One long-lived worker consumes
the backend's change feed, coalesces bursts and posts ``LiveBatch`` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.worker import Worker, WorkerState

from devsync_tui.backend.base import Backend, FeedEvent, LinkChanged
from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.backend.warm import WarmBackend
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard import startup_gc
from devsync_tui.dashboard.app_chrome import AppChrome
from devsync_tui.dashboard.messages import (
    Connected,
    ConnectFailed,
    ConnectProgress,
    FirstViewShown,
    LiveBatch,
    Reconnect,
    coalesce,
)
from devsync_tui.dashboard.palette import ActionsProvider, JumpProvider
from devsync_tui.dashboard.screens.help import HelpScreen
from devsync_tui.dashboard.screens.main import MainScreen, StartTarget, WarmOpening
from devsync_tui.dashboard.warm_start import WarmStart
from devsync_tui.exit_codes import exit_code_for
from devsync_tui.logging_setup import current_log_file, log_exception
from devsync_tui.settings import Settings

log = logging.getLogger("devsync.app")

#: How long a burst of feed events is gathered before the views re-read (seconds).
COALESCE_WINDOW = 0.08
#: With a warm start, connecting for real waits at most this long for the opening view.
FIRST_VIEW_WAIT = 1.0
#: How long the first frame may wait for a warm start's snapshot (seconds).
WARM_START_WAIT = 0.3


class BackendFactory(Protocol):
    """Opens the connected backend for the settings' profile: ``backend.factory.open_backend``
    (which starts the embedded database in a thread, keeping the UI free) or, in tests, one on
    a test database."""

    def __call__(
        self,
        settings: Settings,
        *,
        profile: str | None,
        user: str | None,
        progress: Callable[[str], None],
    ) -> Awaitable[Backend]: ...


class DevSyncApp(AppChrome, App[int]):
    """The DevSync dashboard."""

    TITLE = "DevSync"
    CSS_PATH = "app.tcss"
    BINDINGS = cmd.bindings(cmd.QUIT, cmd.HELP, cmd.PALETTE)
    COMMANDS = App.COMMANDS | {ActionsProvider, JumpProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (140, "-xwide")]

    def __init__(
        self,
        settings: Settings,
        backend_factory: BackendFactory,
        *,
        profile: str | None = None,
        user: str | None = None,
        target: StartTarget | None = None,
        animations: bool = True,
        warm_start: WarmStart | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._backend_factory = backend_factory
        self._profile = profile
        self._user = user
        self.target = target or StartTarget()
        self.backend: Backend | None = None
        self._warm_start = warm_start
        self._warm: WarmBackend | None = None
        #: The warm start's opening (or None, connecting the ordinary way), from on_mount.
        self._opening: asyncio.Future[WarmOpening | None] | None = None
        #: Connected/ConnectFailed that came before the main screen (posted again after it).
        self._early: Connected | ConnectFailed | None = None
        #: Set by the main screen once the opening view is on screen.
        self.first_view = asyncio.Event()
        #: The exit code of the last failed attempt to connect (None once connected): what
        #: ``devsync`` returns when the user quits without ever getting connected.
        self.failure_code: int | None = None
        if not animations:
            self.animation_level = "none"

    # -- crashes -------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        """An unexpected error still ends the app, but with one plain sentence on screen and
        the details in the log. Textual's own report prints a traceback *with local
        variables*, which could hold a revealed secret: it is never shown."""
        log_exception(error)
        self._return_code = 1
        if self._exception is None:  # what run_test re-raises for the test frameworks
            self._exception = error
            self._exception_event.set()
        self.panic(
            Text(
                f"DevSync stopped after an unexpected error ({type(error).__name__}). "
                f"The details are in {current_log_file()}."
            )
        )

    # -- start ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        theme = self.settings.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(
                f"The settings name a theme DevSync does not know ({theme!r}); "
                f"using {self.theme!r}. Themes: {', '.join(sorted(self.available_themes))}.",
                severity="warning",
                timeout=10,
            )
        self.watch_theme_changes()
        keymap = self.settings.keymap
        if keymap:
            self.set_keymap(cmd.expand_keymap(keymap))
            unknown = cmd.unknown_keymap_names(keymap)
            if unknown:
                self.notify(
                    "The settings' keymap names actions DevSync does not have, ignored: "
                    f"{', '.join(unknown)} (the names are listed under “Keys” in the README).",
                    severity="warning",
                    timeout=10,
                )
        # After Textual's start-up batch, which paints nothing until it ends: the main
        # screen's first frame is then painted as soon as it is ready, and what it schedules
        # "after refresh" (the other tabs, the real connection) runs after that paint.
        self._opening = asyncio.ensure_future(self._warm_opening())
        self.call_later(self._open_main)
        # Should the first view never come (an error), collection resumes anyway.
        self.set_timer(FIRST_VIEW_WAIT, startup_gc.resume)

    @on(FirstViewShown)
    def _first_view_shown(self) -> None:
        """The main screen's first view is on screen: connect for real, collect again."""
        self.first_view.set()
        startup_gc.resume()

    @on(Reconnect)
    def _reconnect(self) -> None:
        self.connect()

    async def _open_main(self) -> None:
        assert self._opening is not None  # set in on_mount, which runs first
        opening = await self._opening
        await self.push_screen(MainScreen(self.settings, target=self.target, warm=opening))
        if opening is not None:
            self.connect()  # after the snapshot's first view is on screen (connect waits)
        early, self._early = self._early, None
        if early is not None:  # connected (or failed) before the main screen was there
            self.post_message(early)

    async def _warm_opening(self) -> WarmOpening | None:
        """The warm start's snapshot behind a stand-in backend, if it came in time. Usually
        it is there before the UI is; the short wait keeps a blank screen brief.

        Without one, connecting (and the one opening read, refreshing an expired session
        first) starts here, while Textual starts: its network waits and imports overlap the
        main screen's start-up work."""
        if self._warm_start is not None:
            snapshot = await self._warm_start.snapshot(WARM_START_WAIT)
            if snapshot is not None:
                self._warm = WarmBackend(snapshot.label, snapshot.answers)
                self.backend = self._warm.as_backend()
                return (self.backend, snapshot.identity, snapshot.roles)
        self.connect()
        return None

    @property
    def main(self) -> MainScreen:
        main = self.main_or_none
        if main is None:
            raise LookupError("the main screen is not mounted")
        return main

    @property
    def main_or_none(self) -> MainScreen | None:
        """The main screen, or None while the app starts or closes."""
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        """Open the backend (may start the embedded database), then say who we are.

        The factory returns a connected backend (``backend.factory.open_backend``). With a
        warm start, its snapshot is shown first through a stand-in backend, and the real one
        is attached to it once connected."""

        def progress(text: str) -> None:
            # May be called from a thread that starts the database; post_message is safe.
            self.post_message(ConnectProgress(text))

        warm = self._warm
        if warm is not None:
            # Connecting for real loads the database driver: not before the first view is
            # on screen.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.first_view.wait(), FIRST_VIEW_WAIT)
        try:
            backend = await self._backend_factory(
                self.settings, profile=self._profile, user=self._user, progress=progress
            )
            if warm is None:
                # One round trip for who I am, the tree and the first view's rows; the
                # screens take them through ``backend.answer_now``.
                opening = await backend.open_workspace(self.target.project, self.target.env)
                if opening is not None:
                    identity, roles = opening.identity, opening.roles
                else:
                    identity = await backend.whoami()
                    roles = await backend.my_roles()
        except DevSyncError as exc:
            log.warning("connect failed: %s", exc)
            if warm is not None:
                warm.fail(exc)
            self.failure_code = exit_code_for(exc)
            retry = isinstance(exc, Unavailable)
            self.post_message(ConnectFailed(str(exc) or "Could not connect.", retry=retry))
            return
        self.failure_code = None
        if warm is not None:
            warm.attach(backend)
            self.watch_changes(warm.as_backend())
        else:
            self.post_message(Connected(backend, identity, roles))

    def on_connect_progress(self, message: ConnectProgress) -> None:
        if (main := self.main_or_none) is not None:
            main.show_progress(message.text)

    def on_connected(self, message: Connected) -> None:
        self.backend = message.backend
        if (main := self.main_or_none) is not None:
            main.connected(message.backend, message.identity, message.roles, live=message.live)
            self.watch_changes(message.backend)
        else:
            self._early = Connected(
                message.backend, message.identity, message.roles, live=message.live
            )

    def on_connect_failed(self, message: ConnectFailed) -> None:
        if (main := self.main_or_none) is not None:
            main.show_failure(message.text, retry=message.retry)
        else:
            self._early = ConnectFailed(message.text, retry=message.retry)

    # -- live ----------------------------------------------------------------------------
    @work(exclusive=True, group="live", exit_on_error=False)
    async def watch_changes(self, backend: Backend) -> None:
        """Consume the change feed for the life of the app, posting coalesced batches.

        The first event of a quiet period is posted at once (low latency); while events keep
        coming, they are gathered for ``COALESCE_WINDOW`` and posted as one batch."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[FeedEvent | None] = asyncio.Queue()
        delay = 1.0
        while self.is_running:
            pump = asyncio.create_task(self._pump(backend, queue))
            try:
                await self._post_batches(queue, loop)
            finally:
                pump.cancel()
                # Let the feed close its connection now, not when the event loop shuts down.
                await asyncio.wait({pump}, timeout=2.0)
            if not self.is_running:
                return
            # The feed ended: the backend gave up reconnecting by itself. Try again later.
            self.post_message(LiveBatch([LinkChanged("offline", "the change feed stopped")]))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _pump(self, backend: Backend, queue: asyncio.Queue[FeedEvent | None]) -> None:
        feed = backend.changes()
        try:
            async for event in feed:
                queue.put_nowait(event)
        except DevSyncError as exc:
            log.warning("change feed failed: %s", exc)
        finally:
            queue.put_nowait(None)
            aclose = getattr(feed, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def _post_batches(
        self, queue: asyncio.Queue[FeedEvent | None], loop: asyncio.AbstractEventLoop
    ) -> None:
        last_post = 0.0
        while True:
            first = await queue.get()
            if first is None:
                return
            batch: list[FeedEvent] = [first]
            flush_at = max(loop.time(), last_post + COALESCE_WINDOW)
            ended = False
            while True:
                remaining = flush_at - loop.time()
                if remaining <= 0:
                    while not queue.empty():  # take what already arrived
                        item = queue.get_nowait()
                        if item is None:
                            ended = True
                            break
                        batch.append(item)
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    continue
                if item is None:
                    ended = True
                    break
                batch.append(item)
            self.post_message(LiveBatch(coalesce(batch)))
            last_post = loop.time()
            if ended:
                return

    def on_live_batch(self, message: LiveBatch) -> None:
        # While the app shuts down, a batch must not start new loads (their tasks would
        # outlive the app and the closed backend).
        if not self.is_running:
            return
        if (main := self.main_or_none) is not None and main.is_attached:
            main.apply_live(message)

    # -- errors --------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Unexpected worker failures: one sentence on screen, the details in the log."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            log.error("worker %s failed", event.worker.name, exc_info=error)
            main = self.main_or_none
            if event.worker.group == "connect" and main is not None:
                main.show_failure("Could not connect; details are in the log file.")
            else:
                self.notify_error(error)

    def notify_error(self, error: BaseException) -> None:
        """Show a failure as one plain sentence (DevSync errors carry one already)."""
        if isinstance(error, DevSyncError) and str(error):
            self.notify(str(error), severity="error", title="")
        else:
            log.error("unexpected error", exc_info=error)
            self.notify("Something went wrong; details are in the log file.", severity="error")

    # -- actions -------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def on_unmount(self) -> None:
        # Stop the change feed (and any load) before the backend closes under it.
        self.workers.cancel_all()
        if self._warm_start is not None:
            self._warm_start.cancel()
        if self.backend is not None:
            try:
                await self.backend.close()
            except DevSyncError:
                log.warning("closing the backend failed", exc_info=True)


def make_app(
    settings: Settings,
    backend_factory: BackendFactory,
    *,
    profile: str | None = None,
    user: str | None = None,
    team: str | None = None,
    project: str | None = None,
    env: str | None = None,
    animations: bool = True,
    warm_start: WarmStart | None = None,
) -> DevSyncApp:
    """Build the app. ``backend_factory(settings, profile=, user=, progress=)`` is awaited for
    a connected Backend in a worker, after the first frame, so a slow start (the embedded
    database) never delays it. ``warm_start`` (from ``warm_start.begin``) supplies the
    opening view read ahead by a forked process."""
    return DevSyncApp(
        settings,
        backend_factory,
        profile=profile,
        user=user,
        target=StartTarget(team=team, project=project, env=env),
        animations=animations,
        warm_start=warm_start,
    )
