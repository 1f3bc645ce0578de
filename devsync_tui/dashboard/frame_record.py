"""Recording the screen with the view kept as the last view (``core.view_cache.ScreenFrame``),
for the next start to draw at once (``dashboard.frame_replay``).

Recorded only when it shows what the cached view shows and nothing more: the main screen on
top (no dialog, no notice), its Configuration tab, no secret revealed in it, and nowhere on
screen any secret revealed in this process so far, whole or a long run of it (such a screen
is not recorded at all, rather than with masks the real one lacks). The header
line is drawn again with the cached view's mark in place of the live one — and only after
that same drawing, with the live mark, gave exactly the line Textual drew (else nothing is
recorded: a later Textual drawing it otherwise must not make a start show a wrong header).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from rich.control import Control
from textual._compositor import LayoutUpdate
from textual.css.query import NoMatches
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import TabbedContent

from devsync_tui.core import clock
from devsync_tui.core.view_cache import FRAME_TOKEN, ScreenFrame
from devsync_tui.dashboard.frame_replay import mark, mark_width, terminal_signature
from devsync_tui.dashboard.panes.configuration import ConfigurationPane
from devsync_tui.dashboard.panes.tabs import FIRST_TAB
from devsync_tui.logging_setup import known_secrets

if TYPE_CHECKING:
    from textual.app import App

    from devsync_tui.dashboard.screens.main import MainScreen

log = logging.getLogger("devsync.view_cache")

#: A run of a revealed secret this long on screen (or the whole of a shorter one) stops the
#: recording. Shorter runs are words a secret shares with the screen (a project's name in a
#: database URL), not the secret.
SHARED_RUN = 16


def record(app: App[Any], *, read_only: bool) -> ScreenFrame | None:
    """The screen as drawn now, if it may be kept (see the module); None otherwise."""
    from devsync_tui.dashboard.screens.main import MainScreen

    screen = app.screen
    if not isinstance(screen, MainScreen):
        return None
    if app._notifications or not _only_the_cached_view(screen):
        return None
    width, height = app.size
    update = screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=False
    )
    if not isinstance(update, LayoutUpdate) or update.region != Region(0, 0, width, height):
        return None
    header = screen.header
    if header.region != Region(0, 0, width, 1):
        return None
    console = app.console
    drawn = [Strip.join(line) for line in update.strips]
    # The header drawn again, as Textual drew it: else it is not trusted with another mark.
    again = header.replay_strip(*header.link_label(), header.presence)
    if again.render(console) != drawn[0].render(console):
        log.debug("the header could not be drawn as Textual draws it: no frame recorded")
        return None
    if _shows_a_secret(drawn):
        log.debug("a piece of a secret revealed in this session is on screen: no frame")
        return None
    body = "".join(_at(y) + strip.render(console) for y, strip in enumerate(drawn) if y > 0)
    line = header.replay_strip(FRAME_TOKEN * mark_width(), mark(clock.now())[1], "")
    return ScreenFrame(
        width=width,
        height=height,
        terminal=terminal_signature(dict(os.environ)),
        theme=app.theme,
        read_only=read_only,
        body=body,
        header=_at(0) + line.render(console),
    )


def _only_the_cached_view(screen: MainScreen) -> bool:
    """The Configuration tab is shown and nothing is revealed in it."""
    try:  # the first match of each ends the walk (a query would visit every widget, twice)
        tabs = screen.query_one(TabbedContent)
        pane = screen.query_one(ConfigurationPane)
    except NoMatches:
        return False
    return tabs.active == FIRST_TAB.id and not pane.revealed


def _shows_a_secret(lines: list[Strip]) -> bool:
    """Whether any line holds a secret revealed in this process, whole or a run of
    ``SHARED_RUN`` of it (a cell cuts a long value short): such a screen is not recorded."""
    secrets = known_secrets()
    for text in (line.text for line in lines) if secrets else ():
        for secret in secrets:
            need = min(SHARED_RUN, len(secret))
            pieces = (text[at : at + need] for at in range(len(text) - need + 1))
            if any(not piece.isspace() and piece in secret for piece in pieces):
                return True
    return False


def _at(y: int) -> str:
    return Control.move_to(0, y).segment.text
