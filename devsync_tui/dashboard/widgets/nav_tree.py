"""The navigation tree: Teams ▸ Projects ▸ Environments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from devsync_tui.core.models import Environment, EnvStatus, Project, Team
from devsync_tui.dashboard import keys as cmd

_STATUS_MARK = {
    EnvStatus.ACTIVE: ("●", "green"),
    EnvStatus.SYNCING: ("◐", "yellow"),
    EnvStatus.ERROR: ("✖", "red"),
    EnvStatus.OFFLINE: ("○", "grey50"),
}


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
        cmd.TREE_NEW, cmd.TREE_RENAME, cmd.TREE_DELETE, cmd.TREE_NEW_TEAM, cmd.DOWN, cmd.UP
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

    def populate(
        self,
        teams: Sequence[Team],
        projects: Sequence[Project],
        environments: Mapping[UUID, Sequence[Environment]],
        usernames: Mapping[UUID, str],
    ) -> None:
        """Replace the tree's content; the highlighted item stays highlighted if it exists."""
        current = self.cursor_node.data.key if self.cursor_node and self.cursor_node.data else None
        expanded = {n.data.key for n in self._nodes_iter() if n.data and n.is_expanded}
        first_fill = not self.root.children
        self.clear()
        by_key: dict[tuple[UUID, UUID | None, UUID | None], TreeNode[NavItem]] = {}
        for team in sorted(teams, key=lambda t: t.name.lower()):
            item = NavItem(team)
            team_node = self.root.add(Text(team.name, style="bold"), data=item)
            by_key[item.key] = team_node
            for project in sorted(
                (p for p in projects if p.team_id == team.id), key=lambda p: p.name.lower()
            ):
                pitem = NavItem(team, project)
                project_node = team_node.add(project.name, data=pitem)
                by_key[pitem.key] = project_node
                for env in sorted(environments.get(project.id, ()), key=lambda e: e.name.lower()):
                    eitem = NavItem(team, project, env)
                    by_key[eitem.key] = project_node.add_leaf(self._env_label(env), data=eitem)
        for key, node in by_key.items():
            if first_fill or key in expanded:
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

    def _env_label(self, env: Environment) -> Text:
        mark, colour = _STATUS_MARK.get(env.status, ("○", "grey50"))
        label = Text.assemble((mark + " ", colour), env.name)
        if env.id in self.config_drift:
            label.append(" ≠", style="yellow")
        present = self._present.get(env.id)
        if present:
            label.append(f" ◆ {', '.join(present)}", style="cyan")
        return label

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
        """Every item in the tree (for the command palette's jump targets)."""
        return [node.data for node in self._nodes_iter() if node.data is not None]

    def select_item(self, key: tuple[UUID, UUID | None, UUID | None]) -> bool:
        """Move the cursor to the item with this key; False if there is none."""
        for node in self._nodes_iter():
            if node.data is not None and node.data.key == key:
                parent = node.parent
                while parent is not None:
                    parent.expand()
                    parent = parent.parent
                self._move_to(node)
                return True
        return False
