"""The footer at 80 columns: the keys that do not fit are left out, but never Quit and Help
(the help screen lists the keys left out)."""

from __future__ import annotations

import pytest

from devsync_tui.dashboard.widgets.footer import Footer
from tests.dashboard.conftest import footer_settled, make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane


def _keys(footer: Footer) -> list[str]:
    return [str(key.description) for key in footer.query("FooterKey")]


@pytest.mark.db
async def test_an_admins_table_footer_at_80x24_keeps_quit_and_help(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", size=(80, 24), project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        app.main.query_one("#config-table").focus()
        config_pane(app).go_to_key("DATABASE_URL")
        footer = app.main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer))
        await wait_ready(pilot)
        keys = _keys(footer)
        assert "Quit" in keys
        assert "Help" in keys
