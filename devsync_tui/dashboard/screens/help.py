"""`?`: the keys that work on the current screen, with what each does."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.css.scalar import Scalar
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from devsync_tui.dashboard import keys as cmd


class HelpScreen(ModalScreen[None]):
    """Keys of the screen beneath (the focused widget's first, then its containers')."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.HELP, cmd.QUIT)

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__(classes="dialog")
        self._under = under
        #: (keys, name, binding id for the settings' [keymap], help) as listed.
        self.rows: list[tuple[str, str, str, str]] = []

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(style="dim")
        table.add_column(style="dim")
        self.rows = [
            ("↑ ↓  j k", "Move", "", "Arrows move in tables and the tree; tab moves focus.")
        ]
        seen: set[str] = set()
        tabs = [
            c
            for c in cmd.TAB_KEYS
            if c.id in {a.binding.id for a in self._under.active_bindings.values()}
        ]
        if tabs:
            seen.update(c.action for c in tabs)
            self.rows.append(
                (
                    f"{self.app.get_key_display(tabs[0].binding())}…"
                    f"{self.app.get_key_display(tabs[-1].binding())}",
                    "Tabs",
                    f"{tabs[0].id}…",
                    "Show a tab by its place; [ and ] step through them.",
                )
            )
        for active in self._under.active_bindings.values():
            binding = active.binding
            # Only DevSync's own commands (they all have ids); widgets' cursor keys are above.
            if binding.action in seen or not binding.description or not binding.id:
                continue
            if binding.id in cmd.MOVES:
                continue
            # "screen.…" actions were checked against the active screen, which is this one
            # now: ask the screen beneath, so that what it does not offer is not listed.
            if binding.action.startswith("screen."):
                name = binding.action.removeprefix("screen.")
                if self._under.check_action(name, ()) is False:
                    continue
            seen.add(binding.action)
            shown = self.app.get_key_display(binding)
            self.rows.append((shown, binding.description, binding.id, binding.tooltip or ""))
        for row in self.rows:
            table.add_row(*row)
        with Vertical(classes="dialog-box wide", id="help"):
            yield Label("Keys here", classes="dialog-title")
            with VerticalScroll():
                yield Static(table)
            yield Static(
                Text(
                    f"{cmd.key_name(self.app, cmd.PALETTE)} runs any action by name or jumps "
                    "anywhere · "
                    "remap a key in the settings file's [keymap] table by its id "
                    '(reveal = "v", or "config.reveal" = "v")',
                    style="dim",
                ),
                classes="dialog-note",
            )

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """Let the list of keys be at most as tall as the screen leaves it, so that the box
        fits and the list scrolls instead of being cut off."""
        box = self.query_one("#help")
        keys = box.query_one(VerticalScroll)
        others = sum(w.outer_size.height for w in box.children if w is not keys)
        room = max(3, self.size.height - others - box.styles.gutter.height)
        if keys.styles.max_height != Scalar.from_number(room):
            keys.styles.max_height = room

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.dismiss(None)

    def action_quit(self) -> None:
        self.dismiss(None)
