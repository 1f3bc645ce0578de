"""What ``devsync run --watch`` says about its live updates.

A spell without them is said once it lasted ``LINK_GRACE_SECONDS`` (a planned re-subscribe,
a blip, or the moment the feed takes to say "live" at the start are not), and their return
after a spell that was said is said once. The first test drives the runner's watch loop with
a scripted feed; the second runs it on the Supabase transport (the fake project), where every
start printed "live updates offline" though the updates worked."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from uuid import uuid4

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.live import FeedEvent, LinkChanged, Resync
from devsync_tui.core import crypto
from devsync_tui.core.models import ConfigType
from devsync_tui.machine import runner as runner_module
from devsync_tui.machine.runner import Payload, Runner, RunOptions
from devsync_tui.machine.targets import Target
from tests.support import demo

BACK = "live updates are back."


def _down(state: str) -> str:
    return f"live updates {state}; the command keeps running."


@pytest.fixture(autouse=True)
def _no_key_file_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_notice_handler", lambda _message: None)


async def _until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


class _ScriptedFeed:
    """A backend whose ``changes()`` yields what the test puts in ``events``."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[FeedEvent] = asyncio.Queue()

    async def changes(self) -> AsyncIterator[FeedEvent]:
        while True:
            yield await self.events.get()


async def test_link_spells_are_said_after_a_grace_and_their_end_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_module, "LINK_GRACE_SECONDS", 0.4)
    payload = Payload({}, {})

    async def same_payload(_backend: Any, _target: Any) -> Payload:
        return payload  # a "live" makes the runner compare: nothing changed

    monkeypatch.setattr(runner_module, "fetch_payload", same_payload)
    said: list[str] = []
    command = (sys.executable, "-c", "import time; time.sleep(60)")
    runner = Runner(RunOptions(command=command, watch=True, grace=2), said.append)
    await runner._start(payload)
    feed = _ScriptedFeed()
    target = cast(Target, SimpleNamespace(project=SimpleNamespace(id=uuid4()), environment=None))
    watching = asyncio.create_task(runner._watch(cast(Backend, feed), target, payload))
    put = feed.events.put_nowait
    try:
        # The start: a moment without a state, then live: nothing to say.
        put(LinkChanged("live"))
        await asyncio.sleep(0.6)
        # A planned re-subscribe (a new project) or a blip: back within the grace.
        put(LinkChanged("reconnecting"))
        await asyncio.sleep(0.1)
        put(LinkChanged("live"))
        put(Resync("scope changed"))
        await asyncio.sleep(0.6)
        assert said == []
        # A real spell: said once, whatever it goes through; its end said once.
        put(LinkChanged("reconnecting", "Realtime connection lost"))
        await _until(lambda: len(said) == 1, 3)
        assert said == [_down("reconnecting")]
        put(LinkChanged("offline", "Supabase Realtime cannot be reached"))
        await asyncio.sleep(0.6)
        assert said == [_down("reconnecting")]
        put(LinkChanged("live"))
        put(Resync("realtime reconnected"))
        await _until(lambda: len(said) == 2, 3)
        put(LinkChanged("live"))
        await asyncio.sleep(0.3)
        assert said == [_down("reconnecting"), BACK]
        # Offline from the start (the feed could not connect): said after the grace.
        put(LinkChanged("offline", "Supabase Realtime cannot be reached"))
        await _until(lambda: len(said) == 3, 3)
        assert said[-1] == _down("offline")
        assert not watching.done()
    finally:
        assert runner.child is not None
        await runner.child.stop(2)
        await asyncio.wait_for(watching, 10)
    assert said == [_down("reconnecting"), BACK, _down("offline")]


# -- on the Supabase transport ------------------------------------------------------------------

WATCHED = """
import os, pathlib, sys, time
log, stop = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with log.open("a") as f:
    f.write(f"{os.getpid()} {os.environ.get('LOG_LEVEL')}\\n")
while not stop.exists():
    time.sleep(0.05)
"""


@pytest.mark.db
async def test_watch_on_supabase_starts_live_and_says_when_updates_are_back(
    home: Path, fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devsync_tui.backend.supabase.realtime import FeedTiming
    from tests.backend.fake_supabase import FakeSupabase
    from tests.backend.fake_supabase.fixtures import backend_as

    timing = FeedTiming(
        subscribe_timeout=0.5, watchdog_interval=0.3, ping_timeout=1.0, rejoin_grace=1.0
    )
    monkeypatch.setattr(runner_module, "LINK_GRACE_SECONDS", 1.0)
    fake = await FakeSupabase(fresh_db_url, bridge_changes=True).start()

    @asynccontextmanager
    async def on_supabase(*_args: Any, **_kwargs: Any) -> AsyncIterator[Backend]:
        async with backend_as(fake, home, demo.BOB.email, timing=timing) as backend:
            yield backend

    monkeypatch.setattr(runner_module, "connected", on_supabase)
    log, stop = home / "starts", home / "stop"
    said: list[str] = []
    command = (sys.executable, "-c", WATCHED, str(log), str(stop))
    options = RunOptions(
        command=command, watch=True, grace=5, user="bob", project="storefront", env="bob-laptop"
    )
    task = asyncio.create_task(Runner(options, said.append).run())
    try:
        async with backend_as(fake, home, demo.ALICE.email) as alice:

            async def set_log_level(value: str) -> None:
                rows = await alice.list_configurations(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP)
                current = next((r for r in rows if r.key == "LOG_LEVEL"), None)
                await alice.save_configuration(
                    demo.PROJECT_STOREFRONT,
                    demo.ENV_BOB_LAPTOP,
                    "LOG_LEVEL",
                    value,
                    is_secret=False,
                    type=ConfigType.ENV_VAR,
                    expected_version=current.version if current else None,
                )

            await _until(lambda: log.exists() and log.read_text().count("\n") == 1)
            await asyncio.sleep(1.5)  # past the grace: a false "offline" would be said by now
            assert not [s for s in said if s.startswith("live updates")]
            await set_log_level("trace")
            await _until(lambda: log.read_text().count("\n") == 2)
            assert "configuration changed (LOG_LEVEL); restarting." in said

            # Realtime away for a while (joins unanswered): said once, and its return once.
            fake.realtime.answer_joins = False
            await fake.realtime.close_all(1011)
            await _until(lambda: any(s.startswith("live updates") for s in said), 15)
            await asyncio.sleep(1.0)
            fake.realtime.answer_joins = True
            await _until(lambda: BACK in said, 15)
            link_lines = [s for s in said if s.startswith("live updates")]
            assert link_lines[0] in (_down("reconnecting"), _down("offline"))
            assert link_lines[1:] == [BACK]
            await set_log_level("debug")
            await _until(lambda: log.read_text().count("\n") == 3)
            assert log.read_text().splitlines()[2].split()[1] == "debug"
    finally:
        stop.touch()
        try:
            assert await asyncio.wait_for(task, 20) == 0
        finally:
            await fake.stop()
