"""Reads that wait for their tab: a pane whose tab is not shown does not read.

A project's Dependencies (up to a million rows) and Health (a day of points per machine) were
read right after the first frame and again on every change, whether or not anyone opened
their tab (issue 16). A pane that uses ``ReadWhenShown`` reads when it is on screen; while its
tab is hidden a read only marks it out of date, and showing the tab reads once.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.dom import DOMNode
from textual.widget import Widget


def on_screen(widget: Widget) -> bool:
    """Whether ``widget`` is drawn: it and every container above it are displayed (the pane
    of a tab that is not active is not)."""
    node: DOMNode | None = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return widget.is_attached


def focus_if_lost(pane: Widget, table: Widget) -> None:
    """Give ``table`` (its pane's, just drawn in place of a message) the focus if the pane is
    on screen and nothing has the focus. Showing a tab moves the focus from the tab shown
    before to the new tab's table; a pane that shows "Loading…" in its table's place the first
    time (or is mounted after its tab was shown) had no table to take it then, and the focus
    went with the hidden tab."""
    if on_screen(pane) and pane.screen.focused is None:
        table.focus()


class ReadWhenShown:
    """Runs a pane's full read now if the pane is on screen, else once it is shown."""

    def __init__(self, pane: Widget, read: Callable[[], object]) -> None:
        self._pane = pane
        self._read = read
        #: A read was asked for while hidden.
        self.waiting = False

    def now_or_when_shown(self, read: Callable[[], object] | None = None) -> None:
        """``read`` (default: the full read) now if on screen; else the full read on show."""
        if not on_screen(self._pane):
            self.waiting = True
            return
        self.waiting = False
        (read or self._read)()

    def shown(self) -> None:
        """The pane's ``on_show``: the read that waited, if one did."""
        if self.waiting:
            self.waiting = False
            self._read()
