"""The Configuration tab marks required keys the environment lacks (its template's
``"required": true`` entries): a line above the table, gone once the key is set; a snapshot at
80×24 and 120×40."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.widgets.footer import Footer
from tests.dashboard.conftest import footer_settled, make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane, other_client
from tests.support import demo

pytestmark = pytest.mark.db

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def _require(db_url: str) -> None:
    """bob-laptop's template (Node.js Starter) requires SENTRY_DSN, which bob-laptop lacks,
    and NODE_ENV, which it inherits."""
    config = {"NODE_ENV": {"value": "development", "required": True}}
    config["SENTRY_DSN"] = {"required": True}
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "update env_templates set config_json = %s where id = %s",
            (json.dumps(config), demo.TEMPLATE_NODE_STARTER),
        )


def _line(app: Any) -> Static:
    return config_pane(app).query_one("#config-required", Static)


async def test_a_missing_required_key_is_marked_until_it_is_set(fresh_db_url: str) -> None:
    _require(fresh_db_url)
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: _line(app).display)
        text = str(_line(app).render())
        assert "Missing required: SENTRY_DSN (template Node.js Starter)" in text
        assert "NODE_ENV" not in text  # present (inherited): not missing
        async with other_client(fresh_db_url, "bob") as other:
            await other.save_configuration(
                demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, "SENTRY_DSN", "https://k@s/1",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=None,
            )  # fmt: skip
        await wait_for(pilot, lambda: not _line(app).display)


async def test_nothing_is_marked_without_a_template_or_for_project_defaults(
    fresh_db_url: str,
) -> None:
    _require(fresh_db_url)
    for target in ({"env": "staging"}, {}):
        app = make_test_app(fresh_db_url, "erin", project="storefront", **target)
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot)
            pane = config_pane(app)
            await wait_for(pilot, lambda p=pane: bool(p.view and p.view.rows))
            assert not _line(app).display


@pytest.mark.parametrize("size", SIZES)
def test_snapshot(
    snap_compare: Any, fresh_db_url: str, frozen_clock: Any, size: tuple[int, int]
) -> None:
    _require(fresh_db_url)
    app = make_test_app(fresh_db_url, "bob", size=size, project="storefront", env="bob-laptop")

    async def steps(pilot: Pilot[Any]) -> None:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: _line(pilot.app).display)
        await wait_ready(pilot)
        # The tree takes the focus back after the screen's first activation gave it to the
        # table: the footer's keys follow a frame later (not a fixed wait).
        footer = pilot.app.main.query_one(Footer)
        await wait_for(pilot, lambda: footer_settled(footer), within=20)

    assert snap_compare(app, terminal_size=size, run_before=steps)
