"""The conflict dialog: someone saved first. Theirs, yours, the difference; the user decides."""

from __future__ import annotations

import difflib
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from devsync_tui.core.printable import visible
from devsync_tui.dashboard import keys as cmd

ConflictChoice = Literal["overwrite", "theirs", "merge"]


def diff_text(theirs: str, yours: str, *, before: str = "theirs", after: str = "yours") -> Text:
    """A unified diff from theirs to yours, coloured, readable without colour (+/-)."""
    lines = difflib.unified_diff(
        visible(theirs).splitlines(), visible(yours).splitlines(), before, after, lineterm="", n=2
    )
    out = Text()
    for line in lines:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        out.append(line + "\n", style=style)
    return out if out.plain else Text("(no difference)", style="dim")


def merge_text(theirs: str, yours: str) -> str:
    """Both versions with conflict markers, for editing a merge of multi-line values."""
    if "\n" not in theirs and "\n" not in yours:
        return yours
    return f"<<<<<<< yours\n{yours}\n=======\n{theirs}\n>>>>>>> theirs\n"


class ConflictDialog(ModalScreen[ConflictChoice | None]):
    """Shown when a save named a version that has moved on. None = back to the editor."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL)

    def __init__(
        self,
        key: str,
        *,
        theirs: str | None,
        yours: str,
        their_version: int | None,
        their_author: str | None = None,
        theirs_hidden: bool = False,
    ) -> None:
        """``theirs`` is None when they deleted the key (``their_version`` None), when it is
        a secret this user may not reveal (``theirs_hidden``), or when it could not be read.
        ``their_author``: who saved (or deleted) it, when known."""
        super().__init__(classes="dialog")
        self._theirs_hidden = theirs_hidden
        self._key = key
        self._theirs = theirs
        self._yours = yours
        self._their_version = their_version
        self._their_author = their_author

    def compose(self) -> ComposeResult:
        who = f" by {self._their_author}" if self._their_author else ""
        if self._their_version is None:
            by = who or " by someone else"
            headline = f"{self._key} was deleted{by} while you were editing."
        else:
            headline = (
                f"{self._key} was saved{who} as version {self._their_version} while you were "
                "editing."
            )
        with Vertical(classes="dialog-box wide", id="conflict"):
            yield Label("Someone saved first", classes="dialog-title")
            yield Static(headline, classes="dialog-text")
            with Horizontal(id="conflict-sides"):
                with Vertical(classes="side"):
                    yield Label("Theirs", classes="field-label")
                    yield Static(self._shown(self._theirs), id="conflict-theirs")
                with Vertical(classes="side"):
                    yield Label("Yours", classes="field-label")
                    yield Static(Text(visible(self._yours)), id="conflict-yours")
            yield Label("Difference", classes="field-label")
            with VerticalScroll(id="conflict-diff"):
                if self._theirs is None:
                    yield Static(Text(self._missing_reason(), style="dim"))
                else:
                    yield Static(diff_text(self._theirs, self._yours))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Overwrite with mine", id="overwrite", variant="warning", compact=True)
                yield Button("Keep theirs", id="theirs", compact=True)
                yield Button("Edit a merge", id="merge", variant="primary", compact=True)

    def _missing_reason(self) -> str:
        """Why there is no difference to show, for the case at hand."""
        if self._their_version is None:
            return "They deleted it: overwriting with yours creates it again."
        if self._theirs_hidden:
            return "Their value is a secret you may not see."
        return "Their value could not be read; look at the key again before overwriting."

    def _shown(self, value: str | None) -> Text:
        if self._their_version is None:
            return Text("(deleted)", style="dim")
        if value is None:
            return Text("•••••••• 🔒" if self._theirs_hidden else "(unknown)", style="dim")
        return Text(visible(value))

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        if event.button.id in ("overwrite", "theirs", "merge"):
            self.dismiss(event.button.id)  # type: ignore[arg-type]

    def action_cancel(self) -> None:
        self.dismiss(None)
