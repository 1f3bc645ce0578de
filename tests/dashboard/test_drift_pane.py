"""DriftPane on the local transport over the seeded demo: the matrix cells, drifted-only,
severity sort, the filter, the package detail and live changes from another user."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any
from uuid import UUID

import psycopg
import pytest
from textual.widget import Widget

from devsync_tui.backend.base import ChangeEvent, Resync
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.core.drift import build_matrix
from devsync_tui.core.models import DependencyInput, DependencyStatus, PackageManager
from devsync_tui.dashboard.panes import drift
from devsync_tui.dashboard.panes.drift import (
    QUICK_ROWS,
    DriftLoaded,
    DriftPane,
    _fitted,
    first_pages,
)
from devsync_tui.dashboard.screens.drift_detail import PackageDetailScreen, PackageDetailTable
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable
from tests.dashboard.pane_host import PaneHost, settle
from tests.support import demo

pytestmark = pytest.mark.db

ENV_COLUMNS = ["bob-laptop", "ci-runner", "staging"]  # list_environments orders by name
PROJECT, OTHER = demo.PROJECT_STOREFRONT, demo.PROJECT_BILLING


def loaded(pane: Widget) -> bool:
    return isinstance(pane, DriftPane) and pane.matrix is not None and not pane.loading_more


def names(table: DriftMatrixTable) -> list[str]:
    return [row.package_name for row in table.rows]


def cells_by_package(table: DriftMatrixTable) -> dict[str, list[str]]:
    """What each column renders per package: [baseline, bob-laptop, ci-runner, staging]."""
    out = {}
    for row in table.rows:
        out[row.package_name] = [column.render(row)[0] for column in table.columns[1:]]
    return out


async def test_matrix_shows_each_environments_version_and_state(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "carol", DriftPane, demo.PROJECT_STOREFRONT)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, loaded)
        table = app.query_one(DriftMatrixTable)
        assert [c.label for c in table.columns] == ["package", "baseline", *ENV_COLUMNS]
        assert sorted(names(table)) == sorted(
            ["axios", "express", "jest", "left-pad", "lodash", "next", "react", "react-dom",
             "requests", "typescript"]
        )  # fmt: skip
        cells = cells_by_package(table)
        assert cells["react"] == ["18.2.0", "= 18.2.0", "= 18.2.0", "= 18.2.0"]
        assert cells["lodash"][1] == "! 4.17.20"  # vulnerable on bob's laptop
        assert cells["requests"][1] == "! 2.28.2"
        assert cells["next"][1] == "✗ 13.5.6"  # below ^14.1.0
        assert cells["typescript"][2] == "✗ 5.4.2"  # outside ~5.3.0 on ci-runner
        assert cells["axios"][3] == "↑ 1.6.2"  # outdated on staging
        assert cells["express"][1] == "∅ —"  # missing on bob's laptop
        assert cells["left-pad"] == ["·", "≠ 1.3.0", "·", "·"]  # only on bob's laptop
        # What is on screen is what the columns render (the visible part of the table).
        screen = [table.render_line(y).text for y in range(table.size.height)]
        lodash = next(line for line in screen if "lodash" in line)
        assert "! 4.17.20" in lodash
        assert "= 4.17.21" in lodash
        status = str(app.query_one("#drift-status").render())
        assert "10 packages" in status
        assert "3 envs" in status
        legend = str(app.query_one("#drift-legend").render())
        assert "! vulnerable" in legend
        assert "∅ missing" in legend


async def test_drifted_only_sort_filter_and_escape(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, loaded)
        table = app.query_one(DriftMatrixTable)
        await pilot.press("f")
        assert "react" not in names(table)
        assert "react-dom" not in names(table)
        assert all(row.worst > 0 for row in table.rows)
        await pilot.press("s")
        worst = [row.worst for row in table.rows]
        assert worst == sorted(worst, reverse=True)
        assert names(table)[:2] == ["lodash", "requests"]  # vulnerable first, then by name
        await pilot.press("slash", "r", "e")
        assert table.filter_text == "re"
        assert names(table) == ["requests", "express"]  # still drifted only, by severity
        await pilot.press("f")  # typed into the filter ("ref"), not drifted-only again
        assert table.filter_text == "ref"
        assert app.query_one(DriftPane).drifted_only
        assert names(table) == []
        assert "No dependencies to show." in table.render_line(1).text
        await pilot.press("escape")
        assert table.filter_text == ""
        assert len(table.rows) == 10
        assert table.has_focus
        await pilot.press("s")
        assert names(table) == sorted(names(table), key=lambda n: (n == "requests", n))


async def test_enter_opens_the_package_detail(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "bob", DriftPane, demo.PROJECT_STOREFRONT, demo.ENV_CI_RUNNER)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, loaded)
        table = app.query_one(DriftMatrixTable)
        assert table.columns[table.cursor_column].label == "ci-runner"  # focus_env
        await pilot.press("slash", *"typescript", "enter")
        assert table.has_focus
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PackageDetailScreen)
        detail = app.screen.query_one(PackageDetailTable)
        lines = [detail.render_line(y).text.split() for y in range(1, 5)]
        assert lines[0][:3] == ["baseline", "5.3.3", "~5.3.0"]
        assert lines[1][:4] == ["bob-laptop", "5.3.3", "~5.3.0", "="]
        assert lines[2][:4] == ["ci-runner", "5.4.2", "~5.3.0", "✗"]
        assert " ".join(lines[2][4:]) == "violates constraint"
        await pilot.press("escape")
        assert not isinstance(app.screen, PackageDetailScreen)


async def test_live_dependency_change_shows_and_flashes(fresh_db_url: str) -> None:
    app = PaneHost(fresh_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, loaded)
        await pilot.pause(0.3)  # the feed is listening
        table = app.query_one(DriftMatrixTable)
        assert cells_by_package(table)["lodash"][1] == "! 4.17.20"
        bob = PostgresBackend(fresh_db_url, "bob")
        await bob.connect()
        try:
            current = await bob.list_dependencies(
                demo.PROJECT_STOREFRONT, environment_ids=[demo.ENV_BOB_LAPTOP]
            )
            fixed = [
                DependencyInput(
                    d.package_manager, d.package_name, d.version_constraint,
                    "4.17.21" if d.package_name == "lodash" else d.resolved_version,
                    DependencyStatus.HEALTHY if d.package_name == "lodash" else d.status,
                )
                for d in current
            ]  # fmt: skip
            await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, fixed)
        finally:
            await bob.close()
        for _ in range(200):
            if cells_by_package(table)["lodash"][1] == "= 4.17.21":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the change did not show")
        assert (str(PackageManager.NPM), "lodash") in table._flashing
        assert cells_by_package(table)["requests"][1] == "! 2.28.2"  # untouched rows stay


async def test_new_environment_becomes_a_column_live(fresh_db_url: str) -> None:
    app = PaneHost(fresh_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, loaded)
        await pilot.pause(0.3)  # the feed is listening
        table = app.query_one(DriftMatrixTable)
        dave = PostgresBackend(fresh_db_url, "dave")
        await dave.connect()
        try:
            env = await dave.create_environment(demo.PROJECT_STOREFRONT, "dave-desktop")
            await dave.report_dependencies(
                demo.PROJECT_STOREFRONT,
                env.id,
                [DependencyInput(PackageManager.NPM, "react", "^18.2.0", "18.3.1")],
            )
        finally:
            await dave.close()
        for _ in range(200):
            if [c.label for c in table.columns[2:]] == [*ENV_COLUMNS, "dave-desktop"]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError([c.label for c in table.columns])
        for _ in range(200):
            if cells_by_package(table)["react"][-1] == "≠ 18.3.1":
                break
            await asyncio.sleep(0.05)
        cells = cells_by_package(table)
        assert cells["react"][-1] == "≠ 18.3.1"
        assert cells["lodash"][-1] == "∅ —"  # in the baseline, not on dave's new machine


async def test_a_burst_of_changes_and_a_resync_are_one_reload_each(demo_db_url: str) -> None:
    app = PaneHost(demo_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT)
    loads: list[DriftLoaded] = []

    def hook(message: object) -> None:
        if (
            isinstance(message, DriftLoaded)
            and not message.partial  # a slow first load shows its first pages early
            and all(m is not message for m in loads)
        ):
            loads.append(message)

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await settle(pilot, loaded)
        pane = app.query_one(DriftPane)
        assert len(loads) == 1
        for n in range(50):
            pane.apply_changes(
                [ChangeEvent("dependencies", "UPDATE", str(n), None, project_id=PROJECT)]
            )
        # Changes of other projects and other tables are not this pane's business.
        pane.apply_changes([ChangeEvent("dependencies", "UPDATE", "x", None, project_id=OTHER)])
        pane.apply_changes([ChangeEvent("configurations", "UPDATE", "y", None, project_id=PROJECT)])
        await pilot.pause(0.6)
        await settle(pilot, loaded)
        assert len(loads) == 2
        assert loads[1].live
        pane.apply_changes([Resync("reconnected")])
        await pilot.pause(0.6)
        await settle(pilot, loaded)
        assert len(loads) == 3
        assert len(pane.table.rows) == 10


#: Takes away (or gives back) both ways the pane reads dependency rows: the table and the
#: page function (whose security-definer half applies the select policy itself).
REVOKE_DEPENDENCIES = (
    "{0} select on public.dependencies {1} authenticated;"
    " {0} execute on function private.dependency_page_next(uuid, text, text, uuid, integer)"
    " {1} authenticated"
)


async def test_a_failed_load_says_so_in_one_sentence_and_recovers(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(REVOKE_DEPENDENCIES.format("revoke", "from"))
    app = PaneHost(fresh_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda p: "Could not" in str(p.query_one("#drift-message").render()))
        pane = app.query_one(DriftPane)
        text = str(pane.query_one("#drift-message").render())
        assert text.startswith("Could not load the dependencies (")
        assert "Traceback" not in text
        assert not pane.table.display
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute(REVOKE_DEPENDENCIES.format("grant", "to"))
        pane.apply_changes([Resync("reconnected")])
        await pilot.pause(0.5)
        await settle(pilot, loaded)
        assert not pane.has_class("-message")
        assert len(pane.table.rows) == 10


async def test_the_first_page_shows_while_the_next_is_slow(demo_db_url: str) -> None:
    # The pages after the first do not come until the test says so: the first page must be on
    # screen by then (it was held until the next page arrived when it came within
    # SHOW_FIRST), asked for as about a screen's rows, and the rest follows.
    release = asyncio.Event()
    asked: list[object] = []
    loads: list[DriftLoaded] = []

    def make(backend: PostgresBackend) -> DriftPane:
        real = backend.dependency_pages

        async def slow(project_id: UUID, **kwargs: Any) -> AsyncGenerator[Any, None]:
            asked.append(kwargs.get("first_pages"))
            n = 0
            # Pages of a few packages (the demo's 10 would fit in one screen-sized page).
            async for page in real(project_id, rows_per_page=12, first_pages=(12,)):
                if n:
                    await release.wait()
                n += 1
                yield page

        backend.dependency_pages = slow  # type: ignore[method-assign]
        return DriftPane(backend)

    def hook(message: object) -> None:
        if isinstance(message, DriftLoaded) and all(m is not message for m in loads):
            loads.append(message)

    app = PaneHost(demo_db_url, "carol", make, PROJECT)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await _until(lambda: bool(loads), "the first page was not shown")
        await pilot.pause()
        pane = app.query_one(DriftPane)
        assert loads[0].partial
        assert pane.loading_more
        assert names(pane.table)
        assert len(pane.table.rows) < 10
        assert str(pane.query_one("#drift-status").render()).endswith("loading the rest…")
        # At most a screen of packages × (the baseline and 3 environments).
        assert len(asked) == 1
        assert isinstance(asked[0], tuple)
        assert 4 <= sum(asked[0]) <= 40 * 4
        release.set()
        await settle(pilot, loaded)
        assert loads[0].partial
        assert not loads[-1].partial
        assert len(pane.table.rows) == 10


async def test_switching_project_mid_load_stops_the_reads_of_the_first(
    demo_db_url: str,
) -> None:
    # The storefront's second page never comes; showing billing meanwhile cancels that load:
    # its page reads stop (the generator is closed), billing shows, no error surfaces.
    closed: list[UUID] = []
    never = asyncio.Event()

    def make(backend: PostgresBackend) -> DriftPane:
        real = backend.dependency_pages

        async def stuck(project_id: UUID, **kwargs: Any) -> AsyncGenerator[Any, None]:
            n = 0
            try:
                async for page in real(project_id, rows_per_page=12, first_pages=(12,)):
                    if n and project_id == PROJECT:
                        await never.wait()
                    n += 1
                    yield page
            finally:
                closed.append(project_id)

        backend.dependency_pages = stuck  # type: ignore[method-assign]
        return DriftPane(backend)

    app = PaneHost(demo_db_url, "carol", make, PROJECT)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(DriftPane)
        await _until(lambda: pane.loading_more, "the storefront's first page was not shown")
        await app.show_project(OTHER)
        await settle(pilot, loaded)
        assert closed[0] == PROJECT  # the storefront's reads were stopped, not left waiting
        assert pane.project is not None
        assert pane.project.id == OTHER
        assert pane.matrix is not None
        assert pane.matrix.rows
        assert not [w for w in app.workers if w.group == "drift" and w.is_running]


async def test_pages_read_faster_than_built_still_show_while_loading(
    demo_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every page is in before the one before it is built (one package a page, at once; each
    # build slowed to 60 ms): what was built still shows after SHOW_FIRST, and then as each
    # page comes while the screen is not full, before the whole matrix.
    def make(backend: PostgresBackend) -> DriftPane:
        real = backend.dependency_pages

        async def one_package_a_page(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
            rows = [d async for page in real(*args) for d in page]
            for name in sorted({d.package_name for d in rows}):
                yield [d for d in rows if d.package_name == name]

        backend.dependency_pages = one_package_a_page  # type: ignore[method-assign]
        return DriftPane(backend)

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.06)
        return build_matrix(*args, **kwargs)

    monkeypatch.setattr(drift, "build_matrix", slow_build)
    loads: list[DriftLoaded] = []

    def hook(message: object) -> None:
        if isinstance(message, DriftLoaded) and all(m is not message for m in loads):
            loads.append(message)

    app = PaneHost(demo_db_url, "carol", make, PROJECT)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot, loaded)
        partial = [m for m in loads if m.partial]
        assert len(partial) >= 3
        assert not loads[-1].partial
        sizes = [len(m.matrix.rows) if m.matrix else 0 for m in loads]
        assert sizes[-1] == 10
        sizes = sizes[:-1]
        assert sizes == sorted(sizes)
        assert sizes[-1] < 10


class _Reads:
    """Counts the pane's dependency reads: whole-project pages and per-environment lists."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.whole = 0
        self.columns: list[list[object]] = []
        pages, listed = backend.dependency_pages, backend.list_dependencies

        def dependency_pages(*args: object, **kwargs: object) -> object:
            self.whole += 1
            return pages(*args, **kwargs)  # type: ignore[arg-type]

        async def list_dependencies(*args: object, **kwargs: object) -> object:
            ids = kwargs.get("environment_ids")
            self.columns.append(list(ids) if isinstance(ids, list) else [])
            return await listed(*args, **kwargs)  # type: ignore[arg-type]

        backend.dependency_pages = dependency_pages  # type: ignore[method-assign,assignment]
        backend.list_dependencies = list_dependencies  # type: ignore[method-assign,assignment]


