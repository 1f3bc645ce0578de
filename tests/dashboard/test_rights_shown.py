"""Rights shown, not only enforced: what the user may not do to the selected row is not
offered (footer, palette, help); copying a secret keeps it masked and the clipboard is
emptied after the reveal timeout; screenshots mask secrets and are 0600; a read-only
dashboard offers and performs no write and no reveal."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer

from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.dashboard.palette import ActionsProvider
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane, tab_key

pytestmark = pytest.mark.db


def _offered(app: Any) -> set[str]:
    """What the footer shows and the palette runs, by label."""
    footer = app.main.query_one(Footer)
    shown = {str(k.description) for k in footer.query("FooterKey")}
    palette = {a.name for a in ActionsProvider(app.main)._actions()}
    return shown | palette


async def _on_key(app: Any, pilot: Any, key: str) -> None:
    pane = config_pane(app)
    pane.go_to_key(key)
    await pilot.pause()
    await pilot.pause()


async def test_a_viewer_is_offered_no_reveal_copy_or_writes(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "carol", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _on_key(app, pilot, "STRIPE_SECRET_KEY")
        offered = _offered(app)
        assert "History" in offered
        assert not offered & {"Reveal", "Copy", "Edit", "New", "Delete"}


async def test_a_member_on_another_members_environment_may_not_edit(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "bob", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _on_key(app, pilot, "API_BASE_URL")
        offered = _offered(app)
        assert not offered & {"Edit", "New", "Delete", "Reveal"}
        assert "Copy" in offered  # a plain value may be copied


async def test_a_member_on_his_own_environment_may(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _on_key(app, pilot, "DATABASE_URL")
        assert {"Edit", "New", "Delete", "Reveal", "Copy"} <= _offered(app)
        await _on_key(app, pilot, "NODE_ENV")  # an inherited default: overridden, not deleted
        offered = _offered(app)
        assert "Edit" in offered
        assert not offered & {"Delete", "Reveal"}


async def test_copying_a_secret_keeps_it_masked_and_the_clipboard_is_emptied(
    fresh_db_url: str,
) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    app.settings.reveal_timeout = 0.5
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _on_key(app, pilot, "DATABASE_URL")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard.startswith("postgres://"))
        pane = config_pane(app)
        assert pane.revealed == {}
        assert cell_text(pane, "DATABASE_URL", 1) == "••••••••"
        assert "postgres://" not in str(pane.query_one("#config-detail").render())
        await wait_for(pilot, lambda: app.clipboard == "", within=3)


async def test_screenshot_masks_secrets_and_is_private(fresh_db_url: str, tmp_path: Path) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await _on_key(app, pilot, "DATABASE_URL")
        await pilot.press("r")
        pane = config_pane(app)
        await wait_for(pilot, lambda: bool(pane.revealed))
        secret = next(iter(pane.revealed.values()))
        await wait_for(pilot, lambda: "postgres://" in cell_text(pane, "DATABASE_URL", 1))
        app.deliver_screenshot("shot.svg", str(tmp_path))
        shot = tmp_path / "shot.svg"
        assert stat.S_IMODE(shot.stat().st_mode) == 0o600
        text = shot.read_text(encoding="utf-8").replace("&#160;", " ")
        assert "DATABASE_URL" in text
        for piece in ("demo-local-password", secret[:12], "storefront_dev"):
            assert piece not in text
        assert app.save_screenshot("again.svg", str(tmp_path))
        assert stat.S_IMODE((tmp_path / "again.svg").stat().st_mode) == 0o600


def test_screenshot_goes_where_it_can_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ~/Downloads (a server over SSH): the folder DevSync was started in."""
    from devsync_tui.dashboard import screenshot

    monkeypatch.setattr(screenshot, "user_downloads_path", lambda: tmp_path / "Downloads")
    monkeypatch.chdir(tmp_path)
    assert screenshot.screenshot_folder() == tmp_path
    (tmp_path / "Downloads").mkdir()
    assert screenshot.screenshot_folder() == tmp_path / "Downloads"


async def test_a_screenshot_that_cannot_be_saved_names_where(
    fresh_db_url: str, tmp_path: Path
) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        missing = tmp_path / "no-such-folder"
        app.deliver_screenshot("shot.svg", str(missing))
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any(f"Could not save the screenshot to {missing}" in m for m in said), said


async def test_read_only_offers_and_performs_no_write_or_reveal(demo_db_url: str) -> None:
    app = make_test_app(demo_db_url, "alice", project="storefront", env="ci-runner")
    app.settings.read_only = True
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        assert app.main.header.role == "admin · read-only"
        await _on_key(app, pilot, "STRIPE_SECRET_KEY")
        offered = _offered(app)
        assert not offered & {"Edit", "New", "Delete", "Reveal", "Rename", "New team"}
        app.main.nav_tree.focus()
        await pilot.pause()
        assert not _offered(app) & {"New", "Rename", "Delete", "New team"}
        for key in ("n", "e", "d", "N"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.main  # no dialog opened
        app.main.query_one("#config-table").focus()
        for key in ("r", "enter", "d", "n"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.main
        assert config_pane(app).revealed == {}
        # Below the UI too: the backend the dashboard holds refuses writes and reveals.
        session = app.main.session
        assert session is not None
        row = config_pane(app).selected()
        assert row is not None
        with pytest.raises(PermissionDenied, match="read-only"):
            await session.backend.reveal_secret(row.configuration_id)
        with pytest.raises(PermissionDenied, match="read-only"):
            await session.backend.delete_configuration(row.configuration_id, row.version)
        with pytest.raises(PermissionDenied, match="read-only"):
            await session.backend.create_team("x", "x")
        # Reads still work, the audit log included (alice is an admin).
        assert await session.backend.list_teams()
        # Members: an admin's add, role, remove, and leave are gone.
        await pilot.press(tab_key("members"))
        await wait_ready(pilot)
        app.main.query_one("#members-table").focus()
        await pilot.pause()
        assert not _offered(app) & {"Add", "Role", "Remove", "Leave"}
        await pilot.press("L")
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press(tab_key("activity"))
        await wait_ready(pilot)
        assert "admins" not in str(app.main.query_one("#activity-pane").render())
