"""Editing one configuration value: a line for env vars, a TextArea (highlighted by the key's
extension) for files. Every keystroke is kept as a draft until the save succeeds; a save over a
newer version opens the conflict dialog (the save and what follows it: ``config_save``)."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from devsync_tui.core import clock
from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard import drafts
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.screens.config_save import EditorSaving, EditTarget
from devsync_tui.dashboard.session import Session
from devsync_tui.dashboard.widgets.value_line import ValueLine

log = logging.getLogger("devsync.ui")

#: File extensions → TextArea languages (tree-sitter grammars shipped with textual[syntax]).
LANGUAGES = {
    ".py": "python", ".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml",
    ".md": "markdown", ".sql": "sql", ".sh": "bash", ".bash": "bash", ".css": "css",
    ".html": "html", ".htm": "html", ".js": "javascript", ".mjs": "javascript",
    ".ts": "javascript", ".xml": "xml", ".rs": "rust", ".go": "go", ".java": "java",
}  # fmt: skip


def language_for(key: str) -> str | None:
    """The TextArea language for a file key, by its extension (None: plain text)."""
    name = PurePosixPath(key).name
    if name in (".env", ".envrc") or name.endswith(".env"):
        return "bash"
    return LANGUAGES.get(PurePosixPath(key).suffix.lower())


class ConfigEditor(EditorSaving, ModalScreen[bool]):
    """Dismisses with True when a value was saved (or theirs kept), False when cancelled."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.DIALOG_SAVE, cmd.DRAFT_DISCARD)

    def __init__(self, session: Session, target: EditTarget, *, note: str = "") -> None:
        super().__init__(classes="dialog")
        self.session = session
        self.target = target
        self.expected = target.expected_version
        self._note = note
        self._draft_timer: Timer | None = None
        #: An env var value with line breaks is edited in the TextArea (see ValueLine).
        self._multiline = False
        #: A draft was restored and not yet discarded or saved: ctrl+d discards it.
        self.draft_restored = False
        self.store = drafts.DraftStore(owner=session.identity.user_id)

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        t = self.target
        title = f"New key · {t.where}" if t.is_new else f"{t.key} · {t.where}"
        with Vertical(classes="dialog-box wide", id="editor"):
            yield Label(title, classes="dialog-title")
            if t.is_new:
                with Horizontal(id="editor-new"):
                    yield Input(placeholder="KEY or path/to/file.toml", id="editor-key")
                    yield Select(
                        [("env var", ConfigType.ENV_VAR.value), ("file", ConfigType.FILE.value)],
                        value=t.type.value,
                        allow_blank=False,
                        id="editor-type",
                    )
            yield Checkbox(
                "Secret (masked, revealed only to those allowed)",
                t.is_secret,
                id="editor-secret",
                compact=True,
            )
            yield Static(self._note, id="editor-note", classes="dialog-note -empty")
            yield ValueLine(id="editor-line", placeholder="value")
            yield TextArea(id="editor-area", show_line_numbers=True, soft_wrap=False)
            yield Static("", id="editor-error", classes="dialog-error -empty")
            with Horizontal(classes="dialog-buttons"):
                discard, save = self._shortcut(cmd.DRAFT_DISCARD), self._shortcut(cmd.DIALOG_SAVE)
                yield Button(f"Discard draft  {discard}", id="discard", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(f"Save  {save}", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        t = self.target
        self._set_note(self._note)
        value = t.value or ""
        draft = self.store.load(t.project_id, t.environment_id, t.key or drafts.NEW_KEY)
        if draft is not None and draft.value != value:
            value = draft.value
            self.expected = draft.base_version
            if t.is_new:
                self.query_one("#editor-key", Input).value = draft.key
                self.query_one("#editor-type", Select).value = draft.type
            self.query_one("#editor-secret", Checkbox).value = draft.is_secret
            self.draft_restored = True
            if draft.base_version is not None:
                based = f"based on version {draft.base_version}"
            else:
                based = "a new key" if t.is_new else "not saved here yet"
            self._set_note(
                f"Restored your unsaved draft from {clock.ago(draft.saved)} ({based}). "
                f"{self._shortcut(cmd.DRAFT_DISCARD)} discards it."
            )
        self._show_discard()
        self._multiline = "\n" in value
        self._apply_type(self._type())
        self.set_value(value)
        self._mask_line()
        if t.is_new:
            self.query_one("#editor-key", Input).focus()
        else:
            self._value_widget().focus()

    def _shortcut(self, command: cmd.UICommand) -> str:
        return cmd.key_name(self.app, command)

    def _set_note(self, text: str) -> None:
        self._note = text
        note = self.query_one("#editor-note", Static)
        note.update(text)
        note.set_class(not text, "-empty")

    def _type(self) -> ConfigType:
        if self.target.is_new:
            return ConfigType(str(self.query_one("#editor-type", Select).value))
        return self.target.type

    def _apply_type(self, kind: ConfigType) -> None:
        is_file = kind is ConfigType.FILE
        in_area = is_file or self._multiline
        self.query_one("#editor-line", Input).display = not in_area
        area = self.query_one("#editor-area", TextArea)
        area.display = in_area
        area.language = language_for(self._key()) if is_file else None

    def _key(self) -> str:
        if self.target.is_new:
            return self.query_one("#editor-key", Input).value.strip()
        return self.target.key

    def _value_widget(self) -> Input | TextArea:
        if self._type() is ConfigType.FILE or self._multiline:
            return self.query_one("#editor-area", TextArea)
        return self.query_one("#editor-line", Input)

    def value(self) -> str:
        widget = self._value_widget()
        return widget.text if isinstance(widget, TextArea) else widget.value

    def _is_secret(self) -> bool:
        return self.query_one("#editor-secret", Checkbox).value

    def set_value(self, value: str) -> None:
        self.query_one("#editor-line", Input).value = value
        self.query_one("#editor-area", TextArea).load_text(value)

    @on(ValueLine.MultilinePaste)
    def _multiline_pasted(self, event: ValueLine.MultilinePaste) -> None:
        """Keep every line: an env var may hold line breaks (a PEM key, say), and .env
        export quotes them, so the value moves to the multi-line box instead of being cut."""
        lines = event.text.count("\n") + 1
        self._multiline = True
        self._apply_type(self._type())
        area = self.query_one("#editor-area", TextArea)
        area.load_text(event.value)
        area.move_cursor(area.document.end)
        area.focus()
        self._set_note(
            f"The pasted text has {lines} lines: all of it is kept, and this env var's value "
            f"is edited as multi-line text now ({self._shortcut(cmd.DIALOG_SAVE)} saves)."
        )
        self._changed()

    # -- discarding a restored draft -------------------------------------------------------
    def _show_discard(self) -> None:
        self.query_one("#discard", Button).display = self.draft_restored
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "discard_draft":
            return self.draft_restored
        return True

    @on(Button.Pressed, "#discard")
    def action_discard_draft(self) -> None:
        """Show the stored value again and delete the draft file."""
        if not self.draft_restored:
            return
        t = self.target
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        self.draft_restored = False
        self._drop_draft()
        self.expected = t.expected_version
        if t.is_new:
            self.query_one("#editor-key", Input).value = ""
            self.query_one("#editor-type", Select).value = t.type.value
        self.query_one("#editor-secret", Checkbox).value = t.is_secret
        value = t.value or ""
        self._multiline = "\n" in value
        self._apply_type(self._type())
        self.set_value(value)
        self._show_discard()
        if t.is_new:
            note = "Draft discarded: the new key starts empty again."
        elif t.value is not None:
            note = "Draft discarded: this is the stored value."
        else:
            note = "Draft discarded. You may replace this secret but not see it."
        self._set_note(note)
        self._value_widget().focus()

    # -- drafts --------------------------------------------------------------------------
    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(0.3, self.keep_draft)

    @on(Checkbox.Changed, "#editor-secret")
    def _mask_line(self) -> None:
        """A secret's one-line value shows as dots, as in a password box: opening the editor
        on a secret does not put it on screen for whoever looks on (the table's reveal key
        shows it on purpose). A file or multi-line value is edited in the text area, as is."""
        self.query_one("#editor-line", Input).password = self._is_secret()

    @on(Select.Changed, "#editor-type")
    def _type_changed(self) -> None:
        """Carry what is typed over to the other box (the one-line input or the text area,
        either way: nothing typed is lost) and drop an error about the type it was."""
        line = self.query_one("#editor-line", Input)
        area = self.query_one("#editor-area", TextArea)
        typed = area.text if area.display else line.value
        kind = self._type()
        # Back to an env var, text with line breaks stays in the multi-line box.
        self._multiline = kind is ConfigType.ENV_VAR and "\n" in typed
        self._apply_type(kind)
        if area.display:
            if area.text != typed:
                area.load_text(typed)
        elif line.value != typed:
            line.value = typed
        self._error("")
        self._changed()

    @on(Input.Changed, "#editor-key")
    def _key_changed(self) -> None:
        self._error("")  # an error about the key typed before no longer applies

    def is_changed(self) -> bool:
        """True when what is on screen differs from the stored value."""
        t = self.target
        secret = self._is_secret()
        return (
            self.value() != (t.value or "")
            or secret != t.is_secret
            or bool(t.is_new and self._key())
        )

    def keep_draft(self) -> None:
        """Write what is typed now to the draft store (encrypted when it is a secret)."""
        t = self.target
        if not self.is_changed():
            self._drop_draft()
            return
        self.store.save(
            t.project_id,
            t.environment_id,
            t.key or drafts.NEW_KEY,
            self.value(),
            type=self._type().value,
            is_secret=self._is_secret(),
            base_version=self.expected,
            name=self._key(),
        )

    def _drop_draft(self) -> None:
        t = self.target
        self.store.delete(t.project_id, t.environment_id, t.key or drafts.NEW_KEY)

    # -- save ----------------------------------------------------------------------------
    def action_save(self) -> None:
        if not self._key():
            self._error("The key is required.")
            return
        self.keep_draft()
        self.save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Input.Submitted, "#editor-line")
    def _line_submitted(self) -> None:
        self.action_save()

    def _error(self, text: str) -> None:
        error = self.query_one("#editor-error", Static)
        error.update(text)
        error.set_class(not text, "-empty")

    # -- cancel --------------------------------------------------------------------------
    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.is_changed():
            self.keep_draft()
            if self.target.is_new:
                # A new key's draft is kept for this project or environment, whatever its
                # name: the next new key here starts from it (``drafts.NEW_KEY``).
                name = f" ({self._key()})" if self._key() else ""
                again = f"press {cmd.key_name(self.app, cmd.CFG_NEW)} here again to continue"
                text = f"Not saved. Your draft of the new key{name} is kept: {again}."
            else:
                text = "Not saved. Your draft is kept: open the key again to continue."
            self.app.notify(text, timeout=5)
        self.dismiss(False)