async def _report(url: str, user: str, env: UUID | None, version: str) -> None:
    """``user`` reports ``env``'s (None: the baseline's) lodash at ``version``."""
    backend = PostgresBackend(url, user)
    await backend.connect()
    try:
        current = await backend.list_dependencies(demo.PROJECT_STOREFRONT, environment_ids=[env])
        rows = [
            DependencyInput(
                d.package_manager, d.package_name, d.version_constraint,
                version if d.package_name == "lodash" else d.resolved_version,
                DependencyStatus.HEALTHY if d.package_name == "lodash" else d.status,
            )
            for d in current
        ]  # fmt: skip
        await backend.report_dependencies(demo.PROJECT_STOREFRONT, env, rows)
    finally:
        await backend.close()


async def _until(check: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def test_a_machines_report_reads_only_its_column_and_the_baseline(fresh_db_url: str) -> None:
    app = PaneHost(fresh_db_url, "alice", DriftPane, demo.PROJECT_STOREFRONT, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, loaded)
        await pilot.pause(0.3)  # the feed is listening
        assert app.backend is not None
        reads = _Reads(app.backend)
        table = app.query_one(DriftMatrixTable)
        await _report(fresh_db_url, "bob", demo.ENV_BOB_LAPTOP, "4.17.21")
        await _until(lambda: cells_by_package(table)["lodash"][1] == "= 4.17.21", "not shown")
        assert reads.whole == 0
        assert reads.columns == [[None, demo.ENV_BOB_LAPTOP]]
        assert cells_by_package(table)["requests"][1] == "! 2.28.2"  # other rows as they were
        assert (str(PackageManager.NPM), "lodash") in table._flashing
        # The same as reading everything again.
        pane = app.query_one(DriftPane)
        shown = pane.matrix
        pane._read_all(live=False)
        await pilot.pause(0.3)
        await settle(pilot, loaded)
        assert pane.matrix == shown
        # The baseline moved: every column is compared with it again, so everything is read.
        whole_before = reads.whole
        await _report(fresh_db_url, "alice", None, "4.17.19")
        await _until(
            lambda: "4.17.19" in cells_by_package(table)["lodash"][0],
            str(cells_by_package(table)["lodash"]),
        )
        assert reads.whole == whole_before + 1


def test_a_screen_of_rows_comes_in_a_quick_page_and_the_rest_of_the_screen() -> None:
    assert first_pages(160) == (160,)
    assert first_pages(QUICK_ROWS) == (QUICK_ROWS,)
    # 40 packages × 501 places: the first 5,000 rows on their own, then the rest of them.
    assert first_pages(40 * 501) == (QUICK_ROWS, 40 * 501 - QUICK_ROWS)
    # On Supabase the quick page is one response of at most 1,000 rows.
    assert SupabaseBackend.rows_per_request == 1_000
    assert PostgresBackend.rows_per_request is None
    assert first_pages(40 * 501, 1_000) == (1_000, 40 * 501 - 1_000)


def test_the_status_line_fits_by_leaving_out_the_least_needed() -> None:
    parts = [
        (0, "7 of 10 packages"), (0, "8 drifted"), (3, "2 vulnerable"), (4, "1 missing"),
        (5, "3 envs"), (2, "by severity"), (1, "drifted only"),
    ]  # fmt: skip
    whole = "7 of 10 packages · 8 drifted · 2 vulnerable · 1 missing · 3 envs · by severity"
    assert _fitted(parts, 200) == whole + " · drifted only"
    assert _fitted(parts, 0) == whole + " · drifted only"  # not laid out yet
    # 80 columns: the envs (the columns say) and the missing count (the ∅ cells) go first.
    assert _fitted(parts, 78) == (
        "7 of 10 packages · 8 drifted · 2 vulnerable · by severity · drifted only"
    )
    assert _fitted(parts, 60) == "7 of 10 packages · 8 drifted · by severity · drifted only"
    assert _fitted(parts, 40) == "7 of 10 packages · 8 drifted"  # the counts stay
    assert _fitted(parts, 10) == "7 of 10 packages · 8 drifted"
