"""The one registry of the dashboard's keys: commands as objects (STYLE.md habit 8).

Each ``UICommand`` carries its id (``area.action``: the name the settings' ``[keymap]`` uses),
its default key, the action it runs, its footer label and a one-line help. Every ``BINDINGS``
in dashboard/ is made here with ``bindings(...)``, so the footer, the help screen, the palette
(``palette.py``) and the keymap check (``expand_keymap``, ``unknown_keymap_names``) all read
the same set; user keymaps apply with ``App.set_keymap``. A test walks every class in
dashboard/ and fails on a binding that does not come from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding, BindingType
from textual.keys import format_key


@dataclass(frozen=True, slots=True)
class UICommand:
    """One user action: id, key, action name, footer label and a one-line help text."""

    id: str
    key: str
    action: str
    label: str
    help: str
    show: bool = True
    priority: bool = False
    key_display: str | None = None

    def binding(self) -> Binding:
        """The Textual binding of this command (its tooltip is the help text)."""
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


#: Every command, by id: the names a ``[keymap]`` table may use.
COMMANDS: dict[str, UICommand] = {}


def _command(
    id: str,
    key: str,
    action: str,
    label: str,
    help: str,
    *,
    show: bool = True,
    priority: bool = False,
    key_display: str | None = None,
) -> UICommand:
    command = UICommand(id, key, action, label, help, show, priority, key_display)
    if id in COMMANDS:
        raise ValueError(f"two commands have the id {id!r}")
    COMMANDS[id] = command
    return command


def bindings(*commands: UICommand) -> list[BindingType]:
    """BINDINGS for a class, from its commands."""
    return [command.binding() for command in commands]


def key_name(app: App[object], command: UICommand) -> str:
    """The key that runs ``command`` now, for sentences ("r reveals it"): the settings'
    keymap override if there is one (its first key), else the command's own key."""
    override = app._keymap.get(command.id)
    if override:
        return _spoken(override.split(",")[0].strip())
    return command.key_display or _spoken(command.key.split(",")[0])


