"""The main screen's tabs, listed once: id, titles, the pane each holds and how it is shown.

Everything about tabs derives from ``TABS``: the TabbedContent's panes and their order (`[`
and `]`), the short titles (below ``NARROW_WIDTH`` columns, or wherever the full ones do not
fit), the palette's "Show …" commands, and which panes are shown the selection and which the
selected project.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from rich.cells import cell_len
from textual.widget import Widget

from devsync_tui.backend.base import Backend, FeedEvent
from devsync_tui.core.models import Environment, Project
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.session import Selection, Session


@dataclass(frozen=True, slots=True)
class Tab:
    """One tab of the main screen and the pane it holds."""

    id: str
    """The TabPane's id."""
    title: str
    short: str
    """The title below ``NARROW_WIDTH`` columns."""
    pane_id: str
    module: str
    """Where the pane's class is: imported by name (``build``), so that the tabs behind the
    first are imported only once the first view is on screen."""
    pane_class: str
    project_view: str = ""
    """A pane that shows the selected project (built with the backend): what it shows, for
    "Select a project to see its …". Empty: a pane shown the session and the selection."""

    def build(self, backend: Backend | None) -> Widget:
        """Import this tab's pane class and make its pane."""
        pane_class = getattr(importlib.import_module(self.module), self.pane_class)
        pane: Widget = (
            pane_class(backend, id=self.pane_id)
            if self.project_view
            else pane_class(id=self.pane_id)
        )
        return pane


_PANES = "devsync_tui.dashboard.panes"

TABS: tuple[Tab, ...] = (
    Tab("configuration", "Configuration", "Config", "config-pane",
        f"{_PANES}.configuration", "ConfigurationPane"),
    Tab("dependencies", "Dependencies", "Deps", "drift-pane",
        f"{_PANES}.drift", "DriftPane", project_view="dependencies"),
    Tab("config-drift", "Config drift", "Drift", "config-drift-pane",
        f"{_PANES}.config_drift", "ConfigDriftPane", project_view="machines' configuration"),
    Tab("health", "Health", "Health", "health-pane",
        f"{_PANES}.health", "HealthPane", project_view="machines' health"),
    Tab("members", "Members", "Members", "members-pane", f"{_PANES}.members", "MembersPane"),
    Tab("templates", "Templates", "Templates", "templates-pane",
        f"{_PANES}.templates", "TemplatesPane"),
    Tab("activity", "Activity", "Activity", "activity-pane",
        f"{_PANES}.activity", "ActivityPane"),
)  # fmt: skip

#: The tab the first frame shows (its pane is built with the screen).
FIRST_TAB = TABS[0]
#: The tab a team opens on (a team alone has no configuration to show).
TEAM_TAB = "members"
#: The tab whose pane names people and places by id (it is given the tree's names).
ACTIVITY_TAB = "activity"
#: Below this many columns the tab titles are short and the footer compact.
NARROW_WIDTH = 100
#: Cells a tab's title takes beside its text (Textual's ``Tab`` has one cell each side).
TAB_PADDING = 2


def titles_fit(width: int) -> bool:
    """Whether the full titles of every tab fit in a tab bar ``width`` cells wide (else the
    short ones are shown, whatever the screen's width)."""
    return sum(cell_len(tab.title) + TAB_PADDING for tab in TABS) <= width


class SelectionView(Protocol):
    """A pane shown the session and the selection (configuration, members, templates,
    activity)."""

    def show(self, session: Session, selection: Selection) -> None: ...

    def apply_live(self, batch: LiveBatch) -> None: ...


class ProjectView(Protocol):
    """A pane shown the selected project's environments (dependencies, health)."""

    def show(
        self,
        project: Project,
        environments: Sequence[Environment],
        focus_env: UUID | None = None,
    ) -> None: ...

    def show_nothing(self, text: str) -> None: ...

    def apply_changes(self, events: Sequence[FeedEvent]) -> None: ...
