"""Small modal dialogs: confirm a destructive action, and a form of a few fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from devsync_tui import ui_commands as cmd


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True only on the confirm button."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL)

    def __init__(self, question: str, *, confirm: str = "Delete", danger: bool = True) -> None:
        super().__init__(classes="dialog")
        self._question = question
        self._confirm = confirm
        self._danger = danger

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


class FormDialog(ModalScreen[dict[str, str | bool] | None]):
    """A titled form; dismisses with the values by field name, or None when cancelled.

    ``required`` names the text fields that must not be empty (checked before closing)."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.DIALOG_SAVE)

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        *,
        submit: str = "Save",
        required: Sequence[str] = (),
        note: str = "",
    ) -> None:
        super().__init__(classes="dialog")
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

    def values(self) -> dict[str, str | bool]:
        found: dict[str, str | bool] = {}
        for f in self._fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, Checkbox):
                found[f.name] = widget.value
            elif isinstance(widget, Select):
                found[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                found[f.name] = widget.value.strip()
        return found

    def action_save(self) -> None:
        values = self.values()
        missing = [f.label for f in self._fields if f.name in self._required and not values[f.name]]
        if missing:
            error = self.query_one("#form-error", Static)
            error.update(f"{missing[0]} is required.")
            error.remove_class("-empty")
            return
        self.dismiss(values)

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_save()

    @on(Input.Submitted)
    def _enter_in_field(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
