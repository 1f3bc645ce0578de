"""What DevSyncApp adds to Textual's own notices, theme and screenshots: identical notices
merge and keep off a dialog's buttons; a theme picked in the palette is saved; a screenshot
masks every revealed secret and is written readable by its owner only."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from textual import work
from textual._files import generate_datetime_filename
from textual.app import App
from textual.notifications import Notify
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
            self.notify(f"Could not save the screenshot: {exc.strerror}.", severity="error")
            return None
        self.notify(f"Saved the screenshot (secrets masked) to {saved}.", markup=False)
        return None
