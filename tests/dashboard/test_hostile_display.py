"""A stored value holding escape sequences is shown as symbols, never replayed into the
terminal (the table, the history and the conflict dialog all show other people's text)."""

from __future__ import annotations

import psycopg
import pytest

from tests.dashboard.conftest import make_test_app, wait_ready
from tests.dashboard.helpers import cell_text, config_pane
from tests.support import demo

pytestmark = pytest.mark.db

HOSTILE = "\x1b[2J\x1b]52;c;ZXZpbA==\x07rest"


async def test_escape_sequences_in_a_value_are_shown_not_replayed(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        # written past the RPC's checks, as an older client or a superuser could have
        conn.execute(
            "insert into public.configurations (project_id, environment_id, key, value, "
            "is_secret, type) values (%s, null, 'HOSTILE', %s, false, 'env_var')",
            (demo.PROJECT_STOREFRONT, HOSTILE),
        )
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        shown = cell_text(config_pane(app), "HOSTILE", 1)
        assert "\x1b" not in shown
        assert "\x07" not in shown
        assert shown.startswith("␛[2J␛]52")
        screen_text = "".join(
            segment.text
            for line in app.screen._compositor.render_update(full=True).strips  # type: ignore[union-attr]
            for segment in line
        )
        assert "\x1b" not in screen_text


async def test_bidi_overrides_in_a_value_are_neutralised(fresh_db_url: str) -> None:
    # "pay_\u202egpj.exe" would read as "pay_exe.jpg" on a screen that obeys the override.
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "insert into public.configurations (project_id, environment_id, key, value, "
            "is_secret, type) values (%s, null, 'BIDI', %s, false, 'env_var')",
            (demo.PROJECT_STOREFRONT, "pay_\u202egpj.exe\u200b"),
        )
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        shown = cell_text(config_pane(app), "BIDI", 1)
        assert shown.startswith("pay_\ufffdgpj.exe\ufffd")
        assert "\u202e" not in shown
        assert "\u200b" not in shown
