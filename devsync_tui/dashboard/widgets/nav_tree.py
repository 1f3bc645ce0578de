"""The navigation tree: Teams ▸ Projects ▸ Environments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Tree
from textual.widgets.tree import TreeNode

from devsync_tui.core import clock
from devsync_tui.core.models import Environment, EnvStatus, Project, Team
from devsync_tui.core.staleness import is_stale
from devsync_tui.dashboard import keys as cmd

_STATUS_MARK = {
    EnvStatus.ACTIVE: ("●", "green"),
    EnvStatus.SYNCING: ("◐", "yellow"),
    EnvStatus.ERROR: ("✖", "red"),
    EnvStatus.OFFLINE: ("○", "grey50"),
}
_STALE_MARK = ("◌", "yellow")


#: A project with more environments (machines) than this opens collapsed.
COLLAPSE_OVER = 10
#: Seconds between looks at the status marks: an agent that stops reporting turns its machine
#: stale with no change in the data (as the Health tab's tick).
MARK_TICK_SECONDS = 30.0

#: Node key: (team id, project id or None, environment id or None).
NavKey = tuple[UUID, UUID | None, UUID | None]


@dataclass(frozen=True, slots=True)
class NavItem:
    """What a tree node stands for."""

    team: Team
    project: Project | None = None
    environment: Environment | None = None

    @property
    def key(self) -> tuple[UUID, UUID | None, UUID | None]:
        return (
            self.team.id,
            self.project.id if self.project else None,
            self.environment.id if self.environment else None,
        )


class NavTree(Tree[NavItem]):
    """Teams ▸ Projects ▸ Environments. Rebuilt from data, keeping the cursor and what was
    expanded."""

    BINDINGS = cmd.bindings(
        cmd.TREE_NEW,
        cmd.TREE_RENAME,
        cmd.TREE_DELETE,
        cmd.TREE_FILTER,
        cmd.TREE_CLEAR,
        cmd.TREE_NEW_TEAM,
        cmd.TREE_OWNER,
        cmd.TREE_TOGGLE,
        cmd.TREE_EXPAND,
        cmd.TREE_COLLAPSE,
        cmd.DOWN,
        cmd.UP,
    )

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Teams", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self.auto_expand = False
        #: Machines whose reported configuration drifts (marked ≠ after their name).
        self.config_drift: set[UUID] = set()
        #: Environment id → who else is on it (presence), shown after its name.
        self._present: Mapping[UUID, tuple[str, ...]] = {}
        #: What the tree shows only items about (lower case; empty: everything).
        self.filter_text = ""
        #: Where the cursor was when a filter left nothing to show (it goes back there).
        self._hidden_key: NavKey | None = None
        #: What was expanded before a filter opened every match (restored when it is cleared).
        self._expanded_before: set[NavKey] | None = None
        #: Environment id → the status mark its label shows (the tick redraws what changed).
        self._marks: dict[UUID, str] = {}
        self._data: (
            tuple[
                Sequence[Team],
                Sequence[Project],
                Mapping[UUID, Sequence[Environment]],
                Mapping[UUID, str],
            ]
            | None
        ) = None

    def on_mount(self) -> None:
        self.set_interval(MARK_TICK_SECONDS, self.refresh_marks, name="tree-marks")

    def action_filter(self) -> None:
        """`/`: type to keep only the teams, projects and environments whose name matches."""
        panel = self.parent
        if isinstance(panel, NavPanel):
            panel.open_filter()

    def action_clear_filter(self) -> None:
        """`esc`: show everything again (offered while a filter is applied)."""
        panel = self.parent
        if isinstance(panel, NavPanel):
            panel.close_filter()
        else:
            self.set_filter("")

    def action_expand_or_enter(self) -> None:
        """`→`: expand a collapsed team or project; on an expanded one, go to its first item."""
        node = self.cursor_node
        if node is None or not node.children:
            return
        if not node.is_expanded:
            node.expand()
        else:
            self._move_to(node.children[0])

    def action_collapse_or_leave(self) -> None:
        """`←`: collapse an expanded team or project; elsewhere, go to what holds it."""
        node = self.cursor_node
        if node is None:
            return
        if node.children and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self._move_to(node.parent)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            # Nothing to clear: esc goes on to whatever is around the tree.
            return bool(self.filter_text)
        return True

    def set_filter(self, text: str) -> None:
        """Show only items whose name contains ``text`` (any case), with what holds them and
        what they hold; empty shows everything again."""
        text = text.strip().lower()
        if text and not self.filter_text and self._expanded_before is None:
            self._expanded_before = self._expanded_keys()
        self.filter_text = text
        if self._data is not None:
            self.populate(*self._data)
        self.refresh_bindings()  # esc clears it; what is under the cursor may have gone

    def _expanded_keys(self) -> set[NavKey]:
        return {n.data.key for n in self._nodes_iter() if n.data and n.is_expanded}

    def cursor_item(self) -> NavItem | None:
        """The item of the node under the cursor, if that node is on screen; None when there
        is none (a filter hid it, or nothing is shown). After a rebuild the tree's cursor
        can still hold a node of the old tree, one the filter left out."""
        if self.last_line < 0:  # reading it lays the lines out (and the cursor on them)
            return None
        node = self.cursor_node
        if node is None or node.data is None or self.cursor_line < 0:
            return None
        return node.data if self.get_node_at_line(self.cursor_line) is node else None

    def _shown(self, *names: str) -> bool:
        """Whether an item is shown under the filter: its own name or one around it matches
        (``names``: the item's own, its ancestors', its descendants')."""
        wanted = self.filter_text
        return not wanted or any(wanted in name.lower() for name in names)

    def populate(
        self,
        teams: Sequence[Team],
        projects: Sequence[Project],
        environments: Mapping[UUID, Sequence[Environment]],
        usernames: Mapping[UUID, str],
    ) -> None:
        """Replace the tree's content; the highlighted item stays highlighted if it exists."""
        self._data = (teams, projects, environments, usernames)
        at = self.cursor_node
        current = at.data.key if at and at.data else self._hidden_key
        self._hidden_key = None
        if self.filter_text:
            expanded: set[NavKey] = set()  # a filter expands every match
        elif self._expanded_before is not None:  # the filter is cleared: as it was before
            expanded, self._expanded_before = self._expanded_before, None
        else:
            expanded = self._expanded_keys()
        first_fill = not self.root.children
        self.clear()
        self._marks = {}
        by_key: dict[NavKey, TreeNode[NavItem]] = {}
        crowded: set[NavKey] = set()
        for team in sorted(teams, key=lambda t: t.name.lower()):
            team_projects = sorted(
                (p for p in projects if p.team_id == team.id), key=lambda p: p.name.lower()
            )
            inside = [p.name for p in team_projects] + [
                e.name for p in team_projects for e in environments.get(p.id, ())
            ]
            if not self._shown(team.name, *inside):
                continue
            item = NavItem(team)
            team_node = self.root.add(Text(team.name, style="bold"), data=item)
            by_key[item.key] = team_node
            for project in team_projects:
                envs = sorted(environments.get(project.id, ()), key=lambda e: e.name.lower())
                if not self._shown(team.name, project.name, *(e.name for e in envs)):
                    continue
                pitem = NavItem(team, project)
                project_node = team_node.add(project.name, data=pitem)
                by_key[pitem.key] = project_node
                if len(envs) > COLLAPSE_OVER:
                    crowded.add(pitem.key)
                for env in envs:
                    if not self._shown(team.name, project.name, env.name):
                        continue
                    eitem = NavItem(team, project, env)
                    by_key[eitem.key] = project_node.add_leaf(self._env_label(env), data=eitem)
        for key, node in by_key.items():
            # A filter shows every match; a project of many machines opens collapsed.
            if self.filter_text or key in expanded or (first_fill and key not in crowded):
                node.expand()
        if current is not None:
            # Where the cursor was, else what held it (a deleted environment: its project;
            # a deleted project: its team), else the first team.
            team_id, project_id, _env_id = current
            for key in (current, (team_id, project_id, None), (team_id, None, None)):
                if key in by_key:
                    self._move_to(by_key[key])
                    break
            else:
                if self.root.children:
                    self._move_to(self.root.children[0])
                else:  # the filter shows nothing: back to the same place once it is cleared
                    self._hidden_key = current

    @staticmethod
    def _mark(env: Environment, now: datetime) -> tuple[str, str]:
        """The status mark and its colour: stale (no report for two agent intervals, the
        Health tab's rule and clock) before what the status says."""
        if is_stale(env.status, env.last_sync_at, now):
            return _STALE_MARK
        return _STATUS_MARK.get(env.status, ("○", "grey50"))

    def _env_label(self, env: Environment) -> Text:
        """The status mark and the name; stale (no report for two agent intervals) is said,
        and without colour (NO_COLOR) an error stands out reversed, a stale one bold."""
        mark, colour = self._mark(env, clock.now())
        self._marks[env.id] = mark
        if self.app.no_color and mark in ("✖", _STALE_MARK[0]):
            colour = "bold reverse" if mark == "✖" else "bold"
        label = Text.assemble((mark + " ", colour), env.name)
        if env.id in self.config_drift:
            label.append(" ≠", style="yellow")
        present = self._present.get(env.id)
        if present:
            label.append(f" ◆ {', '.join(present)}", style="cyan")
        return label

    def refresh_marks(self) -> None:
        """Redraw the environments whose status mark the time alone changed (an agent that
        stopped reporting turns stale): the data already read, nothing read again."""
        now = clock.now()
        for node in self._nodes_iter():
            env = node.data.environment if node.data else None
            if env is not None and self._mark(env, now)[0] != self._marks.get(env.id):
                node.set_label(self._env_label(env))

    def mark_config_drift(self, environment_ids: Sequence[UUID], drifted: set[UUID]) -> None:
        """Mark (≠) the machines among ``environment_ids`` whose configuration drifts."""
        wanted = (self.config_drift - set(environment_ids)) | drifted
        if wanted == self.config_drift:
            return
        self.config_drift = wanted
        for node in self._nodes_iter():
            env = node.data.environment if node.data else None
            if env is not None and env.id in environment_ids:
                node.set_label(self._env_label(env))

    def show_presence(self, present: Mapping[UUID, tuple[str, ...]]) -> None:
        """Mark the environments others are on (``◆ bob, ✎erin``: ✎ edits a key there)."""
        if present == self._present:
            return
        self._present = dict(present)
        for node in self._nodes_iter():
            item = node.data
            if item is not None and item.environment is not None:
                node.set_label(self._env_label(item.environment))

    def _move_to(self, node: TreeNode[NavItem]) -> None:
        # Reading last_line rebuilds the line index, so the node knows its line number.
        if self.last_line >= 0:
            self.move_cursor(node)

    def _nodes_iter(self) -> list[TreeNode[NavItem]]:
        found: list[TreeNode[NavItem]] = []
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(node.children)
        return found

    def items(self) -> list[NavItem]:
        """Every item of the tree's data, shown under the filter or not (for the command
        palette's jump targets)."""
        if self._data is None:
            return []
        teams, projects, environments, _names = self._data
        found: list[NavItem] = []
        for team in teams:
            found.append(NavItem(team))
            for project in (p for p in projects if p.team_id == team.id):
                found.append(NavItem(team, project))
                found.extend(NavItem(team, project, e) for e in environments.get(project.id, ()))
        return found

    def select_item(self, key: NavKey) -> bool:
        """Move the cursor to the item with this key and scroll it into view; False if there
        is none (a filter that hides it is cleared first)."""
        shown = any(n.data is not None and n.data.key == key for n in self._nodes_iter())
        if self.filter_text and not shown:
            panel = self.parent
            if isinstance(panel, NavPanel):
                panel.close_filter(focus=False)
            else:
                self.set_filter("")
        for node in self._nodes_iter():
            if node.data is not None and node.data.key == key:
                parent = node.parent
                while parent is not None:
                    parent.expand()
                    parent = parent.parent
                self._move_to(node)
                # The expanded lines are laid out on the next refresh: scroll then.
                self.call_after_refresh(self._scroll_to_cursor)
                return True
        return False

    def _scroll_to_cursor(self) -> None:
        node = self.cursor_node
        if node is not None:
            if node._line != self.cursor_line:
                self._move_to(node)
            self.scroll_to_node(node, animate=False)


class TreeFilter(Input):
    """The tree's filter box: every keystroke re-filters; enter goes to the tree; esc clears."""

    BINDINGS = cmd.bindings(cmd.CLEAR)

    def action_clear_filter(self) -> None:
        panel = self.parent
        if isinstance(panel, NavPanel):
            panel.close_filter()


class NavPanel(Vertical):
    """The tree with its filter box above it (shown while filtering)."""

    def compose(self) -> ComposeResult:
        yield TreeFilter(placeholder="filter the tree", id="tree-filter", compact=True)
        yield NavTree(id="nav")

    @property
    def nav(self) -> NavTree:
        return self.query_one(NavTree)

    def open_filter(self) -> None:
        box = self.query_one(TreeFilter)
        box.add_class("-open")
        box.focus()

    def close_filter(self, *, focus: bool = True) -> None:
        box = self.query_one(TreeFilter)
        box.value = ""
        box.remove_class("-open")
        self.nav.set_filter("")
        if focus:
            self.nav.focus()

    @on(Input.Changed, "#tree-filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.nav.set_filter(event.value)

    @on(Input.Submitted, "#tree-filter")
    def _done(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.close_filter()
        else:
            self.nav.focus()
