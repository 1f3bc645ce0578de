"""The Configuration tab's revealed secrets: a secret is read only when asked for (each reveal is
recorded), shown for the reveal timeout of the settings, then masked again; a change of rights
masks every revealed value at once, here and in an open History dialog. Mixed into
``ConfigurationPane``."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

from textual import work
from textual.message import Message

from devsync_tui.backend.errors import DevSyncError, PermissionDenied
from devsync_tui.dashboard.panes.config_actions import ConfigView
from devsync_tui.dashboard.session import Access, Session
from devsync_tui.logging_setup import register_secret

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer, TimerCallback

    from devsync_tui.dashboard.widgets.filter_table import FilterableTable


class SecretRevealed(Message):
    def __init__(self, configuration_id: UUID, value: str, then_copy: bool, rights: int) -> None:
        super().__init__()
        self.configuration_id = configuration_id
        self.value = value
        self.then_copy = then_copy
        self.rights = rights  # ``ConfigurationPane._rights`` when it was asked for


class RevealedSecrets:
    """Revealed values (``revealed``) and the timers that mask them again."""

    if TYPE_CHECKING:
        app: App[Any]
        session: Session | None
        view: ConfigView | None
        revealed: dict[UUID, str]
        _mask_timers: dict[UUID, Timer]
        _rights: int

        @property
        def is_mounted(self) -> bool: ...
        @property
        def rows_table(self) -> FilterableTable: ...

        def post_message(self, message: Message) -> bool: ...
        def set_timer(
            self,
            delay: float,
            callback: TimerCallback | None = None,
            *,
            name: str | None = None,
            pause: bool = False,
        ) -> Timer: ...
        def refresh_bindings(self) -> None: ...
        def copy_secret(self, key: str, value: str) -> None: ...
        def _show_rows(self) -> None: ...

    @work(group="config-reveal", exit_on_error=False)
    async def fetch_secret(self, configuration_id: UUID, then_copy: bool) -> None:
        session, rights = self.session, self._rights
        if session is None:
            return
        try:
            value = await session.backend.reveal_secret(configuration_id)
        except PermissionDenied:
            self.app.notify("You are not allowed to see this secret.", severity="error")
            return
        except DevSyncError as exc:
            self.app.notify(str(exc) or "The secret could not be read.", severity="error")
            return
        register_secret(value)
        self.post_message(SecretRevealed(configuration_id, value, then_copy, rights))

    def on_secret_revealed(self, message: SecretRevealed) -> None:
        if self.session is None or message.rights != self._rights:
            return  # only a session reveals, under the rights it was asked with
        if message.then_copy:  # copied, not shown: the screen stays masked
            row = (
                next(
                    (r for r in self.view.rows if r.configuration_id == message.configuration_id),
                    None,
                )
                if self.view
                else None
            )
            self.copy_secret(row.key if row else "the secret", message.value)
            return
        self.revealed[message.configuration_id] = message.value
        old = self._mask_timers.pop(message.configuration_id, None)
        if old is not None:
            old.stop()
        self._mask_timers[message.configuration_id] = self.set_timer(
            self.session.settings.reveal_timeout, partial(self.mask, message.configuration_id)
        )
        self._show_rows()

    def mask(self, configuration_id: UUID) -> None:
        self.revealed.pop(configuration_id, None)
        timer = self._mask_timers.pop(configuration_id, None)
        if timer is not None:
            timer.stop()
        if self.is_mounted:
            self._show_rows()

    def _mask_all(self) -> None:
        for timer in self._mask_timers.values():
            timer.stop()
        self._mask_timers.clear()
        self.revealed.clear()

    def rights_changed(self, access: Access | None = None) -> None:
        """The user's rights may have changed (a role, a membership, a resync): mask every
        revealed value at once, here and in an open History dialog, and offer keys anew.
        ``access``: the rights now, when known (the History dialog takes them)."""
        # Here, not at the top: the history dialog costs the first frame (config_actions).
        from devsync_tui.dashboard.screens.history import HistoryScreen

        had = bool(self.revealed)
        self._rights += 1
        self._mask_all()
        for screen in self.app.screen_stack:
            if isinstance(screen, HistoryScreen):
                screen.rights_changed(access)
        if had and self.is_mounted and self.view is not None:
            self._show_rows()
        self.refresh_bindings()
        self.rows_table.table.refresh_bindings()
