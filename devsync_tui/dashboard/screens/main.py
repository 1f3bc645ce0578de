"""The dashboard: header, the navigation tree, and the selected item's views in tabs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, cast
from uuid import UUID

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane, Tabs, Tree

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.backend.readonly import read_only
from devsync_tui.core.models import Environment, Identity, Role
from devsync_tui.core.targets import ambiguity, first_project, resolve_target
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.app_chrome import AppChrome
from devsync_tui.dashboard.messages import (
    ConfigDriftSeen,
    LiveBatch,
    Reconnect,
)
from devsync_tui.dashboard.palette import JumpTarget, PaletteAction, widget_actions
from devsync_tui.dashboard.panes.config_load import ConfigLoaded
from devsync_tui.dashboard.panes.configuration import ConfigurationPane
from devsync_tui.dashboard.panes.tabs import (
    ACTIVITY_TAB,
    FIRST_TAB,
    NARROW_WIDTH,
    TABS,
    TEAM_TAB,
    ProjectView,
    SelectionView,
    Tab,
    titles_fit,
)
from devsync_tui.dashboard.screens.presence import PresenceActions
from devsync_tui.dashboard.screens.tree_actions import TreeActions
from devsync_tui.dashboard.screens.tree_drift import TreeDriftMarks
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.dashboard.widgets.footer import Footer
from devsync_tui.dashboard.widgets.nav_tree import NavItem, NavPanel, NavTree
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from devsync_tui.dashboard.workspace import WorkspaceData, read_workspace
from devsync_tui.settings import Settings

if TYPE_CHECKING:
    from devsync_tui.dashboard.panes.activity import ActivityPane

log = logging.getLogger("devsync.ui")

#: Tables whose changes alter the tree (names, environment status, membership).
_TREE_TABLES = ("teams", "team_members", "projects", "environments", "profiles")

#: The panes behind the first tab are imported and mounted once the first view is on screen,
#: at the latest this long after the workspace loaded (should the first view never arrive:
#: an error reading it). They load in the background from then on, so switching to one shows
#: its data at once.
_LATER_PANES_DEADLINE = 0.5


@dataclass(frozen=True, slots=True)
class CachedOpening:
    """The cached last view: its stand-in backend, who I am, my roles, when it was seen
    (None: not cached, an opening read ahead before connecting)."""

    backend: Backend
    identity: Identity
    roles: dict[UUID, Role]
    saved_at: datetime | None


@dataclass(frozen=True, slots=True)
class StartTarget:
    """Where to open: ``--team``, ``--project``, ``--env`` (names, slugs or ids)."""

    team: str | None = None
    project: str | None = None
    env: str | None = None
    #: Where the last view was (the cached view's ids), not what the user typed: if it is no
    #: longer visible, that is said in words, never as an id.
    remembered: bool = False


class WorkspaceLoaded(Message):
    """The tree's data was read."""

    def __init__(self, data: WorkspaceData) -> None:
        super().__init__()
        self.data = data


#: Below this many columns the footer is compact (its labels fit at 80 and 100 columns).
COMPACT_FOOTER_WIDTH = 120


