"""Small modal dialogs: confirm a destructive action, and a form of a few fields."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from devsync_tui.backend.errors import DevSyncError
from devsync_tui.dashboard import keys as cmd

log = logging.getLogger("devsync.ui")

#: What a FormDialog hands its ``on_submit`` callback: the values by field name.
FormValues = dict[str, str | bool]
#: Saves the values; returns None on success, or a sentence (or raises DevSyncError) to keep
#: the dialog open with that sentence shown in it.
SubmitCallback = Callable[[FormValues], Awaitable[str | None]]
#: What a dialog says when it is cancelled.
CANCELLED = "Cancelled; nothing was changed."


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True only on the confirm button. Saying no says
    so (``cancelled``, one sentence), so a cancelled action is never silent."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL)

    def __init__(
        self,
        question: str,
        *,
        confirm: str = "Delete",
        danger: bool = True,
        cancelled: str = CANCELLED,
    ) -> None:
        super().__init__(classes="dialog")
        self._question = question
        self._confirm = confirm
        self._danger = danger
        self._cancelled = cancelled

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self._question, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    self._confirm,
                    id="confirm",
                    variant="error" if self._danger else "primary",
                    compact=True,
                )

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.app.notify(self._cancelled)
        self.dismiss(False)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a FormDialog."""

    name: str
    label: str
    kind: Literal["text", "select", "check"] = "text"
    value: str | bool = ""
    options: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (label, value)
    placeholder: str = ""
    password: bool = False
    #: The most characters a text field takes (0: no limit), checked on save: a longer text
    #: (a paste too) stays in the field to be shortened, never cut silently.
    max_length: int = 0


class FormDialog(ModalScreen[FormValues | None]):
    """A titled form; dismisses with the values by field name, or None when cancelled.

    ``required`` names the text fields that must not be empty (checked before closing).
    ``on_submit``, when given, is awaited with the values before the dialog closes (in a worker,
    the buttons disabled meanwhile): a refusal (a returned sentence or a DevSyncError, including
    Unavailable) is shown in the dialog's error line and everything typed stays; only success
    closes it."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.DIALOG_SAVE)

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        *,
        submit: str = "Save",
        required: Sequence[str] = (),
        note: str = "",
        on_submit: SubmitCallback | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self._on_submit = on_submit
        self._saving = False
        self._title = title
        self._fields = list(fields)
        self._submit = submit
        self._required = set(required)
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self._title, classes="dialog-title")
            if self._note:
                yield Static(self._note, classes="dialog-note")
            for f in self._fields:
                if f.kind == "check":
                    yield Checkbox(f.label, bool(f.value), id=f"f-{f.name}", compact=True)
                    continue
                yield Label(f.label, classes="field-label")
                if f.kind == "select":
                    yield Select(
                        list(f.options),
                        value=str(f.value) if f.value else Select.NULL,
                        allow_blank=not f.value,
                        id=f"f-{f.name}",
                    )
                else:
                    yield Input(
                        str(f.value),
                        placeholder=f.placeholder,
                        password=f.password,
                        id=f"f-{f.name}",
                    )
            yield Static("", id="form-error", classes="dialog-error -empty")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(self._submit, id="submit", variant="primary", compact=True)

    def values(self) -> FormValues:
        """What is in the fields now (text stripped), by field name."""
        found: FormValues = {}
        for f in self._fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, Checkbox):
                found[f.name] = widget.value
            elif isinstance(widget, Select):
                found[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                found[f.name] = widget.value.strip()
        return found

    @property
    def saving(self) -> bool:
        """Whether ``on_submit`` is running (the buttons are disabled meanwhile)."""
        return self._saving

    def show_error(self, sentence: str) -> None:
        """Show ``sentence`` in the dialog's error line (empty: hide the line)."""
        error = self.query_one("#form-error", Static)
        error.update(sentence)
        error.set_class(not sentence, "-empty")

    def action_save(self) -> None:
        if self._saving:
            return
        values = self.values()
        missing = [f.label for f in self._fields if f.name in self._required and not values[f.name]]
        if missing:
            self.show_error(f"{missing[0]} is required.")
            return
        too_long = [
            f for f in self._fields if f.max_length and len(str(values[f.name])) > f.max_length
        ]
        if too_long:
            self.show_error(
                f"{too_long[0].label} may have at most {too_long[0].max_length} characters."
            )
            return
        if self._on_submit is None:
            self.dismiss(values)
            return
        self.show_error("")
        self._set_saving(True)
        self._run_submit(self._on_submit, values)

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        for button in self.query(Button):
            button.disabled = saving

    @work(group="form-submit", exit_on_error=False)
    async def _run_submit(self, on_submit: SubmitCallback, values: FormValues) -> None:
        # Focus goes back where it was when the save fails: disabling the focused button
        # moves focus, and Enter on the Cancel button would throw the input away.
        focused = self.focused
        try:
            sentence = await on_submit(values)
        except DevSyncError as exc:
            log.info("form refused: %s", exc)
            sentence = str(exc) or "That did not work."
        except Exception:
            log.exception("form save failed")
            sentence = "That did not work because of an unexpected error (see the log)."
        if not sentence:
            self.dismiss(values)
            return
        self._set_saving(False)
        self.show_error(sentence)
        if focused is not None and focused.is_attached:
            focused.focus()

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_save()

    @on(Input.Submitted)
    def _enter_in_field(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        # While saving the outcome is not known yet: closing now could hide a write that
        # happens anyway. The save ends (success, refusal or Unavailable) on its own.
        if not self._saving:
            self.app.notify(CANCELLED)
            self.dismiss(None)