#: How the README and the help screen spell keys Textual names in words.
_SPELLED = {
    "escape": "esc",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "pgup",
    "pagedown": "pgdn",
    "slash": "/",
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def spelled(command: UICommand) -> str:
    """The command's default keys as the README's key table writes them (``home, g``)."""
    return ", ".join(_SPELLED.get(k.strip(), k.strip()) for k in command.key.split(","))


def _spoken(key: str) -> str:
    # "enter" reads better in a sentence than Textual's ⏎; "escape" becomes "esc", "?" stays.
    return key if key == "enter" else format_key(key)


def expand_keymap(keymap: dict[str, str]) -> dict[str, str]:
    """Binding ids are ``area.action`` (``config.reveal``); a bare action name in the settings
    (``reveal = "v"``) applies to every binding with that action name."""
    expanded: dict[str, str] = {}
    for name, keys in keymap.items():
        if "." in name or name in COMMANDS:
            expanded[name] = keys
            continue
        matches = [i for i in COMMANDS if i.rsplit(".", 1)[-1] == name]
        for binding_id in matches or [name]:
            expanded[binding_id] = keys
    return expanded


def unknown_keymap_names(keymap: dict[str, str]) -> list[str]:
    """The keymap's names that match no binding (neither an id nor an action name)."""
    actions = {i.rsplit(".", 1)[-1] for i in COMMANDS}
    return sorted(name for name in keymap if name not in COMMANDS and name not in actions)


# -- app-wide ------------------------------------------------------------------------------
QUIT = _command("app.quit", "q", "quit", "Quit", "Leave DevSync (unsaved edits are kept).")
HELP = _command(
    "app.help", "question_mark", "help", "Help", "List the keys of this screen.", key_display="?"
)
PALETTE = _command(
    "app.palette",
    "ctrl+p",
    "command_palette",
    "Commands",
    "Jump anywhere or run any action by name.",
    show=False,
)
TOGGLE_TREE = _command(
    "app.tree", "ctrl+b", "toggle_tree", "Tree", "Show or hide the navigation tree.", show=False
)
REFRESH = _command(
    "app.refresh",
    "ctrl+r",
    "refresh",
    "Refresh",
    "Re-read everything on screen (live updates do this by themselves).",
    show=False,
)
NEXT_TAB = _command(
    "app.next_tab",
    "right_square_bracket",
    "next_tab",
    "Next tab",
    "Show the next tab.",
    show=False,
    key_display="]",
)
PREV_TAB = _command(
    "app.prev_tab",
    "left_square_bracket",
    "prev_tab",
    "Previous tab",
    "Show the previous tab.",
    show=False,
    key_display="[",
)
FOCUS_TREE = _command(
    "app.focus_tree", "t", "focus_tree", "Tree", "Move focus to the tree.", show=False
)

#: `1`…`7`: straight to a tab (in the order of ``panes.tabs.TABS``; a test holds the two to
#: the same number).
TAB_KEYS = tuple(
    _command(
        f"app.tab{n}",
        str(n),
        f"show_tab_number({n})",
        f"Tab {n}",
        f"Show tab {n}.",
        show=False,
    )
    for n in range(1, 8)
)

# -- navigation tree -----------------------------------------------------------------------
TREE_NEW = _command(
    "tree.new",
    "n",
    "screen.new_item",
    "New",
    "Create a team, a project in the selected team or an environment in the selected project.",
)
TREE_RENAME = _command(
    "tree.rename",
    "e",
    "screen.rename_item",
    "Rename",
    "Rename the selected team, project or environment.",
)
TREE_DELETE = _command(
    "tree.delete",
    "d",
    "screen.delete_item",
    "Delete",
    "Delete the selected team, project or environment (asks first).",
)
TREE_FILTER = _command(
    "tree.filter",
    "slash",
    "filter",
    "Filter",
    "Filter the tree by name (teams, projects, environments).",
    key_display="/",
)
TREE_CLEAR = _command(
    "tree.clear", "escape", "clear_filter", "Clear", "Clear the tree's filter (show everything)."
)
TREE_NEW_TEAM = _command(
    "tree.new_team",
    "N",
    "screen.new_team",
    "New team",
    "Create a team; you become its owner.",
    show=False,
)
TREE_OWNER = _command(
    "tree.owner",
    "o",
    "screen.change_owner",
    "Owner",
    "Give the selected environment to a member or admin of its team (admins only).",
    show=False,
)
# Textual's Tree toggles a node with space (its own binding, no id): named here so that the
# help screen lists it, with the arrows file-manager trees use.
TREE_TOGGLE = _command(
    "tree.toggle",
    "space",
    "toggle_node",
    "Open/close",
    "Expand or collapse the selected team or project.",
    show=False,
)
TREE_EXPAND = _command(
    "tree.expand",
    "right",
    "expand_or_enter",
    "Expand",
    "Expand the selected team or project; on an expanded one, go to its first item.",
    show=False,
)
TREE_COLLAPSE = _command(
    "tree.collapse",
    "left",
    "collapse_or_leave",
    "Collapse",
    "Collapse the selected team or project; elsewhere, go to what holds it.",
    show=False,
)

# -- tables (the filterable tables, the tree and the virtual tables) ------------------------
FILTER = _command(
    "table.filter", "slash", "filter", "Filter", "Filter the rows of this table.", key_display="/"
)
CLEAR = _command("table.clear", "escape", "clear_filter", "Clear", "Clear the filter.", show=False)
DOWN = _command("table.down", "j", "cursor_down", "Down", "Next row.", show=False)
UP = _command("table.up", "k", "cursor_up", "Up", "Previous row.", show=False)
# The virtual tables (dependencies, health) draw their own cursor, arrows included.
ROW_UP = _command("table.cursor_up", "up", "cursor_up", "Up", "Previous row", show=False)
ROW_DOWN = _command("table.cursor_down", "down", "cursor_down", "Down", "Next row", show=False)
COLUMN_LEFT = _command("table.left", "left", "cursor_left", "Left", "Previous column", show=False)
COLUMN_RIGHT = _command("table.right", "right", "cursor_right", "Right", "Next column", show=False)
PAGE_UP = _command("table.page_up", "pageup", "page_up", "Page up", "Up one screen", show=False)
PAGE_DOWN = _command(
    "table.page_down", "pagedown", "page_down", "Page down", "Down one screen", show=False
)
FIRST_ROW = _command("table.first", "home,g", "first", "First", "First row", show=False)
LAST_ROW = _command("table.last", "end,G", "last", "Last", "Last row", show=False)
OPEN_ROW = _command("table.select", "enter", "select", "Open", "Open the selected row")

#: The commands the help screen sums up in its one "↑ ↓ j k  Move" line.
MOVES = frozenset({UP.id, DOWN.id, ROW_UP.id, ROW_DOWN.id})

# -- configuration -------------------------------------------------------------------------
# `enter` is the table's own select_cursor (DataTable.RowSelected), labelled as an edit.
CFG_EDIT = _command("config.edit", "enter", "select_cursor", "Edit", "Edit the selected value.")
CFG_NEW = _command("config.new", "n", "new", "New", "Add a configuration key here.")
CFG_DELETE = _command(
    "config.delete", "d", "delete", "Delete", "Delete the selected key (asks first)."
)
CFG_REVEAL = _command(
    "config.reveal",
    "r",
    "reveal",
    "Reveal",
    "Reveal or mask the selected secret (masked again after a short while).",
)
CFG_COPY = _command(
    "config.copy", "y", "copy", "Copy", "Copy the value to the clipboard (OSC 52; works over SSH)."
)
CFG_HISTORY = _command(
    "config.history",
    "h",
    "history",
    "History",
    "Versions of the selected key, with diffs; restore one.",
)
CFG_EXPORT = _command(
    "config.export",
    "x",
    "export",
    "Export",
    "Write the effective configuration as a .env file.",
)

CFG_COMPARE = _command(
    "config.compare",
    "c",
    "compare",
    "Compare",
    "Compare this environment with another of the project (as `devsync env diff`).",
)
COMPARE_PROMOTE = _command(
    "compare.promote",
    "p",
    "promote",
    "Promote",
    "Copy the selected key's value from the first environment to the second (asks first).",
)

# -- dependencies (drift) and health -------------------------------------------------------
DRIFT_FILTER = _command(
    "drift.filter",
    "slash",
    "filter",
    "Filter",
    "Filter packages by name; every keystroke re-filters",
)
DRIFT_DRIFTED = _command(
    "drift.drifted",
    "f",
    "toggle_drifted",
    "Drifted only",
    "Show only packages that differ somewhere (press again for all)",
)
DRIFT_SORT = _command(
    "drift.sort", "s", "toggle_sort", "Sort", "Sort by severity (worst first) or by name"
)
DRIFT_CLEAR = _command(
    "drift.clear", "escape", "clear", "Clear", "Clear the filter and the drifted-only view"
)
DRIFT_DETAIL = _command(
    "drift.detail",
    "enter",
    "select",
    "Detail",
    "Every environment's version, constraint and state of this package",
)
DRIFT_DETAIL_CLOSE = _command(
    "drift.detail.close", "escape,q", "dismiss", "Close", "Close the package detail"
)
CFGDRIFT_FILTER = _command("cfgdrift.filter", "slash", "filter", "Filter", "Filter keys by name")
CFGDRIFT_DRIFTED = _command(
    "cfgdrift.drifted",
    "f",
    "toggle_drifted",
    "Drifted only",
    "Show only keys some machine does not have in sync (press again for all)",
)
CFGDRIFT_CLEAR = _command(
    "cfgdrift.clear", "escape", "clear", "Clear", "Clear the filter and the drifted-only view"
)
CFGDRIFT_DETAIL = _command(
    "cfgdrift.detail",
    "enter",
    "select",
    "Detail",
    "Each machine's state of this key, who changed it since, and the command that fixes it",
)
CFGDRIFT_DETAIL_CLOSE = _command(
    "cfgdrift.detail.close", "escape,q", "dismiss", "Close", "Close the key detail"
)
HEALTH_FILTER = _command(
    "health.filter", "slash", "filter", "Filter", "Filter environments by name"
)
HEALTH_CLEAR = _command("health.clear", "escape", "clear", "Clear", "Clear the filter")
HEALTH_SORT = _command(
    "health.sort",
    "s",
    "sort",
    "Sort",
    "Sort by the next column: name, status (worst first), last report (oldest first), "
    "cpu, memory, disk, ping (highest first)",
)
HEALTH_SELECT = _command(
    "health.select",
    "enter",
    "select",
    "Detail",
    "The machine's health and a summary of its dependencies against the baseline",
)

# -- members / templates -------------------------------------------------------------------
MEMBER_ADD = _command(
    "members.add", "n", "add_member", "Add", "Add a member to the team by username."
)
# Like config.edit: the members table's own select_cursor, labelled as a role change.
MEMBER_ROLE = _command(
    "members.role", "enter", "select_cursor", "Role", "Change the selected member's role."
)
MEMBER_REMOVE = _command(
    "members.remove", "d", "remove_member", "Remove", "Remove the selected member (asks first)."
)
MEMBER_LEAVE = _command(
    "members.leave", "L", "leave_team", "Leave", "Leave this team (asks first)."
)
TEMPLATE_NEW = _command(
    "templates.new",
    "n",
    "new_template",
    "New",
    "Create a template from the selected environment's configuration.",
)
TEMPLATE_DELETE = _command(
    "templates.delete",
    "d",
    "delete_template",
    "Delete",
    "Delete the selected template (asks first).",
)

# -- dialogs -------------------------------------------------------------------------------
DIALOG_CANCEL = _command("dialog.cancel", "escape", "cancel", "Cancel", "Close without saving.")
DIALOG_SAVE = _command("dialog.save", "ctrl+s", "save", "Save", "Save and close.", priority=True)
DRAFT_DISCARD = _command(
    "editor.discard_draft",
    "ctrl+d",
    "discard_draft",
    "Discard draft",
    "Throw the restored draft away and show the stored value again.",
    priority=True,  # above the value box's own ctrl+d (delete right), only while offered
)
HISTORY_RESTORE = _command(
    "history.restore",
    "R",
    "restore",
    "Restore",
    "Write the selected version back as the newest one.",
)
HISTORY_REVEAL = _command(
    "history.reveal",
    "r",
    "reveal",
    "Reveal",
    "Reveal the selected version's secret value, if you may.",
)
