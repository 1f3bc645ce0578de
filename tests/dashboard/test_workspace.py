"""Teams, members, projects, environments, templates and activity, on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select, TabbedContent

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.panes.activity import ActivityPane
from devsync_tui.dashboard.panes.members import MembersPane
from devsync_tui.dashboard.panes.templates import TemplatesPane
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, FormDialog
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import other_client, query_one
from tests.support import demo

pytestmark = pytest.mark.db


async def _tab(pilot, name: str) -> None:
    pilot.app.main.query_one(TabbedContent).active = name
    await pilot.pause()


async def test_team_target_opens_members(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        assert app.main.query_one(TabbedContent).active == "members"
        pane = app.main.query_one(MembersPane)
        assert {m.username for m in pane.members} == {"alice", "bob", "carol", "dave", "erin"}


async def test_admin_adds_a_member(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = app.main.query_one(MembersPane)
        pane.query_one("#members-table").focus()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        app.screen.query_one("#f-username", Input).value = "mallory"
        app.screen.query_one("#f-role", Select).value = "viewer"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any(m.username == "mallory" for m in pane.members))
        role = query_one(
            fresh_db_url,
            "select role from public.team_members where team_id = %s and user_id = %s",
            (demo.TEAM_ACME, demo.MALLORY.id),
        )
        assert role == "viewer"


async def test_viewer_cannot_add_members(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "carol", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#members-table").focus()
        await pilot.pause()
        offered = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "leave_team" in offered
        assert not {"add_member", "remove_member", "select_cursor"} & offered
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)


async def test_member_leaves_the_team(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "dave", team="acme")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#members-table").focus()
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#confirm")
        await wait_for(
            pilot,
            lambda: (
                query_one(
                    fresh_db_url,
                    "select count(*) from public.team_members where user_id = %s",
                    (demo.DAVE.id,),
                )
                == 0
            ),
        )


async def test_activity_is_for_admins_only(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "carol", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _tab(pilot, "activity")
        hint = str(app.main.query_one("#activity-hint").render())
        assert hint == "Only admins of Acme see its activity log."
    app = make_test_app(demo_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: bool(app.main.query(ActivityPane)))
        pane = app.main.query_one(ActivityPane)
        table = pane.query_one("#activity-rows").table  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: pane.reads.waiting)  # hidden: the log is not read yet
        assert table.row_count == 0
        await _tab(pilot, "activity")
        await wait_for(pilot, lambda: table.row_count > 0)


async def test_environment_from_a_template(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        app.screen.query_one("#f-name", Input).value = "bob-desktop"
        app.screen.query_one("#f-template", Select).value = str(demo.TEMPLATE_NODE_STARTER)
        await pilot.press("ctrl+s")
        sql = "select count(*) from public.environments where name = 'bob-desktop'"
        await wait_for(pilot, lambda: query_one(fresh_db_url, sql) == 1)
        copied = query_one(
            fresh_db_url,
            "select count(*) from public.configurations c join public.environments e "
            "on e.id = c.environment_id where e.name = 'bob-desktop'",
        )
        assert copied > 0
        await wait_for(pilot, lambda: any(
            i.environment is not None and i.environment.name == "bob-desktop"
            for i in app.main.nav_tree.items()
        ))  # fmt: skip


async def test_rename_and_delete_project(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="billing-api")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.nav_tree.focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.screen.query_one("#f-name", Input).value == "billing-api"
        app.screen.query_one("#f-name", Input).value = "billing"
        await pilot.press("ctrl+s")
        sql = "select name from public.projects where id = %s"
        await wait_for(
            pilot, lambda: query_one(fresh_db_url, sql, (demo.PROJECT_BILLING,)) == "billing"
        )
        await wait_ready(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: query_one(fresh_db_url, sql, (demo.PROJECT_BILLING,)) is None)


async def test_template_list_and_create(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _tab(pilot, "templates")
        await wait_ready(pilot)
        pane = app.main.query_one(TemplatesPane)
        assert {t.name for t in pane.templates} == {"Node.js Starter", "Storefront CI"}
        pane.query_one("#templates-rows").table.focus()  # type: ignore[attr-defined]
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        app.screen.query_one("#f-name", Input).value = "from-bob"
        await pilot.press("ctrl+s")
        sql = "select config_json from public.env_templates where name = 'from-bob'"
        await wait_for(pilot, lambda: query_one(fresh_db_url, sql) is not None)
        config = query_one(fresh_db_url, sql)
        assert config["BOB_DEBUG_PORT"] == "9229"
        assert "DATABASE_URL" not in config  # secret values never go into a template
        # .npmrc (inherited) controls execution: only admins may put it in a template, so a
        # member's template leaves it out and says so, instead of failing whole.
        assert ".npmrc" not in config
        assert config["config/app.json"]["type"] == "file"
        created = "Template from-bob created without .npmrc (only admins may put it in a template)."
        await wait_for(pilot, lambda: any(n.message == created for n in app._notifications))


async def test_export_dotenv_omits_secrets_the_user_may_not_see(
    demo_db_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "carol.env"
    app = make_test_app(demo_db_url, "carol", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#config-table").focus()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.screen.query_one("#f-path", Input).value == "bob-laptop.env"
        app.screen.query_one("#f-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await wait_for(pilot, target.exists)
        await wait_ready(pilot)
        text = target.read_text()
        assert "BOB_DEBUG_PORT='9229'" in text or "BOB_DEBUG_PORT=9229" in text
        assert "DATABASE_URL" not in text
        assert any("Left out" in n.message for n in app._notifications)


async def test_create_a_team(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "mallory")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_for(pilot, lambda: app.main.loaded)
        assert "no team yet" in str(app.main.query_one("#status-line").render())
        app.main.nav_tree.focus()
        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog))
        app.screen.query_one("#f-name", Input).value = "Moss Labs"
        await pilot.press("ctrl+s")
        sql = "select owner_id from public.teams where slug = 'moss-labs'"
        await wait_for(pilot, lambda: query_one(fresh_db_url, sql) == demo.MALLORY.id)
        await wait_for(
            pilot, lambda: any(i.team.name == "Moss Labs" for i in app.main.nav_tree.items())
        )


def _visible_rows(pane: ActivityPane) -> list[str]:
    """The "What" of the activity rows on screen, top first (scrolled-away rows excluded)."""
    table = pane.query_one("#activity-rows", FilterableTable).table
    first = int(table.scroll_y)
    return [str(table.get_row_at(i)[2]) for i in range(first, min(first + 3, table.row_count))]


async def test_activity_shows_entries_made_while_its_tab_was_hidden(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _tab(pilot, "activity")
        await wait_ready(pilot)
        pane = app.main.query_one(ActivityPane)
        pane.query_one("#activity-rows", FilterableTable).focus_table()
        await _tab(pilot, "configuration")
        async with other_client(fresh_db_url, "bob") as bob:
            for version, value in ((1, "9001"), (2, "9002")):
                await bob.save_configuration(
                    demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "BOB_DEBUG_PORT", value,
                    is_secret=False, type=ConfigType.ENV_VAR, expected_version=version,
                )  # fmt: skip
                await pilot.pause(0.3)
        # Both changes reached the (hidden) pane through the live feed.
        await wait_for(pilot, lambda: pane._entries[0].details.get("version") == 3)
        # Another selection and back, then the tab: the newest entry is the first row shown.
        tree = app.main.nav_tree
        tree.select_item((demo.TEAM_ACME, demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP))
        await wait_ready(pilot)
        tree.select_item((demo.TEAM_ACME, demo.PROJECT_STOREFRONT, None))
        await wait_ready(pilot)
        await _tab(pilot, "activity")
        await pilot.pause(0.2)
        shown = _visible_rows(pane)
        assert shown[:2] == ["changed BOB_DEBUG_PORT (v3)", "changed BOB_DEBUG_PORT (v2)"]
        # Same four columns, all of them inside the pane.
        table = pane.query_one("#activity-rows", FilterableTable).table
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["When", "Who", "What", "Where"]
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= pane.size.width
