"""The drift pane with 100k dependency rows (200 environments × 500 packages + the baseline)
on real Postgres: it opens, shows the right cells, scrolls to the last environment and filters.
Content only; the timing targets are measured in bench/bench_drift_view.py."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest
from textual.widget import Widget

from devsync_tui.core.models import DependencySummary
from devsync_tui.dashboard.panes.drift import DriftLoaded, DriftPane
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable
from tests.dashboard.pane_host import PaneHost, settle
from tests.support import demo

pytestmark = pytest.mark.db

ENVS, PACKAGES = 200, 500

# Every 50th (package + environment) runs 1.0.1 instead of the baseline's 1.0.0. Written as
# the superuser with per-row triggers off: volume for the view, not a history of changes.
_GENERATE = """
set session_replication_role = replica;
insert into public.projects (id, team_id, name)
values ('00000000-0000-4000-c000-00000000beef', %(team)s, 'monolith');
insert into public.environments (id, project_id, user_id, name, status)
select ('00000000-0000-4000-d000-00beef' || lpad(to_hex(e), 6, '0'))::uuid,
       '00000000-0000-4000-c000-00000000beef', %(owner)s, 'env-' || lpad(e::text, 3, '0'), 'active'
from generate_series(1, %(envs)s) as e;
insert into public.dependencies (project_id, environment_id, package_manager, package_name,
                                 version_constraint, resolved_version, status)
select '00000000-0000-4000-c000-00000000beef', null, 'npm', 'pkg-' || lpad(p::text, 5, '0'),
       '^1.0.0', '1.0.0', 'healthy'
from generate_series(0, %(packages)s - 1) as p;
insert into public.dependencies (project_id, environment_id, package_manager, package_name,
                                 version_constraint, resolved_version, status)
select '00000000-0000-4000-c000-00000000beef',
       ('00000000-0000-4000-d000-00beef' || lpad(to_hex(e), 6, '0'))::uuid, 'npm',
       'pkg-' || lpad(p::text, 5, '0'), '^1.0.0',
       case when (p + e) %% 50 = 0 then '1.0.1' else '1.0.0' end, 'healthy'
from generate_series(1, %(envs)s) as e cross join generate_series(0, %(packages)s - 1) as p;
"""
PROJECT = "00000000-0000-4000-c000-00000000beef"


def loaded(pane: Widget) -> bool:
    return isinstance(pane, DriftPane) and pane.matrix is not None and not pane.loading_more


async def test_100k_dependency_rows_open_scroll_and_filter(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        params = {
            "team": demo.TEAM_ACME,
            "owner": demo.ALICE.id,
            "envs": ENVS,
            "packages": PACKAGES,
        }
        for statement in _GENERATE.split(";\n")[:-1]:
            conn.execute(statement, params)
        count = conn.execute(
            "select count(*) from public.dependencies where project_id = %s", (PROJECT,)
        ).fetchone()
    assert count == (ENVS * PACKAGES + PACKAGES,)

    app = PaneHost(fresh_db_url, "alice", DriftPane, UUID(PROJECT))
    loads: list[DriftLoaded] = []

    def hook(message: object) -> None:
        # The hook sees a message more than once (posted, then processed): keep it once.
        if isinstance(message, DriftLoaded) and all(m is not message for m in loads):
            loads.append(message)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot, loaded, seconds=120)
        # A big project shows the whole packages read so far while it loads (its first
        # pages after SHOW_FIRST seconds, more every SHOW_EVERY), then everything.
        assert len(loads) >= 2
        assert [m.partial for m in loads] == [True] * (len(loads) - 1) + [False]
        first = loads[0].matrix
        assert 0 < len(first.rows) < PACKAGES
        assert all(all(cell is not None for cell in row.cells) for row in first.rows)
        pane = app.query_one(DriftPane)
        table = app.query_one(DriftMatrixTable)
        assert len(table.rows) == PACKAGES
        assert len(table.columns) == 2 + ENVS
        assert table.columns[-1].label == "env-200"
        line = table.render_line(1).text
        # pkg-00000 differs where e % 50 == 0: env-050 is off screen, env-001..007 match.
        assert line.startswith("≠ npm pkg-00000")
        assert "= 1.0.0" in line
        assert "≠" not in line[len("≠ npm pkg-00000") :]
        # Drifted: every package has some environment with (p + e) % 50 == 0.
        assert "500 packages · 500 drifted · 0 vulnerable · 0 missing · 200 envs" in str(
            app.query_one("#drift-status").render()
        )
        # While its pages arrived, the pane asked the database for the team-wide counts:
        # the same as the whole matrix's.
        assert pane.summary == DependencySummary(packages=500, vulnerable=0, missing=0, drifted=500)
        assert pane.matrix is not None
        assert pane.matrix.summary() == pane.summary
        # What the status line said then: the first page, with the database's totals.
        pane.post_message(DriftLoaded(UUID(PROJECT), first, live=False, partial=True))
        await pilot.pause()
        status = str(app.query_one("#drift-status").render())
        # Drifted too: the database's count, not the first page's.
        assert status.startswith(f"{len(first.rows)} of 500 packages · 500 drifted · ")
        assert "500 drifted · 0 vulnerable · 0 missing · 200 envs" in status
        assert status.endswith("loading the rest…")
        pane._read_all(live=False)  # and whole again
        await pilot.pause(0.2)
        await settle(pilot, loaded, seconds=120)

        await pilot.press("end")  # last row
        for _ in range(ENVS + 1):
            table.action_cursor_right()
        await pilot.pause()
        assert table.cursor_column == 1 + ENVS
        header = table.render_line(0).text
        assert header.startswith("package")
        assert header.rstrip().endswith("env-200")
        last = table.render_line(table.scrollable_content_region.height - 1).text
        assert last.startswith("≠ npm pkg-00499")
        # (499 + 200) % 50 != 0 but (499 + 151) % 50 == 0: env-151 differs, env-200 matches.
        assert last.rstrip().endswith("= 1.0.0")

        await pilot.press("slash", *"pkg-0042")
        assert [row.package_name for row in table.rows] == [f"pkg-{n:05d}" for n in range(420, 430)]
        await pilot.press("0")
        assert [row.package_name for row in table.rows] == ["pkg-00420"]
        row = table.rows[0]
        differing = [i + 1 for i, cell in enumerate(row.cells) if cell and cell.version == "1.0.1"]
        assert differing == [e for e in range(1, ENVS + 1) if (420 + e) % 50 == 0]
        assert "1 of 500 packages" in str(app.query_one("#drift-status").render())
        await pilot.press("escape")
        assert len(table.rows) == PACKAGES
        assert pane.matrix is not None
