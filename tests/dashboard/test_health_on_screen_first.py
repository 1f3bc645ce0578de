"""The Health pane reads the sparklines of the rows on screen first (and a screen below them),
then the rest: at 500 machines the rest takes ~0.3-0.5 s (bench_health_pane.py --points 50m),
which a full screen no longer waits for."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from textual.app import App, ComposeResult

from devsync_tui.core.models import Environment, EnvStatus, Project
from devsync_tui.dashboard.panes.health import BATCH, HealthPane
from devsync_tui.dashboard.widgets.health_table import HealthTable

PROJECT = Project(uuid4(), uuid4(), "fleet")


class Recorder:
    """The two reads the pane makes, answered with nothing; the ids of each kept in order."""

    def __init__(self) -> None:
        self.reads: list[list[UUID]] = []

    async def health_sparklines(
        self, ids: Sequence[UUID], since: datetime, slots: int, *, until: datetime | None = None
    ) -> list[Any]:
        self.reads.append(list(ids))
        return []

    async def health_latest(self, ids: Sequence[UUID], since: datetime) -> list[Any]:
        return []


class Host(App[None]):
    def __init__(self, backend: Recorder) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        yield HealthPane(self.backend)  # type: ignore[arg-type]


def fleet(count: int) -> list[Environment]:
    envs = [
        Environment(uuid4(), PROJECT.id, uuid4(), f"m{i:03}", EnvStatus.ACTIVE)
        for i in range(count)
    ]
    random.Random(16).shuffle(envs)  # the list's order is not the table's
    return envs


async def test_the_first_read_is_the_rows_on_screen_and_a_screen_below() -> None:
    backend = Recorder()
    app = Host(backend)
    envs = fleet(700)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(PROJECT, envs)
        while not pane.series_loaded:
            await pilot.pause(0.01)
        height = pane.table.scrollable_content_region.height
        by_id = {env.id: env.name for env in envs}
        first = sorted(by_id[i] for i in backend.reads[0])
        # sorted by name, from the top: the screen and about as many rows again (the table's
        # height when the read began: the status and filter lines may not be laid out yet)
        assert first == [f"m{i:03}" for i in range(len(first))]
        assert 2 * height <= len(first) <= 2 * (height + 3)
        # then the rest, at most BATCH at a time, every machine read once
        rest = backend.reads[1:]
        assert [len(ids) for ids in rest] == [BATCH, 700 - len(first) - BATCH]
        assert sorted(i for ids in backend.reads for i in ids) == sorted(by_id)


async def test_a_reload_reads_where_the_table_is_scrolled_first() -> None:
    backend = Recorder()
    app = Host(backend)
    envs = fleet(300)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(PROJECT, envs)
        while not pane.series_loaded:
            await pilot.pause(0.01)
        table = pane.query_one(HealthTable)
        table.cursor_row = 250  # scrolls the table to show row 250 at the bottom
        await pilot.pause()
        top = int(table.scroll_y)
        assert top > 0
        backend.reads.clear()
        pane.series_loaded = False
        pane._pending_all = True
        pane._reload_now()
        while not pane.series_loaded:
            await pilot.pause(0.01)
        height = table.scrollable_content_region.height
        names = {env.id: env.name for env in envs}
        first = sorted(names[i] for i in backend.reads[0])
        # from the first row on screen: the screen and as many rows again (or to the end)
        assert first == [f"m{i:03}" for i in range(top, min(300, top + 2 * height))]
        assert len(backend.reads) == 2
        assert len(backend.reads[1]) == 300 - len(first)
