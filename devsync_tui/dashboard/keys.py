"""Commands as objects: each carries its key, footer text, id and help; BINDINGS and the
command palette are derived from them (STYLE.md habit 8).

Every binding has an ``id`` (``area.action``) so users can remap it in the settings file's
``[keymap]`` table, applied with ``App.set_keymap``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True, slots=True)
class UICommand:
    """One user action: key, action name, footer label and a one-line help text."""

    id: str
    key: str
    action: str
    label: str
    help: str
    show: bool = True
    priority: bool = False
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.label,
            show=self.show,
            priority=self.priority,
            tooltip=self.help,
            id=self.id,
            key_display=self.key_display,
        )


def key_name(app: object, command: UICommand) -> str:
    """The key that runs ``command`` now, for sentences ("r reveals it"): the settings'
    keymap override if there is one (its first key), else the command's own key."""
    keymap: dict[str, str] = getattr(app, "_keymap", None) or {}
    override = keymap.get(command.id)
    if override:
        return override.split(",")[0].strip()
    return command.key_display or command.key


def bindings(*commands: UICommand) -> list[BindingType]:
    """BINDINGS for a class, from its commands."""
    return [command.binding() for command in commands]


def by_id(commands: Iterable[UICommand]) -> dict[str, UICommand]:
    return {command.id: command for command in commands}


def all_ids() -> set[str]:
    """The ids of every command defined here (the names the settings' [keymap] uses)."""
    return {value.id for value in globals().values() if isinstance(value, UICommand)}


# -- app-wide ------------------------------------------------------------------------------
QUIT = UICommand("app.quit", "q", "quit", "Quit", "Leave DevSync (unsaved edits are kept).")
HELP = UICommand(
    "app.help", "question_mark", "help", "Help", "List the keys of this screen.", key_display="?"
)
PALETTE = UICommand(
    "app.palette",
    "ctrl+p",
    "command_palette",
    "Commands",
    "Jump anywhere or run any action by name.",
    show=False,
)
TOGGLE_TREE = UICommand(
    "app.tree", "ctrl+b", "toggle_tree", "Tree", "Show or hide the navigation tree.", show=False
)
REFRESH = UICommand(
    "app.refresh",
    "ctrl+r",
    "refresh",
    "Refresh",
    "Re-read everything on screen (live updates do this by themselves).",
    show=False,
)
NEXT_TAB = UICommand(
    "app.next_tab",
    "right_square_bracket",
    "next_tab",
    "Next tab",
    "Show the next tab.",
    show=False,
    key_display="]",
)
PREV_TAB = UICommand(
    "app.prev_tab",
    "left_square_bracket",
    "prev_tab",
    "Previous tab",
    "Show the previous tab.",
    show=False,
    key_display="[",
)
FOCUS_TREE = UICommand(
    "app.focus_tree", "t", "focus_tree", "Tree", "Move focus to the tree.", show=False
)

# -- navigation tree -----------------------------------------------------------------------
TREE_NEW = UICommand(
    "tree.new",
    "n",
    "screen.new_item",
    "New",
    "Create a team, a project in the selected team or an environment in the selected project.",
)
TREE_RENAME = UICommand(
    "tree.rename",
    "e",
    "screen.rename_item",
    "Rename",
    "Rename the selected project or environment.",
)
TREE_DELETE = UICommand(
    "tree.delete",
    "d",
    "screen.delete_item",
    "Delete",
    "Delete the selected project or environment (asks first).",
)
TREE_NEW_TEAM = UICommand(
    "tree.new_team",
    "N",
    "screen.new_team",
    "New team",
    "Create a team; you become its owner.",
    show=False,
)

# -- tables --------------------------------------------------------------------------------
FILTER = UICommand(
    "table.filter", "slash", "filter", "Filter", "Filter the rows of this table.", key_display="/"
)
CLEAR = UICommand("table.clear", "escape", "clear_filter", "Clear", "Clear the filter.", show=False)
DOWN = UICommand("table.down", "j", "cursor_down", "Down", "Next row.", show=False)
UP = UICommand("table.up", "k", "cursor_up", "Up", "Previous row.", show=False)

