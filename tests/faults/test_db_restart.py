"""The database restarts while the TUI and an agent are connected (issue 6): both report it,
reconnect on their own and catch up; nothing the user typed is lost; no health point is
stored twice. Runs on a private embedded server (its own data dir) that the test stops and
starts with pg_ctl."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from textual.widgets import Input

from devsync_tui.backend.postgres import server as local
from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.screens.config_editor import ConfigEditor
from devsync_tui.dashboard.widgets.status_header import StatusHeader
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane, other_client, stored
from tests.support import demo

pytestmark = pytest.mark.db

STORE, BOB_ENV = demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Not tmp_path: pytest keeps it 0700, which locks out the user pgserver runs postgres as.
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-restart-"))
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
    try:
        yield data_dir
    finally:
        local.reset()  # stops it and deletes it (as root, its service folder too)
        shutil.rmtree(data_dir, ignore_errors=True)


def _agent(url: str, home: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DEVSYNC_DATABASE_URL=url,
        DEVSYNC_CONFIG=str(home / "config.toml"),
        DEVSYNC_STATE_DIR=str(home / "state"),
        DEVSYNC_CACHE_DIR=str(home / "cache"),
        DEVSYNC_KEYRING="off",
    )
    argv = [
        sys.executable, "-m", "devsync_tui", "agent", "--interval", "2", "--no-scan",
        "--project", "storefront", "--env", "bob-laptop", "--user", "bob",
    ]  # fmt: skip
    return subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _points(url: str) -> tuple[int, int]:
    """(points of bob-laptop, duplicated (env, metric, recorded_at) triples)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select count(*), count(*) - count(distinct (metric_type, recorded_at)) "
            "from public.health_checks where environment_id = %s",
            (BOB_ENV,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def _until(predicate, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_tui_and_agent_ride_out_a_database_restart(embedded: Path, tmp_path: Path) -> None:
    url = await asyncio.to_thread(local.ensure_running)
    agent = _agent(url, tmp_path)
    try:
        before, _ = _points(url)
        await _until(lambda: _points(url)[0] >= before + 3)  # the agent is reporting
        app = make_test_app(url, "bob", project="storefront", env="bob-laptop")
        async with app.run_test(size=app.test_size) as pilot:
            await wait_ready(pilot, within=30)  # the agent's points keep the health pane busy
            header = app.main.query_one(StatusHeader)
            await wait_for(pilot, lambda: header.link == "live", within=15)
            config_pane(app).go_to_key("BOB_DEBUG_PORT")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfigEditor))
            editor = app.screen
            assert isinstance(editor, ConfigEditor)
            editor.query_one("#editor-line", Input).value = "7007"

            assert await asyncio.to_thread(local.stop)
            await wait_for(pilot, lambda: header.link != "live", within=15)
            await pilot.press("ctrl+s")  # saving while the database is down
            await pilot.pause(1.5)
            assert isinstance(app.screen, ConfigEditor), "the editor stays open"
            assert editor.query_one("#editor-line", Input).value == "7007", "typed text kept"
            await asyncio.sleep(8)  # the agent notices, keeps sampling into its buffer

            assert await asyncio.to_thread(local.ensure_running) == url
            # a teammate changes something while the TUI is still reconnecting
            async with other_client(url, "alice") as alice:
                await alice.save_configuration(
                    STORE, None, "AFTER_RESTART", "yes", is_secret=False,
                    type=ConfigType.ENV_VAR, expected_version=None,
                )  # fmt: skip
            await wait_for(pilot, lambda: header.link == "live", within=30)
            await pilot.press("ctrl+s")  # the kept edit saves now
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfigEditor), within=30)
            assert stored(url, STORE, BOB_ENV, "BOB_DEBUG_PORT") == ("7007", 2)
            # the view caught up with the change made during the gap, without a key press
            await wait_for(
                pilot,
                lambda: _has_row(app, "AFTER_RESTART"),
                within=15,
            )
        after_restart, _ = _points(url)
        await _until(lambda: _points(url)[0] >= after_restart + 3)  # buffered points flushed
    finally:
        agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert b"psycopg" not in err  # library retries go to the log file, not the terminal
    assert b"unreachable" in err  # the agent reported the outage in plain words
    total, duplicates = _points(url)
    assert duplicates == 0
    assert total > before


def _has_row(app, key: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        cell_text(config_pane(app), key, 0)
    except Exception:
        return False
    return True
