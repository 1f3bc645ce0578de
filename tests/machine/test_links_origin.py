"""machine.links: the machine-wide link ("*") records the checkout it was linked from, and a
store written before it did still loads (no database)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest

from devsync_tui.machine import links
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.targets import linked_as

PROJECT = UUID("00000000-0000-4000-c000-000000000001")
ENV = UUID("00000000-0000-4000-d000-000000000002")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(a checkout, a folder never linked), with the link store under tmp_path."""
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    shop = tmp_path / "shop"
    (shop / ".git").mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    return shop.resolve(), other.resolve()


def test_the_machine_wide_link_names_where_it_was_linked_from(
    folders: tuple[Path, Path],
) -> None:
    shop, other = folders
    (shop / "src").mkdir()
    links.save("p", "alice", PROJECT, ENV, cwd=shop / "src")  # recorded as the checkout
    own = links.find("p", "alice", cwd=shop)
    assert own is not None
    assert (own.checkout, own.machine_wide, own.origin) == (str(shop), False, None)
    assert linked_as(own) == "the environment linked to this checkout"
    machine = links.find("p", "alice", cwd=other)
    assert machine is not None
    assert (machine.checkout, machine.machine_wide) == (links.MACHINE_WIDE, True)
    assert machine.origin == str(shop)
    assert (machine.project_id, machine.environment_id) == (PROJECT, ENV)
    assert linked_as(machine) == f"this machine's environment, linked last from {shop}"


def test_a_store_without_the_origin_still_loads(folders: tuple[Path, Path]) -> None:
    shop, other = folders
    old = {"project_id": str(PROJECT), "environment_id": str(ENV), "linked_at": "2026-01-01"}
    store = {"version": 1, "links": {links.scope_key("p", "alice"): {str(shop): old, "*": old}}}
    links.store_path().parent.mkdir(parents=True)
    links.store_path().write_text(json.dumps(store))
    machine = links.find("p", "alice", cwd=other)
    assert machine is not None
    assert (machine.machine_wide, machine.origin, machine.environment_id) == (True, None, ENV)
    assert linked_as(machine) == "this machine's environment, linked last from another checkout"
    # Linking again records it; unlinking the checkout forgets both, as before.
    links.save("p", "alice", PROJECT, ENV, cwd=shop)
    again = links.find("p", "alice", cwd=other)
    assert again is not None
    assert again.origin == str(shop)
    assert links.remove("p", "alice", cwd=shop)
    assert links.find("p", "alice", cwd=other) is None


def test_a_state_folder_that_cannot_be_made_is_named_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file where the state folder goes: one sentence naming DevSync's state folder and the
    variable that chose it, not a bare 'Not a directory'."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(blocker / "state"))
    shop = tmp_path / "shop"
    shop.mkdir()
    with pytest.raises(InputError) as caught:
        links.save(None, None, PROJECT, ENV, cwd=shop)
    said = str(caught.value)
    assert said.startswith(f"DevSync's state folder {blocker / 'state'} (set by DEVSYNC_STATE_DIR)")
    assert "Not a directory" in said
