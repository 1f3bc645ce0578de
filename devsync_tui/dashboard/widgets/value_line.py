"""A one-line value box that keeps every line of a paste (the configuration editor's)."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input


class ValueLine(Input):
    """The one-line value box of an env var. Input keeps only the first line of a paste;
    this one hands a multi-line paste to the editor (``MultilinePaste``) so none is lost."""

    class MultilinePaste(Message):
        def __init__(self, text: str, value: str) -> None:
            super().__init__()
            #: The value with the paste put where the cursor (or selection) was.
            self.value = value
            self.text = text

    def _on_paste(self, event: events.Paste) -> None:
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text.rstrip("\n"):
            return  # one line: Input's own handler (called after this one) inserts it
        event.stop()
        event.prevent_default()
        start, end = sorted(self.selection)
        self.post_message(self.MultilinePaste(text, self.value[:start] + text + self.value[end:]))
