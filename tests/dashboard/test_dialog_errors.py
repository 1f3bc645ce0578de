"""A write the server refuses keeps its dialog open: the server's sentence is shown in the
dialog, everything typed stays, nothing is written; correcting the input and saving succeeds
and closes it. On a real database (fresh_db_url), as a user would type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Button, Input, Select, Static

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.panes.members import MembersPane
from devsync_tui.dashboard.screens.dialogs import Field, FormDialog, FormValues
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import query_one
from tests.support import demo

pytestmark = pytest.mark.db


@asynccontextmanager
async def _backend(db_url: str, user: str = "alice") -> AsyncIterator[PostgresBackend]:
    backend = PostgresBackend(db_url, user, embedded=False)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def _error(app: App[Any]) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def _save_and_expect(pilot: Any, sentence: str) -> None:
    """Save; the dialog stays and shows ``sentence``, its buttons usable again."""
    app = pilot.app
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: _error(app) == sentence and not app.screen.saving)
    assert isinstance(app.screen, FormDialog)
    assert not app.screen.query_one("#form-error", Static).has_class("-empty")
    assert not app.screen.query_one("#submit", Button).disabled


async def test_add_member_refusals_stay_in_the_dialog(fresh_db_url: str) -> None:
    members_sql = "select count(*) from public.team_members where team_id = %s"
    before = query_one(fresh_db_url, members_sql, (demo.TEAM_ACME,))
    app = make_test_app(fresh_db_url, "alice", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = app.main.query_one(MembersPane)
        pane.query_one("#members-table").focus()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        username = dialog.query_one("#f-username", Input)
        role = dialog.query_one("#f-role", Select)
        await pilot.click("#f-username")
        await pilot.press(*"nosuchuser")
        role.value = "viewer"
        await _save_and_expect(pilot, 'No user is named "nosuchuser".')
        assert username.value == "nosuchuser"
        assert role.value == "viewer"

        username.value = "bob"
        await _save_and_expect(pilot, "bob is already a member of Acme.")
        assert app.screen is dialog
        assert (username.value, role.value) == ("bob", "viewer")
        assert query_one(fresh_db_url, members_sql, (demo.TEAM_ACME,)) == before

        username.value = "mallory"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        await wait_for(pilot, lambda: any(m.username == "mallory" for m in pane.members))
    async with _backend(fresh_db_url) as backend:
        found = {m.username: m.role.value for m in await backend.list_members(demo.TEAM_ACME)}
    assert found["mallory"] == "viewer"
    assert found["bob"] == "member"  # the refused add changed nothing


async def test_new_team_with_a_taken_slug_stays_in_the_dialog(fresh_db_url: str) -> None:
    teams_sql = "select count(*) from public.teams"
    before = query_one(fresh_db_url, teams_sql)
    app = make_test_app(fresh_db_url, "mallory")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_for(pilot, lambda: app.main.loaded)
        app.main.nav_tree.focus()
        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        name = app.screen.query_one("#f-name", Input)
        slug = app.screen.query_one("#f-slug", Input)
        name.value, slug.value = "Acme Two", "acme"
        await _save_and_expect(pilot, 'A team with slug "acme" already exists.')
        assert (name.value, slug.value) == ("Acme Two", "acme")
        assert query_one(fresh_db_url, teams_sql) == before

        slug.value = "acme-two"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
        await wait_for(
            pilot, lambda: any(i.team.name == "Acme Two" for i in app.main.nav_tree.items())
        )
    async with _backend(fresh_db_url, "mallory") as backend:
        teams = {t.slug: t for t in await backend.list_teams()}
    assert teams["acme-two"].name == "Acme Two"
    assert teams["acme-two"].owner_id == demo.MALLORY.id


async def test_too_long_environment_name_stays_in_the_dialog(fresh_db_url: str) -> None:
    envs_sql = "select count(*) from public.environments where project_id = %s"
    before = query_one(fresh_db_url, envs_sql, (demo.PROJECT_STOREFRONT,))
    long_name = "x" * 300
    app = make_test_app(fresh_db_url, "bob", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        name = app.screen.query_one("#f-name", Input)
        name.value = long_name
        await _save_and_expect(pilot, "An environment name must have 1 to 200 characters.")
        assert name.value == long_name
        assert query_one(fresh_db_url, envs_sql, (demo.PROJECT_STOREFRONT,)) == before

        name.value = "bob-desktop"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
    async with _backend(fresh_db_url, "bob") as backend:
        envs = {e.name: e for e in await backend.list_environments(demo.PROJECT_STOREFRONT)}
    assert envs["bob-desktop"].user_id == demo.BOB.id
    assert long_name not in envs


async def test_rename_to_a_taken_name_stays_in_the_dialog(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="billing-api")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        name = app.screen.query_one("#f-name", Input)
        name.value = "storefront"
        await _save_and_expect(pilot, "A project with that name already exists in this team.")
        assert name.value == "storefront"
        name.value = "billing"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
    async with _backend(fresh_db_url) as backend:
        names = {p.id: p.name for p in await backend.list_projects(demo.TEAM_ACME)}
    assert names[demo.PROJECT_BILLING] == "billing"
    assert names[demo.PROJECT_STOREFRONT] == "storefront"


class _FormApp(App[None]):
    """Just a FormDialog whose save fails while the network is down, then works."""

    def __init__(self) -> None:
        super().__init__()
        self.network_up = False
        self.saved: list[FormValues] = []
        self.closed_with: list[FormValues | None] = []

    async def save(self, values: FormValues) -> None:
        if not self.network_up:
            raise Unavailable("The database is not available right now; try again in a moment.")
        self.saved.append(values)

    def on_mount(self) -> None:
        dialog = FormDialog("New thing", [Field("name", "Name")], on_submit=self.save)
        self.push_screen(dialog, self.closed_with.append)


async def test_unavailable_is_shown_inline_and_the_input_kept() -> None:
    app = _FormApp()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.click("#f-name")
        await pilot.press(*"laptop")
        await _save_and_expect(
            pilot, "The database is not available right now; try again in a moment."
        )
        assert app.screen.query_one("#f-name", Input).value == "laptop"
        assert app.screen.query_one("#f-name", Input).has_focus
        assert app.saved == []
        assert app.closed_with == []
        app.network_up = True
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormDialog))
    assert app.saved == [{"name": "laptop"}]
    assert app.closed_with == [{"name": "laptop"}]
