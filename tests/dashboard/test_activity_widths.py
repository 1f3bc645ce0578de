"""The Activity table's columns stay bounded: one long environment name (a "Where") does not
squeeze every description ("What") to a few characters, and every cut cell ends in "…"."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.panes.activity import ActivityPane
from devsync_tui.dashboard.widgets.filter_table import FilterableTable
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import other_client, tab_key
from tests.support import demo

pytestmark = pytest.mark.db

LONG_ENV = "qa-ünïcødé-環境-very-long-environment-name-for-testing-truncation"
LONG_KEY = "LONG_VAL_WITH_A_RATHER_DESCRIPTIVE_NAME"


def _plain(cell: object) -> str:
    return getattr(cell, "plain", str(cell))


async def test_a_long_environment_name_leaves_the_descriptions_their_room(
    fresh_db_url: str,
) -> None:
    async with other_client(fresh_db_url, "alice") as alice:
        env = await alice.create_environment(demo.PROJECT_STOREFRONT, LONG_ENV)
        await alice.save_configuration(
            demo.PROJECT_STOREFRONT, env.id, LONG_KEY, "v", is_secret=False,
            type=ConfigType.ENV_VAR, expected_version=None,
        )  # fmt: skip
    app = make_test_app(fresh_db_url, "alice", size=(100, 30), project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await pilot.press(tab_key("activity"))
        pane = app.main.query_one(ActivityPane)
        table = pane.query_one(FilterableTable).table
        await wait_for(pilot, lambda: table.row_count > 0)
        await wait_ready(pilot)
        widths = [c.width for c in table.ordered_columns]
        assert sum(widths) + 2 * len(widths) <= pane.size.width
        what = widths[2]
        assert what >= 30, widths
        rows = [[_plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        created = next(r for r in rows if LONG_KEY[:20] in r[2])
        assert created[3].endswith("…")  # the long name is cut, visibly
        for row in rows:
            for cell, width in zip(row, widths, strict=True):
                assert cell_len(cell) <= width, (cell, width)
