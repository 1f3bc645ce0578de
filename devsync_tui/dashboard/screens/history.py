"""History of one configuration key: every version, the diff to the one before, restore."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Label, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, WorkerState

from devsync_tui.backend.errors import Conflict, DevSyncError
from devsync_tui.core import clock
from devsync_tui.core.execution_control import refusal as execution_control_refusal
from devsync_tui.core.models import ConfigHistoryEntry, ConfigType
from devsync_tui.core.printable import visible
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.screens.conflict import diff_text
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog
from devsync_tui.dashboard.screens.help import HelpScreen
from devsync_tui.dashboard.session import Access, Session
from devsync_tui.dashboard.widgets.filter_table import KeyTable
from devsync_tui.logging_setup import register_secret

MASK = "••••••••"


class HistoryLoaded(Message):
    def __init__(self, entries: list[ConfigHistoryEntry]) -> None:
        super().__init__()
        self.entries = entries


class HistoryScreen(ModalScreen[bool]):
    """Dismisses with True when a version was restored."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.HISTORY_RESTORE, cmd.HISTORY_REVEAL, cmd.HELP)

    def __init__(
        self,
        session: Session,
        access: Access,
        project_id: UUID,
        environment_id: UUID | None,
        key: str,
        type: ConfigType,
    ) -> None:
        super().__init__(classes="dialog")
        self.session = session
        self.access = access
        self.project_id = project_id
        self.environment_id = environment_id
        self.key = key
        self.type = type
        self.entries: list[ConfigHistoryEntry] = []
        self.revealed: dict[int, str] = {}
        #: Each revealed value's re-mask (after ``Settings.reveal_timeout``, as in the table).
        self._mask_timers: dict[int, Timer] = {}
        #: Bumped when rights may have changed: a reveal asked for before is not shown.
        self._rights = 0
        self.restored = False
        #: The "When" column's key and each row's age as drawn, for the tick that keeps them
        #: current (as the Configuration tab's "Changed").
        self._when_column: ColumnKey | None = None
        self._ages: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        scope = "project default" if self.environment_id is None else "environment override"
        with Vertical(classes="dialog-box wide", id="history"):
            yield Label(f"History of {self.key} ({scope})", classes="dialog-title")
            with Horizontal(id="history-body"):
                yield KeyTable(id="history-table", cursor_type="row")
                with VerticalScroll(id="history-detail"):
                    yield Static("", id="history-value")
                    yield Label("Change from the version before", classes="field-label")
                    yield Static("", id="history-diff")
            yield Static(" · ".join(self._hints()), classes="dialog-note", id="history-hints")

    def _hints(self) -> list[str]:
        """The keys this user can use here (R and r explain themselves when pressed anyway)."""
        hints = []
        if self.access.can_edit_config(self.environment_id, self.key):
            hints.append(
                f"{cmd.key_name(self.app, cmd.HISTORY_RESTORE)} restores the selected version"
            )
        if self.access.can_reveal(self.environment_id):
            hints.append(f"{cmd.key_name(self.app, cmd.HISTORY_REVEAL)} reveals a secret")
        help_key = cmd.key_name(self.app, cmd.HELP)
        close_key = cmd.key_name(self.app, cmd.DIALOG_CANCEL)
        return [*hints, f"{help_key} keys", f"{close_key} closes"]

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    def on_mount(self) -> None:
        table = self.query_one("#history-table", KeyTable)
        *_, self._when_column = table.add_columns("Ver", "Change", "By", "When")
        self.load()
        self.set_interval(clock.AGE_TICK_SECONDS, self.refresh_ages, name="history-ages")

    def refresh_ages(self) -> None:
        """Redraw the "When" cells whose age has moved on ("just now" → "1 min ago")."""
        if self._when_column is None or not self.is_mounted:
            return
        table = self.query_one("#history-table", KeyTable)
        for entry in self.entries:
            when = clock.ago(entry.changed_at)
            if self._ages.get(entry.id) != when and str(entry.id) in table.rows:
                table.update_cell(str(entry.id), self._when_column, when)
                self._ages[entry.id] = when

    @work(exclusive=True, group="history-load", exit_on_error=False)
    async def load(self) -> None:
        entries = await self.session.backend.configuration_history(
            self.project_id, self.environment_id, self.key
        )
        self.post_message(HistoryLoaded(entries))

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        """Reading the history failed (offline, a cached view): say so, not "No history"."""
        if event.worker.group != "history-load" or event.state != WorkerState.ERROR:
            return
        # The main screen's header knows why the link is down (a modal has no header).
        main = getattr(self.app, "main_or_none", None) or self
        text = load_failure(main, "the history", event.worker.error)
        self.query_one("#history-value", Static).update(text)

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.entries = message.entries
        table = self.query_one("#history-table", KeyTable)
        table.clear()
        self._ages = {entry.id: clock.ago(entry.changed_at) for entry in self.entries}
        for entry in self.entries:
            table.add_row(
                str(entry.version),
                entry.op,
                entry.changed_by_username or "?",
                self._ages[entry.id],
                key=str(entry.id),
            )
        table.focus()
        self._show_selected()

    def _selected_index(self) -> int | None:
        table = self.query_one("#history-table", KeyTable)
        if not self.entries or table.row_count == 0:
            return None
        return min(table.cursor_row, len(self.entries) - 1)

    def _value_of(self, entry: ConfigHistoryEntry) -> str | None:
        """The entry's value as shown (control characters made visible, never replayed)."""
        if entry.is_secret:
            shown = self.revealed.get(entry.id)
            return None if shown is None else visible(shown)
        return visible(entry.value or "")

    @on(DataTable.RowHighlighted)
    def _moved(self) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        index = self._selected_index()
        value_box = self.query_one("#history-value", Static)
        diff_box = self.query_one("#history-diff", Static)
        if index is None:
            value_box.update("No history for this key.")
            diff_box.update("")
            return
        entry = self.entries[index]
        if entry.op == "delete":
            value_box.update(Text("(deleted in this change)", style="dim"))
        else:
            value = self._value_of(entry)
            if value is None:
                lock = "" if self.access.can_reveal(self.environment_id) else " 🔒"
                value_box.update(Text(MASK + lock, style="dim"))
            else:
                value_box.update(Text(value))
        older = self.entries[index + 1] if index + 1 < len(self.entries) else None
        now = self._value_of(entry) if entry.op != "delete" else ""
        before = (self._value_of(older) if older.op != "delete" else "") if older else ""
        if now is None or before is None:
            diff_box.update(Text(self._secret_diff_note(), style="dim"))
        elif older is None:
            diff_box.update(Text("First version.", style="dim"))
        else:
            assert older is not None
            diff_box.update(
                diff_text(before, now, before=f"v{older.version}", after=f"v{entry.version}")
            )

    def _secret_diff_note(self) -> str:
        """Why a secret's change is not shown: not revealed yet, or never to this user."""
        if self.access.can_reveal(self.environment_id):
            return "Secret: reveal to compare."
        return f"Secret: the change is not shown. {self.access.reveal_reason(self.environment_id)}"

    def action_reveal(self) -> None:
        index = self._selected_index()
        if index is None:
            return
        entry = self.entries[index]
        if not entry.is_secret:
            return
        if entry.id in self.revealed:  # r again masks it
            self.mask(entry.id)
            return
        if not self.access.can_reveal(self.environment_id):
            self.app.notify(self.access.reveal_reason(self.environment_id), severity="warning")
            return
        self._reveal(entry, self._rights)

    @work(group="history-reveal", exit_on_error=False)
    async def _reveal(self, entry: ConfigHistoryEntry, rights: int) -> None:
        try:
            value = await self.session.backend.reveal_history_secret(entry.id)
        except DevSyncError as exc:
            self.app.notify(str(exc) or "The secret could not be read.", severity="error")
            return
        register_secret(value)
        if rights != self._rights:
            return  # the rights may have changed while it was read: not shown
        self.revealed[entry.id] = value
        old = self._mask_timers.pop(entry.id, None)
        if old is not None:
            old.stop()
        timeout = self.session.settings.reveal_timeout
        self._mask_timers[entry.id] = self.set_timer(timeout, partial(self.mask, entry.id))
        self._show_selected()

    def mask(self, entry_id: int) -> None:
        """Mask this version's value again (the timeout ran out, or r was pressed)."""
        self.revealed.pop(entry_id, None)
        timer = self._mask_timers.pop(entry_id, None)
        if timer is not None:
            timer.stop()
        if self.is_mounted:
            self._show_selected()

    def rights_changed(self, access: Access | None = None) -> None:
        """The user's rights may have changed (a role, a membership, a resync): mask every
        revealed value at once; ``access``, when given, is what they may do now."""
        self._rights += 1
        for timer in self._mask_timers.values():
            timer.stop()
        self._mask_timers.clear()
        self.revealed.clear()
        if access is not None:
            self.access = access
        if self.is_mounted:
            self.query_one("#history-hints", Static).update(" · ".join(self._hints()))
            self._show_selected()

    def action_restore(self) -> None:
        index = self._selected_index()
        if index is None:
            return
        entry = self.entries[index]
        if entry.op == "delete":
            self.app.notify("That change deleted the key; pick a version with a value.")
            return
        if not self.access.can_edit_config(self.environment_id):
            self.app.notify("You may not change this key.", severity="warning")
            return
        if not self.access.can_edit_config(self.environment_id, entry.key, entry.type):
            self.app.notify(execution_control_refusal(entry.key), severity="warning")
            return
        self._restore(entry)

    @work(group="history-restore", exit_on_error=False)
    async def _restore(self, entry: ConfigHistoryEntry) -> None:
        question = f"Restore version {entry.version} of {self.key} as a new version?"
        if not await self.app.push_screen_wait(
            ConfirmDialog(question, confirm="Restore", danger=False)
        ):
            return
        newest = self.entries[0]
        expected = None if newest.op == "delete" else newest.version
        try:
            await self.session.backend.restore_configuration(entry.id, expected)
        except Conflict:
            self.app.notify(
                "Someone changed this key meanwhile; the list is now current.", severity="warning"
            )
            self.load()
            return
        except DevSyncError as exc:
            self.app.notify(str(exc) or "Could not restore.", severity="error")
            return
        self.restored = True
        self.app.notify(f"Restored version {entry.version} of {self.key}.")
        self.load()

    def action_cancel(self) -> None:
        self.dismiss(self.restored)
