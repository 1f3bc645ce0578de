"""The embedded database stops under an open dashboard (issue 15, "Honest status"): within two
seconds the header says so and what happens — DevSync starts it again itself (the library
call, whatever ``devsync`` is on PATH), or, when it cannot, tells the user the command to run;
never a bare "reconnecting" forever. Runs on a private embedded server (its own data dir)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres import cluster, pgctl
from devsync_tui.backend.postgres import server as local
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.dashboard.app import DevSyncApp, make_app
from devsync_tui.settings import Settings
from tests.dashboard.conftest import wait_for, wait_ready

pytestmark = pytest.mark.db


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Not tmp_path: pytest keeps it 0700, which locks out the user pgserver runs postgres as.
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-stopped-"))
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PATH", "/nonexistent")  # no `devsync` (nor anything) on PATH
    try:
        yield data_dir
    finally:
        local.reset()  # stops it and deletes it (as root, its service folder too)
        shutil.rmtree(data_dir, ignore_errors=True)


def _crash() -> None:
    """The server stops without `devsync local stop` (killed, the machine's shutdown, …)."""
    pgctl.stop(cluster.pgdata(), cluster.run_as())


def _app(url: str) -> DevSyncApp:
    async def factory(settings: Any, **_: Any) -> PostgresBackend:
        backend = PostgresBackend(url, "bob", embedded=True, feed_max_backoff=0.5)
        await backend.connect()
        return backend

    return make_app(Settings(), factory, user="bob", project="storefront", animations=False)


async def test_a_stopped_embedded_database_is_started_again(embedded: Path) -> None:
    url = await asyncio.to_thread(local.ensure_running)
    app = _app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=30)
        header = app.main.header
        await wait_for(pilot, lambda: header.link == "live", within=15)
        await asyncio.to_thread(_crash)
        stopped = time.monotonic()
        await wait_for(pilot, lambda: "starting it again" in header.link_detail, within=2.0)
        assert time.monotonic() - stopped < 2.0
        assert "DevSync is starting it again" in str(header.render())
        await wait_for(pilot, lambda: header.link == "live", within=15)
        assert "live" in str(header.render())
    assert local.status().running


async def test_when_it_cannot_start_the_header_says_what_to_run(
    embedded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await asyncio.to_thread(local.ensure_running)
    started = local.ensure_running

    attempts: list[int] = []

    def refuse(*_a: Any, **_k: Any) -> str:
        attempts.append(1)
        raise Unavailable("no")

    app = _app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=30)
        header = app.main.header
        await wait_for(pilot, lambda: header.link == "live", within=15)
        monkeypatch.setattr(local, "ensure_running", refuse)
        await asyncio.to_thread(_crash)
        await wait_for(pilot, lambda: "starting it again" in header.link_detail, within=2.0)
        await wait_for(pilot, lambda: "devsync local start" in header.link_detail, within=10.0)
        assert header.link_detail == "the local database is stopped: `devsync local start`"
        assert "the local database is stopped" in str(header.render())
        assert attempts == [1, 1, 1]  # three tries, then the user is asked
        await pilot.pause(1.0)
        assert header.link_detail == "the local database is stopped: `devsync local start`"
        assert attempts == [1, 1, 1]
        await asyncio.to_thread(started)  # the user runs it
        await wait_for(pilot, lambda: header.link == "live", within=20)


async def test_stopped_on_purpose_it_stays_stopped(embedded: Path) -> None:
    # `devsync local stop` with a dashboard open: the dashboard does not start it again under
    # the user (it did within 60 ms, and the stop then timed out); the header says how to.
    url = await asyncio.to_thread(local.ensure_running)
    app = _app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot, within=30)
        header = app.main.header
        await wait_for(pilot, lambda: header.link == "live", within=15)
        assert await asyncio.to_thread(local.stop)
        expected = "the local database was stopped on purpose: `devsync local start`"
        await wait_for(pilot, lambda: header.link_detail == expected, within=2.0)
        await pilot.pause(2.0)
        assert not local.status().running
        assert header.link_detail == expected
        await asyncio.to_thread(local.ensure_running)  # the user starts it
        await wait_for(pilot, lambda: header.link == "live", within=20)
