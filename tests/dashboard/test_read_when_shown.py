"""Dependencies and Health read only when their tab is shown (issue 16): not right after the
first frame, and not on every teammate's change while the tab is hidden; showing the tab
reads once, with what changed meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from devsync_tui.core.models import DependencyInput, DependencyStatus
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.panes.health import HealthPane
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import other_client, tab_key
from tests.support import demo

pytestmark = pytest.mark.db


def _count_reads(backend: Any) -> list[int]:
    """Counts the whole-project reads of the Dependencies view (``dependency_pages``)."""
    calls = [0]
    real = backend.dependency_pages

    async def counted(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        calls[0] += 1
        async for page in real(*args, **kwargs):
            yield page

    backend.dependency_pages = counted
    return calls


async def test_hidden_tabs_read_nothing_until_shown(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: bool(app.main.query(DriftPane)))
        drift = app.main.query_one(DriftPane)
        health = app.main.query_one(HealthPane)
        assert drift.backend is not None
        reads = _count_reads(drift.backend)
        await pilot.pause(0.5)
        # Mounted and told which project to show, but neither tab was opened: nothing read.
        assert drift.project is not None
        assert health.project is not None
        assert (drift.matrix, health.series_loaded, reads[0]) == (None, False, 0)
        assert drift.reads.waiting
        assert health.reads.waiting

        await pilot.press(tab_key("dependencies"))
        await wait_for(pilot, lambda: drift.matrix is not None and not drift.loading_more)
        first = reads[0]
        assert first >= 1
        await pilot.press(tab_key("configuration"))
        await pilot.pause()

        # A teammate's dependency change while the tab is hidden: no read until it is shown.
        async with other_client(fresh_db_url, "bob") as bob:
            current = await bob.list_dependencies(
                demo.PROJECT_STOREFRONT, environment_ids=[demo.ENV_BOB_LAPTOP]
            )
            report = [
                DependencyInput(
                    d.package_manager, d.package_name, d.version_constraint,
                    d.resolved_version, d.status,
                )
                for d in current
            ] + [DependencyInput(current[0].package_manager, "left-pad", None, "1.3.0",
                                 DependencyStatus.HEALTHY)]  # fmt: skip
            await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, report)
        await wait_for(pilot, lambda: drift.reads.waiting)
        await pilot.pause(0.3)
        assert reads[0] == first

        await pilot.press(tab_key("dependencies"))
        matrix = lambda: drift.matrix  # noqa: E731
        await wait_for(
            pilot,
            lambda: (
                (m := matrix()) is not None and any(r.package_name == "left-pad" for r in m.rows)
            ),
        )
        assert not drift.reads.waiting

        await pilot.press(tab_key("health"))
        await wait_for(pilot, lambda: health.settled)
