"""The header line: workspace, signed-in user and role, where we are, and the live indicator."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from devsync_tui.core import clock

_LINK = {
    "live": ("● live", "green"),
    "reconnecting": ("○ reconnecting", "yellow"),
    "offline": ("○ offline", "red"),
    "connecting": ("○ connecting", "grey50"),
}


class StatusHeader(Widget):
    """One line at the top. Its fields are reactives that the main screen sets; any change
    repaints it."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        dock: top;
        background: $panel;
        padding: 0 1;
    }
    """

    workspace: reactive[str] = reactive("")
    user: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    title: reactive[str] = reactive("")
    link: reactive[str] = reactive("connecting")
    #: Why the link is not live and what to do ("the local database is stopped: `devsync
    #: local start`"); shown instead of the bare state while not live.
    link_detail: reactive[str] = reactive("")
    #: Who else is looking at the same project ("bob, erin"), where the transport tells.
    presence: reactive[str] = reactive("")
    #: When the cached view on screen was seen (None: the view is live data).
    cached_at: reactive[datetime | None] = reactive(None)

    def link_label(self) -> tuple[str, str]:
        """The right-hand mark and its colour: the link's state, or, while the cached last
        view is shown, that it is cached and how old it is."""
        label, colour = _LINK.get(self.link, (self.link, "grey50"))
        if self.cached_at is not None:
            ago = clock.ago(self.cached_at)
            if self.link == "offline":
                detail = f" ({self.link_detail})" if self.link_detail == "--offline" else ""
                return f"○ offline — cached view from {ago}{detail}", "red"
            old = ago.replace(" ago", " old")
            return f"◌ cached · {old} · {label.lstrip('●○ ')}", "yellow"
        if self.link in ("reconnecting", "offline") and self.link_detail:
            label = f"{label} — {self.link_detail}"
        return label, colour

    def render(self) -> Text:
        label, colour = self.link_label()
        right = Text(label, style=colour)
        if self.presence:
            # Who else is here gets at most half the line; the rest stays for where I am.
            here = Text(f"also here: {self.presence}", style="cyan")
            room = max(12, self.content_size.width // 2 - right.cell_len - 2)
            here.truncate(room, overflow="ellipsis")
            right = Text.assemble(here, "  ", right)
        left = Text.assemble(("DevSync", "bold"))
        if self.workspace:
            left.append("  ")
            left.append(f" {self.workspace} ", style="reverse")
        if self.user:
            left.append(f"  {self.user}", style="bold")
            if self.role:
                left.append(f" · {self.role}")
        if self.title:
            left.append(f"  │ {self.title}", style="dim")
        room = max(0, self.content_size.width - right.cell_len - 1)
        left.truncate(room, overflow="ellipsis")
        left.append(" " * max(1, room - left.cell_len + 1))
        return left + right
