"""DevSyncApp and its one factory, ``make_app`` (called by the CLI and by the tests).

The first frame shows the shell at once — with the last view this user saw, from the local
cache (``dashboard.last_view``), marked as cached with its age. Connecting (which may start
the embedded database) runs in a worker that reports progress and posts ``Connected``; the
live opening (one round trip) then replaces the cached view. One long-lived worker consumes
the backend's change feed, coalesces bursts and posts ``LiveBatch`` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.driver import Driver
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from devsync_tui.backend.base import Backend, FeedEvent, LinkChanged
from devsync_tui.backend.cached import CachedBackend
from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.core import view_cache
from devsync_tui.core.view_cache import CachedView, ScreenFrame
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard import last_view, startup_gc
from devsync_tui.dashboard.app_chrome import AppChrome
from devsync_tui.dashboard.frame_replay import Replay
from devsync_tui.dashboard.messages import (
    Connected,
    ConnectFailed,
    ConnectProgress,
    LiveBatch,
    Reconnect,
    ViewSeen,
    coalesce,
)
from devsync_tui.dashboard.palette import ActionsProvider, JumpProvider
from devsync_tui.dashboard.screens.main import CachedOpening, MainScreen, StartTarget
from devsync_tui.dashboard.workspace import WorkspaceData
from devsync_tui.exit_codes import exit_code_for
from devsync_tui.logging_setup import current_log_file, log_exception
from devsync_tui.settings import Settings, SettingsError

log = logging.getLogger("devsync.app")

#: How long a burst of feed events is gathered before the views re-read (seconds).
COALESCE_WINDOW = 0.08
#: With a cached view on screen, connecting for real waits at most this long for it to be
#: drawn (connecting loads the database driver: not before the first frame).
FIRST_VIEW_WAIT = 1.0
#: A view on screen is kept as the last view once it stayed this long (seconds): moving
#: through the tree writes the cache once, where the user stops.
REMEMBER_AFTER = 1.0
#: How long the first frame may wait for an opening read ahead (no cached view; seconds).
PREFETCH_WAIT = 0.3
#: How long a read ahead may still replace a cached view on screen (seconds).
PREFETCH_LATE_WAIT = 5.0
#: With the cached view's recorded frame on the terminal, how long the main screen waits
#: for the opening read ahead before it draws the cached view itself (seconds): the picture
#: is up meanwhile, and live data drawn first is one drawing of the screen, not two.
REPLAYED_PREFETCH_WAIT = 0.5
#: What reads the cached view lacks say under ``--offline``.
OFFLINE_REASON = "DevSync was started with --offline: only the cached view can be shown."


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
        cached: CachedView | last_view.Reading | None = None,
        cache_owner: str | None = None,
        offline: bool = False,
        prefetch: last_view.Prefetch | None = None,
        replay: Replay | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._backend_factory = backend_factory
        self._profile = profile
        self._user = user
        self.target = target or StartTarget()
        self.backend: Backend | None = None
        #: The last view this user saw (shown first), and whose cache this start writes.
        self._cached = cached
        self._cache_owner = cache_owner
        #: ``--offline``: show the cached view and contact nothing.
        self.offline = offline
        #: The opening read ahead (``last_view.Prefetch``): first frame, or replaces the cache.
        self._prefetch = prefetch
        #: The recorded frame this start drew before the UI (``dashboard.frame_replay``):
        #: the driver takes the terminal from it and holds the output until the screen settles.
        self.replay = replay
        #: The cached view's stand-in backend while it is on screen (None: no cached view).
        self._stand_in: CachedBackend | None = None
        #: The live opening's document (the tree), which the cached view keeps.
        self._document: dict[str, Any] | None = None
        #: The view waiting to be kept as the last view, and the timer that keeps it.
        self._to_remember: ViewSeen | None = None
        self._remember_timer: Timer | None = None
        #: The last live view seen (kept again, with the screen, as the user leaves).
        self._last_seen: ViewSeen | None = None
        #: Connected/ConnectFailed that came before the main screen (posted again after it).
        self._early: Connected | ConnectFailed | None = None
        #: Set by the main screen once the opening view is on screen.
        self.first_view = asyncio.Event()
        #: The exit code of the last failed attempt to connect (None once connected): what
        #: ``devsync`` returns when the user quits without ever getting connected.
        self.failure_code: int | None = None
        if not animations:
            self.animation_level = "none"

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, but one that ends the app when the terminal hangs up where
        Textual's ``LinuxDriver`` would read end of file forever (``dashboard.hangup``), and
        holds its output behind a replayed frame (``dashboard.held_driver``)."""
        chosen = super().get_driver_class()
        if sys.platform == "win32":
            return chosen
        from devsync_tui.dashboard import held_driver

        return held_driver.driver_class(chosen)

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
        self.call_later(self._open_main)
        # Should the first view never come (an error), collection resumes anyway.
        self.set_timer(FIRST_VIEW_WAIT, startup_gc.resume)

    def _first_view_shown(self) -> None:
        """The main screen's first view is drawn: connect for real, collect again. Called
        by the main screen at once (a message would wait behind ``_open_main``, which awaits
        the screen's mount, ~2 frames)."""
        self.first_view.set()
        if self._prefetch is not None:
            self._prefetch.frame_shown()
        startup_gc.resume()
        # Behind a replayed frame the output is held until the screen has settled (its
        # footer, tabs and tree drawn): then it replaces the picture at once.
        self.call_after_refresh(self._release_output)

    def _release_output(self) -> None:
        from devsync_tui.dashboard.held_driver import release

        release(self._driver)

    @on(Reconnect)
    def _reconnect(self) -> None:
        self.connect()

    async def _open_main(self) -> None:
        if isinstance(self._cached, last_view.Reading):  # read while the UI was imported
            self._cached = await asyncio.to_thread(self._cached.result)
        opening = self._cached_opening()
        if opening is None and self._prefetch is not None:
            opening = await self._prefetched_opening(self._prefetch)
        elif opening is not None and self._prefetch is not None and self._replayed():
            opening = await self._fresh_behind_replay(opening, self._prefetch)
        if not self.offline:
            # No cached view: connecting (and the one opening read, refreshing an expired
            # session first) starts now, while the main screen starts: its network waits
            # and imports overlap that work. A cached view: connecting waits until it is
            # drawn (``first_view``), which comes before the screen's mount has ended.
            self.connect()
        await self.push_screen(
            MainScreen(
                self.settings,
                target=self.target,
                cached=opening,
                offline=self.offline,
                on_first_view=self._first_view_shown,
            )
        )
        if opening is not None and opening.saved_at is not None and self._prefetch is not None:
            self._take_prefetch(self._prefetch)  # once the screen can take it
        early, self._early = self._early, None
        if early is not None:  # connected (or failed) before the main screen was there
            self.post_message(early)

    def _cached_opening(self) -> CachedOpening | None:
        """The cached last view behind its stand-in backend, or None (no usable cache)."""
        view = self._cached
        if not isinstance(view, CachedView):
            return None
        found = last_view.standing_in(view, self._kind())
        if found is None:
            self._cached = None
            return None
        stand_in, opening = found
        self._stand_in = stand_in
        self.backend = stand_in.as_backend()
        if self.offline:
            stand_in.fail(Unavailable(OFFLINE_REASON))
        if self.target == StartTarget():  # no --team/--project/--env: open where it was
            self.target = StartTarget(
                project=view.project_id, env=view.environment_id, remembered=True
            )
        return CachedOpening(self.backend, opening.identity, opening.roles, view.saved_at)

    def _replayed(self) -> bool:
        return self.replay is not None and self.replay.shown

    async def _fresh_behind_replay(
        self, cached: CachedOpening, ahead: last_view.Prefetch
    ) -> CachedOpening:
        """The cached view's recorded frame is on the terminal: the opening read ahead, if
        it comes within ``REPLAYED_PREFETCH_WAIT``, is what the main screen draws first (the
        cached view's stand-in answering it, unmarked); otherwise the cached view, replaced
        when the read comes (``_take_prefetch``)."""
        found = await asyncio.to_thread(ahead.result, REPLAYED_PREFETCH_WAIT)
        stand_in = self._stand_in
        if found is None or stand_in is None:
            return cached
        stand_in.refresh(found.answers)
        return CachedOpening(cached.backend, found.identity, found.roles, None)

    async def _prefetched_opening(self, ahead: last_view.Prefetch) -> CachedOpening | None:
        """The opening read ahead (no cached view), behind a stand-in until connected."""
        found = await asyncio.to_thread(ahead.result, PREFETCH_WAIT)
        if found is None:
            return None
        stand_in = CachedBackend(ahead.label, ahead.kind, found.answers, None)
        self._stand_in = stand_in
        self.backend = stand_in.as_backend()
        return CachedOpening(self.backend, found.identity, found.roles, None)

    @work(group="prefetch", exit_on_error=False)
    async def _take_prefetch(self, ahead: last_view.Prefetch) -> None:
        """A live opening read ahead that comes while the cached view is on screen and the
        app is still connecting replaces the cached view."""
        found = await asyncio.to_thread(ahead.result, PREFETCH_LATE_WAIT)
        stand_in, main = self._stand_in, self.main_or_none
        if found is None or stand_in is None or main is None:
            return
        if stand_in.attached or stand_in.failed:
            return  # connected meanwhile (its own read is newer), or failed (said so)
        stand_in.refresh(found.answers)
        main.fresh_opening(found.identity, found.roles)

    def _kind(self) -> str:
        try:
            return self.settings.profile(self._profile)[1].kind
        except SettingsError:
            return "local"

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
        """Open the backend (may start the embedded database), then read the opening view in
        one round trip (who I am, the tree, the shown scope's rows).

        The factory returns a connected backend (``backend.factory.open_backend``). With a
        cached view on screen, its stand-in is attached to the real backend once connected,
        and the live opening replaces the cached view."""

        def progress(text: str) -> None:
            # May be called from a thread that starts the database; post_message is safe.
            self.post_message(ConnectProgress(text))

        if self.offline:
            return
        stand_in = self._stand_in
        if stand_in is not None:
            stand_in.retry()
            # Connecting for real loads the database driver: not before the cached view is
            # on screen.
            # asyncio.timeout, not wait_for: wait_for runs the wait in a task of its own, and
            # its end reaches this one loop turn later (a frame later, on a busy machine).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FIRST_VIEW_WAIT):
                    await self.first_view.wait()
        try:
            backend = await self._backend_factory(
                self.settings, profile=self._profile, user=self._user, progress=progress
            )
            project, env = self._live_target()
            # One round trip for who I am, the tree and the first view's rows; the screens
            # take them through ``backend.answer_now``.
            opening = await backend.open_workspace(project, env)
            if opening is not None:
                identity, roles = opening.identity, opening.roles
                self._document = dict(opening.document)
            else:
                identity = await backend.whoami()
                roles = await backend.my_roles()
        except DevSyncError as exc:
            log.warning("connect failed: %s", exc)
            if stand_in is not None:
                stand_in.fail(exc)
            self.failure_code = exit_code_for(exc)
            retry = isinstance(exc, Unavailable)
            self.post_message(ConnectFailed(str(exc) or "Could not connect.", retry=retry))
            return
        self.failure_code = None
        if stand_in is not None:
            # The panes made with the stand-in go on through it, to the real backend.
            stand_in.attach(backend)
        self.post_message(Connected(backend, identity, roles))

    def _live_target(self) -> tuple[str | None, str | None]:
        """Where the live opening reads: the view on screen (the cached one, or where the
        user went meanwhile), else where the flags or the cache say."""
        main = self.main_or_none
        selection = main.selection if main is not None else None
        if selection is not None and selection.project is not None:
            env = selection.environment
            return str(selection.project.id), None if env is None else str(env.id)
        return self.target.project, self.target.env

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
        # Imported when first asked for: not before the first frame.
        from devsync_tui.dashboard.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # -- the last view -------------------------------------------------------------------
    @on(ViewSeen)
    def _view_seen(self, message: ViewSeen) -> None:
        """A live view is on screen: keep it as the last view once the user stays on it."""
        if self._cache_owner is None or self._document is None:
            return
        self._to_remember = self._last_seen = message
        if self._remember_timer is not None:
            self._remember_timer.stop()
        self._remember_timer = self.set_timer(REMEMBER_AFTER, self._remember_later)

    def _remember_later(self) -> None:
        self._remember_timer = None
        self._remember_in_thread(self._record_frame(), self._tree_now())

    def _record_frame(self) -> ScreenFrame | None:
        """The screen as drawn now, if it may be kept with the view (``frame_record``; on
        the UI's thread)."""
        from devsync_tui.dashboard.frame_record import record

        try:
            return record(self, read_only=self.settings.read_only)
        except Exception:  # never a crash: the view is kept without its frame
            log.debug("the screen could not be recorded", exc_info=True)
            return None

    def _tree_now(self) -> WorkspaceData | None:
        """The tree as the main screen last read it (on the UI's thread), kept with the view:
        the opening's is as old as the connection."""
        main = self.main_or_none
        return main.workspace if main is not None else None

    @work(thread=True, group="remember", exit_on_error=False)
    def _remember_in_thread(self, frame: ScreenFrame | None, tree: WorkspaceData | None) -> None:
        self._remember(frame, tree)

    def _remember(self, frame: ScreenFrame | None, tree: WorkspaceData | None) -> None:
        """Write the view waiting to be kept with ``frame``, the screen recorded with it, and
        ``tree`` (encrypting and writing: off the UI's thread, but for the last one as the
        app closes)."""
        seen, self._to_remember = self._to_remember, None
        owner, document, backend = self._cache_owner, self._document, self.backend
        if seen is None or owner is None or document is None:
            return
        view = last_view.of_view(
            document,
            backend.label if backend is not None else "",
            seen.project_id,
            seen.environment_id,
            seen.rows,
            seen.required,
            seen.template_id,
            frame,
            tree,
        )
        if view is not None:
            view_cache.save(owner, view)

    def exit(
        self, result: int | None = None, return_code: int = 0, message: Any | None = None
    ) -> None:
        """Quit (any way: the key, SIGHUP, a hang-up): the view on screen is kept as the last
        view with the screen as the user leaves it, as long as that screen is still there."""
        self._keep_on_exit()
        super().exit(result, return_code, message)

    def _keep_on_exit(self) -> None:
        """The view waiting to be kept is kept now; the one already kept is kept again with
        the screen as it is now if it was live until now, unless that cannot be recorded
        (a notice on screen, another tab): then the kept one, with its own frame, stays."""
        timer, self._remember_timer = self._remember_timer, None
        pending = timer is not None
        if timer is not None:
            timer.stop()
        elif self._last_seen is None:
            return
        main = self.main_or_none
        if not pending and (main is None or main.header.link != "live"):
            return  # not live until now: the view kept when it was stays
        try:
            frame = self._record_frame()
            if pending or frame is not None:
                self._to_remember = self._to_remember or self._last_seen
                self._remember(frame, self._tree_now())
        except Exception:  # leaving never fails on the cache (logged)
            log.debug("the last view could not be kept on the way out", exc_info=True)

    async def on_unmount(self) -> None:
        # Stop the change feed (and any load) before the backend closes under it.
        self.workers.cancel_all()
        if self._remember_timer is not None:  # the view the user quit on
            self._remember_timer.stop()
            self._remember(self._record_frame(), self._tree_now())
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
    cached: CachedView | last_view.Reading | None = None,
    cache_owner: str | None = None,
    offline: bool = False,
    prefetch: last_view.Prefetch | None = None,
    replay: Replay | None = None,
) -> DevSyncApp:
    """Build the app. ``backend_factory(settings, profile=, user=, progress=)`` is awaited for
    a connected Backend in a worker, after the first frame, so a slow start (the embedded
    database) never delays it. ``cached`` (``last_view.load``, or a ``last_view.Reading``)
    is drawn in the first frame, marked as cached, until the live view replaces it; live
    views are kept as ``cache_owner``'s last view. ``offline``: only the cached view,
    nothing is contacted. ``prefetch``: the opening read ahead (``last_view.prefetch``, either
    transport): the first frame without a cache, else it replaces the cached view; shown as
    connecting until connected. ``replay``: the recorded frame drawn before the UI, if any
    (``dashboard.frame_replay``)."""
    return DevSyncApp(
        settings,
        backend_factory,
        profile=profile,
        user=user,
        target=StartTarget(team=team, project=project, env=env),
        animations=animations,
        cached=cached,
        cache_owner=cache_owner,
        offline=offline,
        prefetch=prefetch,
        replay=replay,
    )
