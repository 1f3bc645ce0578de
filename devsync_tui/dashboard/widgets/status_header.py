"""The header line: workspace, signed-in user and role, where we are, and the live indicator."""

from __future__ import annotations

from datetime import datetime

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from devsync_tui.dashboard.link_marks import link_mark


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
        return link_mark(self.link, self.link_detail, self.cached_at)

    def render(self) -> Text:
        return self._line(*self.link_label(), presence=self.presence)

    def replay_strip(self, label: str, colour: str, presence: str) -> Strip:
        """This line as drawn with ``label`` in ``colour`` on the right (and ``presence``),
        for a recorded frame (``dashboard.frame_record``, which checks it against the line
        Textual drew before it trusts it)."""
        text = self._line(label, colour, presence=presence)
        visual = visualize(self, text, markup=False)
        style = self.visual_style
        inner = Visual.to_strips(self, visual, self.content_size.width, 1, style, pad=True)[0]
        pad = Segment(" ", RichStyle(bgcolor=style.rich_style.bgcolor))
        strip = Strip([pad, *inner, pad])
        background = self.background_colors[1]
        for line_filter in self.get_line_filters():
            strip = strip.apply_filter(line_filter, background)
        return strip

    def _line(self, label: str, colour: str, *, presence: str) -> Text:
        right = Text(label, style=colour)
        if presence:
            # Who else is here gets at most half the line; the rest stays for where I am.
            here = Text(f"also here: {presence}", style="cyan")
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
