"""What DevSyncApp adds to Textual's own notices, theme, screenshots and frames: identical
notices merge and keep off a dialog's buttons; a theme picked in the palette is saved; a
screenshot masks every revealed secret and is written readable by its owner only; work can wait
for the next frame drawn (``call_after_frame``) rather than for the screen to be idle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from textual import work
from textual._files import generate_datetime_filename
from textual.app import App
from textual.notifications import Notify
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets._toast import ToastRack

from devsync_tui.dashboard.screenshot import save_masked
from devsync_tui.settings import SettingsError, save_theme

if TYPE_CHECKING:
    from devsync_tui.settings import Settings

log = logging.getLogger("devsync.app")


class AppChrome(App[Any]):
    """Mixed into DevSyncApp (before App)."""

    settings: Settings
    #: What waits for the next frame drawn (``call_after_frame``); a list of the instance's own
    #: once something waits.
    _after_frame: tuple[Callable[[], object], ...] = ()

    # -- frames --------------------------------------------------------------------------
    def call_after_frame(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the next frame is drawn (written to the terminal, or rendered
        in a headless run), right after it on the event loop. ``call_after_refresh``
        waits until the screen is idle: at start-up, while the tabs' underline, the footer and
        the tree settle, that is 4-5 frames and 0.1-0.15 s after the first frame with data, and
        connecting waited as long (bench_startup, first live frame after a cached one)."""
        self._after_frame = (*self._after_frame, callback)

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        # The one place Textual (pinned at 8.2.8) draws a frame; a frame held back (nothing to
        # draw, or inside a batch) is not one. tests/dashboard/test_after_frame.py fails if an
        # upgrade changes this.
        super()._display(screen, renderable)
        if self._after_frame and renderable is not None and not self._batch_count:
            waiting, self._after_frame = self._after_frame, ()
            # Not through a message queue: the app's may be busy (a screen mounting), and a
            # frame drawn from the app's task would leave a screen's waiting for its next one.
            loop = asyncio.get_running_loop()
            for callback in waiting:
                loop.call_soon(self._after_frame_call, callback)

    def _after_frame_call(self, callback: Callable[[], object]) -> None:
        try:
            callback()
        except Exception as error:  # as Textual treats an error in any callback of the app
            self._handle_exception(error)

    def watch_theme_changes(self) -> None:
        """From now on a theme picked in the palette is kept for the next start."""
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    # -- notices -------------------------------------------------------------------------
    def _on_notify(self, event: Notify) -> None:
        """A notice identical to one on screen replaces it (its time starts again) instead
        of stacking a second copy."""
        new = event.notification
        for old in list(self._notifications):
            if (old.message, old.title, old.severity) == (new.message, new.title, new.severity):
                self._unnotify(old, refresh=False)
        super()._on_notify(event)

    def _refresh_notifications(self) -> None:
        super()._refresh_notifications()
        self.call_after_refresh(self._keep_toasts_off_buttons)

    def _keep_toasts_off_buttons(self) -> None:
        """Over a dialog, notices (docked at the top there, app.tcss) stop above its buttons:
        the newest stay in view, older ones scroll away beneath them."""
        screen = self.screen
        if not screen.has_class("dialog"):
            return
        rows = [b.region.y for b in screen.query(".dialog-buttons") if b.region.height]
        racks = screen.query(ToastRack)
        if rows and racks:
            racks.first().styles.max_height = max(min(rows), 1)

    # -- theme ---------------------------------------------------------------------------
    def _theme_changed(self, theme: Theme) -> None:
        if theme.name != self.settings.theme:
            self.settings.theme = theme.name
            self._save_theme(theme.name)

    @work(exclusive=True, group="save-theme", exit_on_error=False)
    async def _save_theme(self, name: str) -> None:
        """Write the theme into the settings file, changing nothing else in it (not what
        this run's flags set, such as --read-only)."""
        try:
            await asyncio.to_thread(save_theme, name, self.settings.path)
        except (OSError, SettingsError) as exc:
            log.warning("theme not saved: %s", exc)
            self.notify(
                f"The theme {name} is used now but could not be saved: {exc}",
                severity="warning",
                markup=False,
            )

    # -- screenshots (secrets masked, file 0600) -------------------------------------------
    # The palette's "Screenshot" and the screenshot action deliver through these two;
    # export_screenshot stays Textual's own (what snapshot tests compare).
    def save_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str:
        name = filename or generate_datetime_filename(self.title, ".svg", time_format)
        return str(save_masked(self, name, path or "./"))

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """The palette's "Screenshot": saved where Textual saves it, secrets masked, 0600."""
        name = filename or generate_datetime_filename(self.title, ".svg", time_format)
        try:
            saved = save_masked(self, name, path)
        except OSError as exc:
            where = exc.filename or path or name
            self.notify(
                f"Could not save the screenshot to {where}: {exc.strerror or exc}.",
                severity="error",
                markup=False,
            )
            return None
        self.notify(f"Saved the screenshot (secrets masked) to {saved}.", markup=False)
        return None