# -- configuration -------------------------------------------------------------------------
CFG_EDIT = UICommand("config.edit", "enter", "edit", "Edit", "Edit the selected value.")
CFG_NEW = UICommand("config.new", "n", "new", "New", "Add a configuration key here.")
CFG_DELETE = UICommand(
    "config.delete", "d", "delete", "Delete", "Delete the selected key (asks first)."
)
CFG_REVEAL = UICommand(
    "config.reveal",
    "r",
    "reveal",
    "Reveal",
    "Reveal or mask the selected secret (masked again after a short while).",
)
CFG_COPY = UICommand(
    "config.copy", "y", "copy", "Copy", "Copy the value to the clipboard (OSC 52; works over SSH)."
)
CFG_HISTORY = UICommand(
    "config.history",
    "h",
    "history",
    "History",
    "Versions of the selected key, with diffs; restore one.",
)
CFG_EXPORT = UICommand(
    "config.export",
    "x",
    "export",
    "Export",
    "Write the effective configuration as a .env file.",
)

# -- members / templates -------------------------------------------------------------------
MEMBER_ADD = UICommand(
    "members.add", "n", "add_member", "Add", "Add a member to the team by username."
)
MEMBER_ROLE = UICommand(
    "members.role", "enter", "change_role", "Role", "Change the selected member's role."
)
MEMBER_REMOVE = UICommand(
    "members.remove", "d", "remove_member", "Remove", "Remove the selected member (asks first)."
)
MEMBER_LEAVE = UICommand(
    "members.leave", "L", "leave_team", "Leave", "Leave this team (asks first)."
)
TEMPLATE_NEW = UICommand(
    "templates.new",
    "n",
    "new_template",
    "New",
    "Create a template from the selected environment's configuration.",
)
TEMPLATE_DELETE = UICommand(
    "templates.delete",
    "d",
    "delete_template",
    "Delete",
    "Delete the selected template (asks first).",
)

# -- dialogs -------------------------------------------------------------------------------
DIALOG_CANCEL = UICommand("dialog.cancel", "escape", "cancel", "Cancel", "Close without saving.")
DIALOG_SAVE = UICommand("dialog.save", "ctrl+s", "save", "Save", "Save and close.", priority=True)
DRAFT_DISCARD = UICommand(
    "editor.discard_draft",
    "ctrl+d",
    "discard_draft",
    "Discard draft",
    "Throw the restored draft away and show the stored value again.",
    priority=True,  # above the value box's own ctrl+d (delete right), only while offered
)
HISTORY_RESTORE = UICommand(
    "history.restore",
    "R",
    "restore",
    "Restore",
    "Write the selected version back as the newest one.",
)
HISTORY_REVEAL = UICommand(
    "history.reveal",
    "r",
    "reveal",
    "Reveal",
    "Reveal the selected version's secret value, if you may.",
)


# -- command palette -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JumpTarget:
    """A place the palette can jump to (a team, project, environment or configuration key)."""

    label: str
    help: str
    go: Callable[[], object]


class HasJumpTargets(Protocol):
    def jump_targets(self) -> list[JumpTarget]: ...


class ActionsProvider(Provider):
    """Every action that has a key on the current screen, by its name."""

    def _actions(self) -> list[tuple[str, str, Callable[[], object]]]:
        found: list[tuple[str, str, Callable[[], object]]] = []
        seen: set[str] = set()
        screen = self.screen
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            # Textual's own widget keys (cursor moves, paging, focus next) are no commands;
            # DevSync's all carry an id.
            if not binding.id:
                continue
            if binding.action == "command_palette":
                continue
            seen.add(binding.action)
            run = partial(active.node.run_action, binding.action)
            found.append((binding.description, binding.tooltip, run))
        # Actions of the views not focused now (a screen may offer them: MainScreen does).
        more = getattr(screen, "palette_actions", None)
        if more is not None:
            for name, help_text, run, action in more():
                if action not in seen:
                    seen.add(action)
                    found.append((name, help_text, run))
        return found

    async def discover(self) -> Hits:
        for name, help_text, run in self._actions():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._actions():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)


class JumpProvider(Provider):
    """Jump to any team, project, environment or configuration key."""

    def _targets(self) -> list[JumpTarget]:
        for screen in self.app.screen_stack:
            jump = getattr(screen, "jump_targets", None)
            if jump is not None:
                targets: list[JumpTarget] = jump()
                return targets
        return []

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for target in self._targets():
            score = matcher.match(target.label)
            if score > 0:
                yield Hit(score, matcher.highlight(target.label), target.go, help=target.help)
