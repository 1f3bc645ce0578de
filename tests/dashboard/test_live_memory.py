"""A dashboard left open does not grow while teammates' changes arrive (issue 16): a change
does not rebuild the footer, and widgets a rebuild removes are freed, not kept alive by
the watchers Textual's footer registers for each key."""

from __future__ import annotations

import gc

import psycopg
import pytest
from textual.widget import Widget

from devsync_tui.dashboard.widgets.filter_table import FLASH_SECONDS
from devsync_tui.dashboard.widgets.footer import Footer
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import config_pane
from tests.support import demo

P = demo.PROJECT_STOREFRONT
ENV = demo.ENV_BOB_LAPTOP
CHANGES = 40


def _widgets() -> int:
    gc.collect()
    return sum(isinstance(o, Widget) for o in gc.get_objects())


@pytest.mark.db
async def test_changes_from_others_leave_the_footer_and_the_widget_count_alone(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds = 0
    recompose = Footer.recompose

    async def counted(self: Footer) -> None:
        nonlocal rebuilds
        rebuilds += 1
        await recompose(self)

    monkeypatch.setattr(Footer, "recompose", counted)
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        conn = await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True)

        async def change(i: int) -> None:
            await conn.execute(
                "select private.write_configuration(%s, %s, 'LIVE_MEMORY', %s, false, "
                "'env_var', %s)",
                (P, ENV, str(i), None if i == 0 else i),
            )
            await wait_for(
                pilot,
                lambda: any(r.key == "LIVE_MEMORY" and r.version == i + 1 for r in pane.view.rows),
                within=10,
            )
            await pilot.pause(0.05)

        try:
            for i in range(5):  # the first changes add the row and settle the footer
                await change(i)
            await pilot.pause(0.3)
            before_widgets, before_rebuilds = _widgets(), rebuilds
            for i in range(5, 5 + CHANGES):
                await change(i)
            await pilot.pause(0.3)
            after_widgets = _widgets()
        finally:
            await conn.close()
    assert rebuilds == before_rebuilds, f"{rebuilds - before_rebuilds} footer rebuilds"
    # Before the fix: ~20 new footer keys per change, never freed (800 here).
    assert after_widgets - before_widgets <= 5, (before_widgets, after_widgets)


@pytest.mark.db
async def test_a_footer_rebuild_frees_the_keys_it_replaced(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        footer = app.main.query_one(Footer)
        rebuilds = 0
        recompose = Footer.recompose

        async def counted(self: Footer) -> None:
            nonlocal rebuilds
            rebuilds += 1
            await recompose(self)

        # Focus moving between the tree and the table changes the keys shown: a rebuild each.
        for _ in range(2):
            await pilot.press("tab")
            await pilot.pause(0.1)
        before = _widgets()
        footer.recompose = counted.__get__(footer)  # type: ignore[method-assign]
        for _ in range(10):
            await pilot.press("tab")
            await pilot.pause(0.1)
        after = _widgets()
        assert rebuilds >= 5, "focus changes rebuilt the footer"
        assert after - before <= 2, "replaced footer keys are still alive"
        assert footer.query("FooterKey"), "the footer shows keys"


def _tracked() -> int:
    gc.collect()
    return len(gc.get_objects())


@pytest.mark.db
async def test_changes_from_others_leave_no_objects_behind(fresh_db_url: str) -> None:
    """Each change patches its row in place and flashes it; nothing of that stays alive (a
    DataTable patched in place kept every stale rendering in its caches, which full
    collections then walked: ~100 ms pauses after 3,000 changes)."""
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        conn = await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True)

        async def changes(first: int, count: int) -> None:
            for i in range(first, first + count):
                await conn.execute(
                    "select private.write_configuration(%s, %s, 'LIVE_OBJECTS', %s, false, "
                    "'env_var', %s)",
                    (P, ENV, f"value-{i:04}", None if i == 0 else i),
                )
                await wait_for(
                    pilot,
                    lambda i=i: any(  # type: ignore[misc]
                        r.key == "LIVE_OBJECTS" and r.version == i + 1 for r in pane.view.rows
                    ),
                    within=10,
                )
                await pilot.pause(0.05)
            await pilot.pause(FLASH_SECONDS + 0.5)  # every flash has ended

        try:
            await changes(0, 10)
            before = _tracked()
            await changes(10, CHANGES)
            after = _tracked()
        finally:
            await conn.close()
    # Before the fix: ~300 objects more per change (stale cell renderings), never freed.
    assert (after - before) / CHANGES <= 20, (before, after)