class MainScreen(PresenceActions, TreeActions, TreeDriftMarks, Screen[None]):
    """The one main screen. ``selection`` is bound down to the panes by ``_show_selection``."""

    BINDINGS = cmd.bindings(
        cmd.TOGGLE_TREE, cmd.REFRESH, cmd.NEXT_TAB, cmd.PREV_TAB, cmd.FOCUS_TREE, *cmd.TAB_KEYS
    )
    #: What takes the focus when nothing has it (the screen's first activation, or the focused
    #: widget gone): the tree, else the first focusable widget of the views, in DOM order.
    #: Textual's default ("*") gave it to the tree's filter input first, then the table
    #: (``_tab_shown``), then the tree (the workspace load): three footers in a row at start.
    AUTO_FOCUS = "#nav, #views *"

    selection: var[Selection | None] = var(None, init=False)
    session: var[Session | None] = var(None, init=False)

    def __init__(
        self,
        settings: Settings,
        target: StartTarget | None = None,
        cached: CachedOpening | None = None,
        offline: bool = False,
        on_first_view: Callable[[], None] | None = None,
    ) -> None:
        """``on_first_view``: called once the first view is drawn (the cached one, or the
        first live one): the app connects for real and collects garbage again."""
        super().__init__()
        self._settings = settings
        self._on_first_view = on_first_view
        self._target = target or StartTarget()
        self._cached = cached
        #: ``--offline``: the cached view only, never connected.
        self._offline = offline
        #: The live session replaced the cached one: show the selection again, read live.
        self._reshow = False
        self._target_done = False
        self._data: WorkspaceData | None = None
        #: The panes mounted so far (the first tab's, then the later ones), by tab.
        self._panes: dict[Tab, Widget] = {}
        self._later_started = False
        #: The cached view is on screen and connecting: the other tabs are mounted once the
        #: live view is (or connecting failed), leaving the machine to connecting first.
        self._later_waiting = False
        #: Connecting failed (the status line says why); ctrl+r tries again.
        self._failed = False
        #: Every project's configuration keys, for the palette (read when it opens).
        self._jump_keys: dict[UUID, tuple[tuple[UUID | None, str], ...]] = {}
        #: Resumed once (pushed): later resumes follow a dialog.
        self._resumed = False

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="body"):
            yield NavPanel(id="nav-panel")
            with Vertical(id="views"):
                yield Static("Starting…", id="status-line")
                with TabbedContent(id="tabs", initial=FIRST_TAB.id):
                    with TabPane(FIRST_TAB.title, id=FIRST_TAB.id):
                        first = FIRST_TAB.build(None)
                        self._panes[FIRST_TAB] = first
                        yield first
                    for tab in TABS[1:]:
                        yield TabPane(tab.title, id=tab.id)  # its pane comes after the first view
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        """At 80 columns everything still fits: short tab titles, a compact footer without
        the palette hint (`?` lists every key, ctrl+p included)."""
        narrow = event.size.width < NARROW_WIDTH
        footer = self.query_one(Footer)
        # A table's keys (ten for an admin's configuration) fit only compact below 120.
        footer.compact = event.size.width < COMPACT_FOOTER_WIDTH
        footer.show_command_palette = not narrow
        self._label_tabs(short=narrow)
        # The tab bar's width is known once the new size is laid out (the tree beside it
        # widens at 100 and 140 columns): from 100 columns on, the full titles may not fit.
        self.call_after_refresh(self._fit_tab_titles)

    def _label_tabs(self, *, short: bool) -> None:
        tabs = self.query_one(TabbedContent)
        for tab in TABS:
            label = tab.short if short else tab.title
            shown = tabs.get_tab(tab.id)
            if str(shown.label) != label:
                shown.label = label

    def _fit_tab_titles(self) -> None:
        width = self.query_one(TabbedContent).size.width
        if width:
            self._label_tabs(short=self.size.width < NARROW_WIDTH or not titles_fit(width))

    def _no_team_text(self) -> str:
        """What to do with no team: the tree's key that creates one (a read-only dashboard
        creates nothing)."""
        if self.session is not None and self.session.read_only:
            return "You are in no team yet: ask an admin to add you (this dashboard is read-only)."
        key = cmd.key_name(self.app, cmd.TREE_NEW_TEAM)
        return (
            f"You are in no team yet: press {key} in the tree (on the left) to create one, or "
            "ask an admin to add you."
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Mark the panel that holds the focus (the tree marks itself with ``:focus``).

        From where the focus is now, not from the event's widget: these events bubble up
        through different widgets' queues, and one from an earlier focus (a pane's table,
        while the tabs are still being mounted) can arrive after a later one."""
        focused = self.focused or event.widget
        for panel in self.query("#views, #nav-panel"):
            panel.set_class(panel in focused.ancestors, "-focused")

    def on_screen_suspend(self) -> None:
        # A dialog is on top: this footer's keys do not reach through it (the dialog says
        # its own), so do not show them beneath it.
        self.query_one(Footer).display = False
        self.presence_suspended()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual's own handler (``Screen._on_screen_resume``, called after this one with
        # the same event) restyles every node of a resumed screen. On the first resume, just
        # after this screen was pushed, its nodes were styled as they were mounted: doing it
        # again before the first frame was 66 of its 157 style applications. (A private
        # name: Textual calls one handler per class, ``_on_…`` before ``on_…``.)
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
            return
        self.query_one(Footer).display = True
        self.presence_resumed()

    @property
    def loaded(self) -> bool:
        """True once the workspace (teams, projects, environments) has been read."""
        return self._data is not None

    @property
    def workspace(self) -> WorkspaceData | None:
        """The tree as last read (teams, projects, environments, roles), None before."""
        return self._data

    @property
    def devsync_app(self) -> AppChrome:
        """The app, as DevSync's (the one app this screen is made by)."""
        return cast(AppChrome, self.app)

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    @property
    def nav_tree(self) -> NavTree:
        return self.query_one(NavTree)

    # -- connection ----------------------------------------------------------------------
    def show_progress(self, text: str) -> None:
        self.query_one("#status-line", Static).update(text)

    def show_failure(self, text: str, *, retry: bool = True) -> None:
        """Say why connecting failed; offer ctrl+r only where trying again can help."""
        self._failed = retry
        self.header.link = "offline"
        status = self.query_one("#status-line", Static)
        retry_key, quit_key = cmd.key_name(self.app, cmd.REFRESH), cmd.key_name(self.app, cmd.QUIT)
        then = f"{retry_key} tries again." if retry else f"{quit_key} quits."
        status.update(Text.assemble((text, "bold red"), f"  {then}"))
        status.display = True
        session = self.session
        if session is not None and session.connecting:
            # The cached view is read-only from now on: the header, the panes' offers and
            # locks say so (a write already waiting gets the reason connecting failed).
            self.session = replace(session, connecting=False)
            if self.selection is not None:
                self.watch_selection(self.selection)
        # The cached view stays, usable: with all its tabs.
        self.call_after_refresh(self._start_waiting_panes)

    def connected(
        self, backend: Backend, identity: Identity, roles: dict[UUID, Role], *, live: bool = True
    ) -> None:
        if self._settings.read_only:  # refused below the UI too, whatever it offers
            backend = read_only(backend)
        replacing = self.session is not None and self.session.cached
        # Not live: the cached view (or the opening read ahead) while connecting, which offers
        # what the user may do once connected, or read-only with --offline or once it failed.
        connecting = not live and not self._offline and not getattr(backend, "failed", False)
        self.session = Session(
            backend,
            identity,
            dict(roles),
            settings=self._settings,
            cached=not live,
            connecting=connecting,
        )
        self.header.workspace = backend.label
        self.header.user = identity.username
        # The cached view's stand-in is not live: the header says how old it is.
        if live:
            self.header.cached_at = None
            self.header.link = "live"
            self.header.link_detail = ""
            self._reshow = replacing
            self._failed = False
        else:
            assert self._cached is not None
            self.header.cached_at = self._cached.saved_at
            self.header.link = "offline" if self._offline else "connecting"
        answer_now = getattr(backend, "answer_now", None)
        data = answer_now(read_workspace) if answer_now is not None else None
        if data is not None:  # the opening read or the cached view: at once
            self.on_workspace_loaded(WorkspaceLoaded(data))
            return
        self.show_progress("Loading…")
        self.load_workspace()

    def fresh_opening(self, identity: Identity, roles: dict[UUID, Role]) -> None:
        """The cached view's stand-in now answers a live opening read ahead: show it in place
        of the cached view (its mark goes; the header says "connecting" until connected)."""
        if self._cached is None or self.session is None or not self.session.cached:
            return
        self._cached = CachedOpening(self._cached.backend, identity, roles, None)
        self._reshow = True
        self.connected(self._cached.backend, identity, roles, live=False)

    def on_mount(self) -> None:
        # The tab strip takes no focus: j/k/enter do nothing there (the number keys, `[`
        # and `]` switch tabs from anywhere), so tab moves between the tree and the table.
        self.query_one(TabbedContent).query_one(Tabs).can_focus = False
        if self._cached is not None:
            cached = self._cached
            self.connected(cached.backend, cached.identity, cached.roles, live=False)
            # Its first frame has the cached rows: connecting for real starts once it is drawn.
            self.devsync_app.call_after_frame(self._start_later_panes)
            if self._offline:
                self.header.link_detail = "--offline"
            # The age moves on by itself.
            self.set_interval(30, self.header.refresh)

    @work(exclusive=True, group="workspace", exit_on_error=False)
    async def load_workspace(self) -> None:
        """Read teams, projects, environments and member names for the tree."""
        session = self.session
        if session is None:
            return
        self.post_message(WorkspaceLoaded(await read_workspace(session.backend)))

    def on_workspace_loaded(self, message: WorkspaceLoaded) -> None:
        data = message.data
        self._data = data
        roles_changed = self.session is not None and self.session.roles != data.roles
        if self.session is not None and roles_changed:
            self.session = replace(self.session, roles=data.roles)
        self.nav_tree.populate(data.teams, data.projects, data.environments, data.usernames)
        self._select_created(data)
        status = self.query_one("#status-line", Static)
        # With no team there is nothing for the tabs to show (and nothing of a team left).
        self.query_one(TabbedContent).display = bool(data.teams)
        if data.teams:
            status.update("")
            status.display = False
        else:
            status.update(self._no_team_text())
            status.display = True
            # The key the text names is the tree's (not in the footer): the tree has the focus.
            if self.session is not None and not self.session.read_only:
                self.nav_tree.focus()
            self.header.role = ""
            self.header.title = ""
        if not self._target_done:
            self._target_done = True
            self._open_target()
        before = self.selection
        self._refresh_selection()
        reshow, self._reshow = self._reshow, False
        if (roles_changed or reshow) and self.selection is not None and self.selection == before:
            # Same place, new role: the header, the panes' offers and locks follow it.
            self.watch_selection(self.selection)
        # The tree lays its lines out on the next refresh: follow its cursor from there too.
        self.call_after_refresh(self._refresh_selection)
        if self._later_waiting and self.session is not None and not self.session.cached:
            self.call_after_refresh(self._start_waiting_panes)
        if not self._later_started:
            selection = self.selection
            if selection is None or selection.project is None:  # no configuration to read
                self.devsync_app.call_after_frame(self._start_later_panes)
            else:
                self.set_timer(_LATER_PANES_DEADLINE, self._start_later_panes)

    def _select_created(self, data: WorkspaceData) -> None:
        """Show what was just created (``select_after_load``): its parents expanded, the
        cursor on it, so its view opens. A read from before it existed leaves it waiting."""
        key = self.select_after_load
        if key is None:
            return
        team_id, project_id, env_id = key
        if env_id is not None:
            there = any(e.id == env_id for e in data.environments.get(project_id or team_id, ()))
        elif project_id is not None:
            there = any(p.id == project_id for p in data.projects)
        else:
            there = any(t.id == team_id for t in data.teams)
        if there and self.nav_tree.select_item(key):
            self.select_after_load = None

    @on(ConfigLoaded)
    def _first_view_loaded(self) -> None:
        if not self._later_started:
            self.devsync_app.call_after_frame(self._start_later_panes)

    def _start_later_panes(self) -> None:
        if not self._later_started and self.session is not None:
            self._later_started = True
            if self._on_first_view is not None:
                self._on_first_view()
            if self.session.cached and not self._offline:
                self._later_waiting = True
                return
            self._mount_later_panes(self.session.backend)
            self.mark_other_projects()

    def _start_waiting_panes(self) -> None:
        """Mount the other tabs that waited for the live view (or for connecting to fail)."""
        if self._later_waiting and self.session is not None:
            self._later_waiting = False
            self._mount_later_panes(self.session.backend)
            self.mark_other_projects()

    @work(group="panes", exit_on_error=False)
    async def _mount_later_panes(self, backend: Backend) -> None:
        """Import and mount the panes of the other tabs, then show them the selection."""
        # Imported by name, now: imported with this module they cost the first frame ~40 ms
        # of CPU (measured: their import after the app's, median of 15 runs), an eighth of it.
        later = TABS[1:]
        for tab in later:
            pane = tab.build(backend)
            holder = self.query_one(f"#{tab.id}", TabPane)
            await holder.remove_children()
            await holder.mount(pane)
            self._panes[tab] = pane
        if self.session is not None and self.selection is not None:
            self._show_selection(self.session, self.selection, later)

    def _open_target(self) -> None:
        """Go where --team/--project/--env asked, else the first project."""
        data = self._data
        if data is None:
            return
        target = self._target
        team_q, project_q, env_q = target.team, target.project, target.env
        key = resolve_target(data.teams, data.projects, data.environments, team_q, project_q, env_q)
        several = ambiguity(data.teams, data.projects, data.environments, team_q, project_q, env_q)
        if several is not None:
            self.notify(several, severity="warning")
        if key is None:
            wanted = env_q or project_q or team_q
            if wanted and target.remembered:
                self.notify(
                    "The place you saw last is no longer visible to you (deleted, or you left "
                    "its team).",
                    severity="warning",
                )
            elif wanted:
                self.notify(f"Nothing called “{wanted}” is visible to you.", severity="warning")
            key = first_project(data.teams, data.projects)
        if key is not None:
            self.nav_tree.select_item(key)
            if key[2] is None and key[1] is None:
                self._show_team_tab()
        self.nav_tree.focus()
        # A cached start gets here while the screen is still being mounted, and the screen's
        # first activation would focus its first focusable widget instead: focus again then.
        self.call_after_refresh(self.nav_tree.focus)

    def _show_team_tab(self) -> None:
        """A team was asked for: show its members. On a primed start this runs while the
        tabs are still being mounted, and their mounting would activate the first tab over
        it: set it again once they are up."""
        tabs = self.query_one(TabbedContent)
        tabs.active = TEAM_TAB

        def again() -> None:
            tabs.active = TEAM_TAB

        self.call_after_refresh(again)

    def _names(self) -> dict[str, str]:
        """Names of everything in the tree (and of members), by id as text."""
        data = self._data
        if data is None:
            return {}
        names = {str(k): v for k, v in data.usernames.items()}
        names.update({str(t.id): t.name for t in data.teams})
        names.update({str(p.id): p.name for p in data.projects})
        for envs in data.environments.values():
            names.update({str(e.id): e.name for e in envs})
        return names

    def _refresh_selection(self) -> None:
        """Re-derive the selection from the tree's cursor with the fresh data."""
        node = self.nav_tree.cursor_node
        item = node.data if node is not None else None
        self.selection = self._selection_for(item)

    def _selection_for(self, item: NavItem | None) -> Selection | None:
        if item is None or self._data is None:
            return None
        data = self._data
        team = next((t for t in data.teams if t.id == item.team.id), None)
        if team is None:
            return None
        project = None
        envs: tuple[Environment, ...] = ()
        if item.project is not None:
            project = next((p for p in data.projects if p.id == item.project.id), None)
            if project is not None:
                envs = data.environments.get(project.id, ())
        env = None
        if item.environment is not None:
            env = next((e for e in envs if e.id == item.environment.id), None)
        owner = data.usernames.get(env.user_id) if env is not None else None
        return Selection(
            team=team, project=project, environment=env, environments=envs, owner=owner
        )

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[NavItem]) -> None:
        # Rebuilding the tree moves its cursor through other lines first; those events
        # arrive after the selection was already set from the cursor's final place, and
        # following them would load (and draw) a view that is replaced at once.
        if event.node is not self.nav_tree.cursor_node:
            return
        self.selection = self._selection_for(event.node.data)

    @on(Tree.NodeSelected)
    def _chosen(self) -> None:
        """Enter in the tree: go to the active tab's table."""
        self._focus_active_tab()

    def _focus_active_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        pane = tabs.get_pane(tabs.active) if tabs.active else None
        if pane is not None:
            for widget in pane.query("*"):
                if widget.focusable and widget.display and widget.visible:
                    widget.focus()
                    return

    @on(TabbedContent.TabActivated)
    def _tab_shown(self) -> None:
        self.presence_moved()
        # Focus left in a pane that is now hidden would leave the footer without keys.
        focused = self.focused
        tabs = self.query_one(TabbedContent)
        pane = tabs.get_pane(tabs.active) if tabs.active else None
        if focused is None or pane is None or focused is self.nav_tree:
            return
        if isinstance(focused, Tabs) or pane in focused.ancestors:
            return
        self._focus_active_tab()

    def watch_selection(self, selection: Selection | None) -> None:
        session = self.session
        if session is None:
            return
        if selection is None:  # nothing left to show (the last team left): leave at once
            self.presence_moved()
            return
        role = session.member_role(selection.team.id)
        suffix = " · read-only" if session.read_only else ""
        self.header.role = role.value + suffix if role else ""
        self.header.title = selection.title
        self._show_selection(session, selection)
        self.refresh_bindings()
        self.nav_tree.refresh_bindings()
        self.presence_moved()

    def on_config_drift_seen(self, message: ConfigDriftSeen) -> None:
        """A project's machine states were read: mark drifting machines in the tree and the
        drifting keys of the shown environment in the Configuration tab."""
        drifted = {s.environment_id for s in message.states if s.drifted}
        self.nav_tree.mark_config_drift(message.environment_ids, drifted)
        self.query_one(ConfigurationPane).set_machine_drift(message.environment_ids, message.states)

    def _show_selection(
        self, session: Session, selection: Selection, tabs: Sequence[Tab] | None = None
    ) -> None:
        """Show ``selection`` in the panes of ``tabs`` (default: every pane mounted so far)."""
        focus = selection.environment.id if selection.environment else None
        for tab in self._panes if tabs is None else tabs:
            pane = self._panes[tab]
            if tab.project_view:
                view = cast(ProjectView, pane)
                if selection.project is not None:
                    view.show(selection.project, selection.environments, focus_env=focus)
                else:
                    view.show_nothing(f"Select a project to see its {tab.project_view}.")
                continue
            if tab.id == ACTIVITY_TAB:
                cast("ActivityPane", pane).names = self._names()
            cast(SelectionView, pane).show(session, selection)

    # -- live ----------------------------------------------------------------------------
    def apply_live(self, batch: LiveBatch) -> None:
        link = batch.link
        if link is not None:
            for header in self.query(StatusHeader):
                header.link = link.state
                header.link_detail = link.detail
        if self.session is None or not self.query(StatusHeader):
            return
        self.presence_pushed(batch)
        if batch.touches(*_TREE_TABLES):
            self.load_workspace()
        if batch.resync:
            self.mark_other_projects()
        else:
            self.tree_drift_changes(batch)
        # Only attached panes: a batch may arrive while the app is closing.
        panes = [(tab, pane) for tab, pane in self._panes.items() if pane.is_attached]
        for tab, pane in panes:
            if not tab.project_view:
                cast(SelectionView, pane).apply_live(batch)
        if batch.changes or batch.resync:
            for tab, pane in panes:
                if tab.project_view:
                    cast(ProjectView, pane).apply_changes(batch.events)

    # -- actions -------------------------------------------------------------------------
    def action_toggle_tree(self) -> None:
        panel = self.query_one(NavPanel)
        panel.display = not panel.display
        # The configuration's value column takes the room the tree leaves: lay it out again
        # once the new widths are known (its own resize event alone missed it once in CI).
        self.call_after_refresh(self.query_one(ConfigurationPane).on_resize)

    def action_focus_tree(self) -> None:
        self.query_one(NavPanel).display = True
        self.nav_tree.focus()

    def action_refresh(self) -> None:
        if self._failed:
            self._failed = False
            self.header.link = "connecting"
            self.show_progress("Connecting…")
            self.post_message(Reconnect())
            return
        self.load_workspace()
        self.apply_live(LiveBatch([]))
        if self.session is not None and self.selection is not None:
            self._show_selection(self.session, self.selection)

    def _switch_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [tab.id for tab in TABS]
        index = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(index + step) % len(ids)]
        if self.focused is not self.nav_tree:
            self.call_after_refresh(self._focus_active_tab)

    def action_next_tab(self) -> None:
        self._switch_tab(1)

    def action_prev_tab(self) -> None:
        self._switch_tab(-1)

    def action_show_tab_number(self, number: int) -> None:
        """`1`…`7`: that tab, keeping the focus where it is (the tree, or the new table)."""
        if 1 <= number <= len(TABS):
            self.query_one(TabbedContent).active = TABS[number - 1].id
            if self.focused is not self.nav_tree:
                self.call_after_refresh(self._focus_active_tab)

    def palette_actions(self) -> list[PaletteAction]:
        """Every DevSync command of the active tab, runnable from the palette wherever the
        focus is; then the tabs, and the tree's commands that make sense anywhere."""
        tabs = self.query_one(TabbedContent)
        pane = tabs.get_pane(tabs.active) if tabs.active else None
        if pane is None:
            return []
        found = widget_actions(pane, self._run_in)
        for tab in TABS:
            found.append(
                PaletteAction(
                    f"Show {tab.title}",
                    f"Switch to the {tab.title} tab.",
                    partial(self._show_tab, tab.id),
                    f"tab_{tab.id}",
                )
            )
        if self.session is not None and self.check_action("new_team", ()):
            new_team = cmd.TREE_NEW_TEAM
            found.append(
                PaletteAction(new_team.label, new_team.help, self.action_new_team, "new_team")
            )
        return found

    def _show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.call_after_refresh(self._focus_active_tab)

    async def _run_in(self, node: Widget, action: str) -> None:
        target = (
            node
            if node.focusable
            else next((w for w in node.query("*") if w.focusable and w.display), None)
        )
        if target is not None:
            target.focus()
        await node.run_action(action)

    def jump_targets(self) -> list[JumpTarget]:
        """Palette targets: every team, project and environment (filtered out of the tree or
        not), and every configuration key of every project read so far (``load_jump_keys``)."""
        targets: list[JumpTarget] = []
        for item in self.nav_tree.items():
            kind = "environment" if item.environment else "project" if item.project else "team"
            label = " ▸ ".join(
                x.name for x in (item.team, item.project, item.environment) if x is not None
            )
            targets.append(JumpTarget(label, f"Open this {kind}", partial(self._jump, item.key)))
        on_screen = self.query_one(ConfigurationPane).jump_targets()
        targets.extend(on_screen)
        shown = {t.label for t in on_screen}
        places = {
            (item.project.id, item.environment.id if item.environment else None): item
            for item in self.nav_tree.items()
            if item.project is not None
        }
        sel = self.selection
        on_view = (
            (sel.project.id, sel.environment.id if sel.environment else None)
            if sel is not None and sel.project is not None
            else None
        )
        for project_id, keys in self._jump_keys.items():
            for scope, key in keys:
                place = places.get((project_id, scope))
                if place is None or place.project is None:
                    continue  # an environment not in the tree
                # The view on screen offers its own keys (an environment's view: with the
                # defaults it inherits).
                here = on_view is not None and on_view[0] == project_id
                if key in shown and here and scope in (None, on_view and on_view[1]):
                    continue
                where = " ▸ ".join(
                    x.name for x in (place.team, place.project, place.environment) if x is not None
                )
                kind = "override" if scope is not None else "key"
                targets.append(
                    JumpTarget(
                        f"{key}",
                        f"Configuration {kind} in {where}",
                        partial(self._jump_to_key, place.key, key),
                    )
                )
        return targets

    async def load_jump_keys(self) -> None:
        """Read every configuration key of every project (defaults and each environment's
        overrides, one read per project), for the palette (when it opens)."""
        session = self.session
        if session is None or self._data is None:
            return
        found: dict[UUID, tuple[tuple[UUID | None, str], ...]] = {}
        for project in self._data.projects:
            try:
                found[project.id] = tuple(await session.backend.project_keys(project.id))
            except DevSyncError:
                log.info("keys of %s not read for the palette", project.id, exc_info=True)
        self._jump_keys = found

    def _jump(self, key: tuple[UUID, UUID | None, UUID | None]) -> None:
        self.query_one(NavPanel).display = True
        self.nav_tree.select_item(key)

    def _jump_to_key(self, where: tuple[UUID, UUID | None, UUID | None], key: str) -> None:
        """Open the project (its defaults) or the environment and put the cursor on ``key``
        once they are shown."""
        self._jump(where)
        self._show_tab(TABS[0].id)
        self.query_one(ConfigurationPane).go_to_key_when_shown(key)
