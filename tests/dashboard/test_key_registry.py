"""One key registry: every binding in dashboard/ comes from ``keys.py``, and every registered
binding can be remapped from the settings' ``[keymap]`` without being called unknown."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import TabbedContent

import devsync_tui.dashboard
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.widgets.virtual_table import FilterInput
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready

#: A key no command has by default.
FREE_KEY = "f19"


def _dashboard_classes() -> list[type[DOMNode]]:
    """Every widget, screen and app class defined in a module of dashboard/."""
    root = devsync_tui.dashboard
    found: list[type[DOMNode]] = []
    for info in pkgutil.walk_packages(root.__path__, f"{root.__name__}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DOMNode)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


#: The classes that declare BINDINGS, with what they declare.
BOUND = {
    cls: cls.__dict__["BINDINGS"] for cls in _dashboard_classes() if "BINDINGS" in cls.__dict__
}


def test_every_binding_in_the_dashboard_comes_from_the_registry() -> None:
    # The walk reaches the panes, tables, dialogs and screens (not an empty pass).
    names = {cls.__name__ for cls in BOUND}
    assert {
        "DevSyncApp", "MainScreen", "NavTree", "DriftPane", "HealthPane", "VirtualTable",
        "DriftMatrixTable", "HealthTable", "KeyTable", "FilterableTable", "ConfigTable",
        "MembersTable", "ConfirmDialog", "FormDialog", "ConfigEditor", "HistoryScreen",
        "HelpScreen", "PackageDetailScreen",
    } <= names  # fmt: skip
    for cls, bindings in BOUND.items():
        for binding in bindings:
            assert isinstance(binding, Binding), f"{cls.__name__}: {binding!r} is not a Binding"
            assert binding.id in cmd.COMMANDS, f"{cls.__name__}: {binding.id!r} is not registered"
            assert binding == cmd.COMMANDS[binding.id].binding(), f"{cls.__name__}: {binding.id}"
            assert binding.tooltip, f"{cls.__name__}: {binding.id} has no tooltip"


def test_every_registered_command_is_bound_somewhere() -> None:
    bound = {binding.id for bindings in BOUND.values() for binding in bindings}
    assert bound == set(cmd.COMMANDS)


@pytest.mark.parametrize("command", list(cmd.COMMANDS.values()), ids=lambda c: c.id)
def test_remapping_a_registered_command_applies_and_is_known(command: cmd.UICommand) -> None:
    for name in (command.id, command.id.rsplit(".", 1)[-1]):  # the id, or the bare action
        keymap = {name: FREE_KEY}
        assert cmd.unknown_keymap_names(keymap) == []
        assert cmd.expand_keymap(keymap)[command.id] == FREE_KEY
    # What App.set_keymap does to every class that binds the command.
    keymap = App._normalize_keymap(cmd.expand_keymap({command.id: FREE_KEY}))
    holders = [cls for cls, bindings in BOUND.items() if any(b.id == command.id for b in bindings)]
    for cls in holders:
        assert cls._merged_bindings is not None
        bindings_map = cls._merged_bindings.copy()
        bindings_map.apply_keymap(keymap)
        moved = bindings_map.key_to_bindings[FREE_KEY]
        assert {(b.id, b.action) for b in moved} == {(command.id, command.action)}
        for old in command.key.split(","):
            left = bindings_map.key_to_bindings.get(old, [])
            assert command.id not in {b.id for b in left}, f"{cls.__name__} keeps {old}"


def _readme_key_table() -> dict[str, str]:
    """The README's key table (section "Keys"): binding id → the keys it lists for it."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    listed: dict[str, str] = {}
    for row in rows:
        cell = row.split("|")[2]
        for entry in cell.split(" · "):
            found = re.fullmatch(r"\s*`([^`]+)` (.+?)\s*", entry)
            assert found, f"README key table: cannot read {entry!r}"
            assert found.group(1) not in listed, f"README lists {found.group(1)} twice"
            listed[found.group(1)] = found.group(2)
    return listed


def test_the_readme_key_table_matches_the_registry() -> None:
    listed = _readme_key_table()
    assert set(listed) == set(cmd.COMMANDS)
    for command_id, keys in listed.items():
        assert keys == cmd.spelled(cmd.COMMANDS[command_id]), command_id


def test_unknown_names_are_still_reported() -> None:
    keymap = {"teleport": "t", "config.nothing": "z", "reveal": "v"}
    assert cmd.unknown_keymap_names(keymap) == ["config.nothing", "teleport"]


@pytest.mark.db
async def test_a_remapped_drift_filter_works_and_is_not_called_unknown(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "bob", project="storefront")
    app.settings.keymap = {"drift.filter": "F"}
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one(TabbedContent).active = "dependencies"
        pane = app.main.query_one(DriftPane)
        await wait_for(pilot, lambda: pane.matrix is not None and not pane.loading_more)
        pane.table.focus()
        await pilot.pause()
        box = pane.query_one(FilterInput)
        await pilot.press("slash")
        assert not box.display  # the old key no longer filters
        await pilot.press("F")
        await wait_for(pilot, lambda: box.display and box.has_focus)
        assert not any("keymap" in n.message for n in app._notifications)


def test_there_is_a_number_key_for_every_tab() -> None:
    from devsync_tui.dashboard.panes.tabs import TABS

    assert [c.key for c in cmd.TAB_KEYS] == [str(n) for n in range(1, len(TABS) + 1)]
