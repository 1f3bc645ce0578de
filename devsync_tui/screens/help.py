"""`?`: the keys that work on the current screen, with what each does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from devsync_tui import ui_commands as cmd


class HelpScreen(ModalScreen[None]):
    """Keys of the screen beneath (the focused widget's first, then its containers')."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.HELP, cmd.QUIT)

    def __init__(self, under: Screen[object]) -> None:
        super().__init__(classes="dialog")
        self._under = under

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(style="dim")
        seen: set[str] = set()
        for key, active in self._under.active_bindings.items():
            binding = active.binding
            if binding.action in seen or not binding.description:
                continue
            seen.add(binding.action)
            shown = self.app.get_key_display(binding)
            table.add_row(shown, binding.description, binding.tooltip or "")
            del key
        with Vertical(classes="dialog-box wide", id="help"):
            yield Label("Keys here", classes="dialog-title")
            with VerticalScroll():
                yield Static(table)
            yield Static(
                Text(
                    "ctrl+p runs any action by name or jumps anywhere · "
                    "keys can be remapped in the settings file ([keymap])",
                    style="dim",
                ),
                classes="dialog-note",
            )

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.dismiss(None)

    def action_quit(self) -> None:
        self.dismiss(None)
