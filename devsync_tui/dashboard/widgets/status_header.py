"""The header line: workspace, signed-in user and role, where we are, and the live indicator."""

from __future__ import annotations

import re
from datetime import datetime

from rich.cells import cell_len
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
        # What is shown when the line is short, in this order (UX.md, header): the link's
        # state whole; where I am; why the link is not live (before the brand and the role:
        # "the local database stopped; DevSync is starting it again" is what to read then);
        # who else is here (shortened, then left out).
        width = self.content_size.width or _UNBOUNDED
        mark, _, detail = label.partition(" — ")
        right = Text(mark, style=colour)
        if right.cell_len >= width:
            right.truncate(width, overflow="ellipsis")
            return right
        left = self._where(
            width - right.cell_len - 1, keep=cell_len(f" — {detail}") if detail else 0
        )
        spare = width - right.cell_len - left.cell_len - 1
        if detail and spare >= _DETAIL_MIN + 3:
            why = Text(f" — {detail}", style=colour)
            why.truncate(spare, overflow="ellipsis")
            right.append_text(why)
            spare -= why.cell_len
        here = _presence(presence, spare - 2)
        if here is not None:
            right = Text.assemble(here, "  ", right)
        left.append(" " * max(1, width - left.cell_len - right.cell_len))
        return left + right

    def _where(self, room: int, *, keep: int = 0) -> Text:
        """Workspace, user and role, and the breadcrumb, within ``room`` cells: the parts
        that say who I am shorten first (the brand, then the role), then the breadcrumb is
        cut at its end. The brand and the role give way to ``keep`` cells more (the link's
        reason) as long as the rest then fits whole."""
        crumb = Text(f"  │ {self.title}", style="dim") if self.title else Text()
        for brand, role in ((True, True), (False, True), (False, False)):
            left = self._who(brand=brand, role=role)
            if left.cell_len + crumb.cell_len + keep <= room:
                return left + crumb
        for brand, role in ((True, True), (False, True), (False, False)):
            left = self._who(brand=brand, role=role)
            if left.cell_len + crumb.cell_len <= room:
                return left + crumb
        left = self._who(brand=False, role=False)
        if left.cell_len + min(crumb.cell_len, 12) > room:
            left = Text()
            crumb = Text(self.title, style="dim")
        line = left + crumb
        line.truncate(max(0, room), overflow="ellipsis")
        return line

    def _who(self, *, brand: bool, role: bool) -> Text:
        left = Text.assemble(("DevSync", "bold")) if brand else Text()
        if self.workspace:
            left.append("  " if left else "")
            left.append(f" {self.workspace} ", style="reverse")
        if self.user:
            left.append(f"  {self.user}" if left else self.user, style="bold")
            if self.role and role:
                left.append(f" · {self.role}")
        return left


#: The width assumed before the first layout (nothing is shortened then).
_UNBOUNDED = 1000
#: The fewest cells of the link's detail worth showing ("the local…").
_DETAIL_MIN = 10


def _presence(presence: str, room: int) -> Text | None:
    """Who else is here within ``room`` cells: with where they are, else their names, else
    how many ("+2 here"); None when not even that fits."""
    if not presence:
        return None
    names = [name.strip() for name in re.sub(r" \([^()]*\)", "", presence).split(",")]
    for text in (
        f"also here: {presence}",
        f"also here: {', '.join(names)}",
        f"+{len(names)} here",
    ):
        if cell_len(text) <= room:
            return Text(text, style="cyan")
    return None
