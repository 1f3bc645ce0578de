"""The tree's new / rename / delete: what it offers and what its actions check is one answer
(``tree_refusal``), per PERMISSIONS.md."""

from __future__ import annotations

from typing import cast
from uuid import uuid4

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.core.models import Environment, Identity, Project, Role, Team
from devsync_tui.dashboard.screens.tree_actions import TreeAction, tree_refusal
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.settings import Settings
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready

ME, SOMEONE = uuid4(), uuid4()
THEIR_TEAM = Team(uuid4(), "acme", "acme", owner_id=SOMEONE)
MY_TEAM = Team(uuid4(), "mine", "mine", owner_id=ME)
PROJECT = Project(uuid4(), THEIR_TEAM.id, "storefront")
MY_ENV = Environment(uuid4(), PROJECT.id, ME, "my-laptop")
THEIR_ENV = Environment(uuid4(), PROJECT.id, SOMEONE, "their-laptop")

SELECTIONS = {
    "their team": Selection(THEIR_TEAM),
    "my team": Selection(MY_TEAM),
    "project": Selection(THEIR_TEAM, PROJECT),
    "my env": Selection(THEIR_TEAM, PROJECT, MY_ENV, (MY_ENV, THEIR_ENV)),
    "their env": Selection(THEIR_TEAM, PROJECT, THEIR_ENV, (MY_ENV, THEIR_ENV)),
}
A, M, V = Role.ADMIN, Role.MEMBER, Role.VIEWER
#: (selection, action) -> the roles that may. "new" on a team is a project, else an environment.
MAY: dict[tuple[str, TreeAction], set[Role]] = {
    ("their team", "new"): {A, M},
    ("their team", "rename"): {A},
    ("their team", "delete"): set(),  # its owner only, and that is someone else
    ("my team", "delete"): {A, M, V},  # the owner (always an admin in practice)
    ("project", "new"): {A, M},
    ("project", "rename"): {A, M},
    ("project", "delete"): {A},
    ("my env", "new"): {A, M},
    ("my env", "rename"): {A, M},
    ("my env", "delete"): {A, M},
    ("their env", "rename"): {A},
    ("their env", "delete"): {A},
}


def _session(role: Role | None) -> Session:
    roles = {team.id: role for team in (THEIR_TEAM, MY_TEAM)} if role else {}
    return Session(cast(Backend, None), Identity(ME, "me"), roles, settings=Settings())


@pytest.mark.parametrize("role", [A, M, V, None], ids=lambda r: r.value if r else "outsider")
@pytest.mark.parametrize(("where", "action"), list(MAY), ids=" ".join)
def test_each_role_is_offered_what_permissions_allow(
    role: Role | None, where: str, action: TreeAction
) -> None:
    refusal = tree_refusal(_session(role), SELECTIONS[where], action)
    if role in MAY[(where, action)]:
        assert refusal is None
    else:
        assert refusal is not None
        assert refusal.startswith("Only ")


def test_nothing_selected_or_not_connected() -> None:
    assert tree_refusal(_session(Role.VIEWER), None, "new") is None  # a new team: anyone
    assert tree_refusal(_session(Role.ADMIN), None, "delete")
    assert tree_refusal(None, SELECTIONS["project"], "new")


@pytest.mark.db
async def test_the_offer_and_the_action_give_the_same_answer(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "carol", project="storefront")  # a viewer
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        main = app.main
        assert main.check_action("rename_item", ()) is False
        # Run anyway (a stale palette entry could): refused with the same rule's sentence.
        main.action_rename_item()
        said = "Only admins and members can rename projects."
        await wait_for(pilot, lambda: any(n.message == said for n in app._notifications))
        assert main.check_action("new_team", ()) is True  # not a tree-item action
