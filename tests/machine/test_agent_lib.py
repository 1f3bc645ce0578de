"""machine.agent as a library: options in, messages through ``say``, a report out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devsync_tui.machine import registration
from devsync_tui.machine.agent import Agent, AgentOptions
from devsync_tui.machine.errors import InputError

pytestmark = pytest.mark.db


async def test_one_round_registers_reports_and_prints_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []
    options = AgentOptions(
        path=home, once=True, scan=False, user="bob", project="Storefront", env="lib-agent"
    )
    agent = Agent(options, said.append)
    assert await agent.run() == 0
    assert agent.report.target == "storefront/lib-agent"
    assert agent.report.status == "active"
    assert agent.report.points_stored >= 4  # cpu, memory, disk, ping
    assert said == ["created environment storefront/lib-agent."]
    assert capsys.readouterr() == ("", "")
    # The same environment by the one name rule (any case): found, not created again.
    again = Agent(
        AgentOptions(path=home, once=True, scan=False, user="bob", env="LIB-AGENT"), said.append
    )
    assert await again.run() == 0
    assert again.report.target == "storefront/lib-agent"
    assert said == ["created environment storefront/lib-agent."]


async def test_someone_elses_machine_is_not_claimed(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This host's name matches erin's "staging" (by the name rule: any case): bob's agent
    # must not report into it, and says why in one sentence.
    monkeypatch.setattr(registration, "default_env_name", lambda: "STAGING")
    options = AgentOptions(path=home, once=True, scan=False, user="bob", project="storefront")
    with pytest.raises(InputError, match="'staging' of storefront belongs to another user"):
        await Agent(options, lambda _line: None).run()


async def test_a_path_that_is_no_folder_is_refused_before_anything(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = AgentOptions(path=home / "missing", once=True, scan=False, user="alice", env="x")
    with pytest.raises(InputError, match=r"missing is not a folder\.$"):
        await Agent(options, lambda _line: None).run()
    assert not (home / "state" / "links.json").exists()


async def test_a_stop_while_unreachable_says_what_was_lost(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: every sync fails; the samples pile up in a buffer of 4
    # (3 points a sample), so the oldest are dropped too. Stopped, nothing can be stored.
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    said: list[str] = []
    options = AgentOptions(
        path=home, interval=0.05, scan=False, buffer=4, user="bob", project="storefront"
    )
    agent = Agent(options, said.append)
    running = asyncio.create_task(agent.run())
    for _ in range(500):  # at most 10 s
        if agent.buffer.dropped >= 2:
            break
        await asyncio.sleep(0.02)
    agent.stopping.set()
    assert await asyncio.wait_for(running, 10) == 1
    report = agent.report
    assert report.points_stored == 0
    assert report.points_buffered == 4
    assert report.points_dropped >= 2
    assert said[0].startswith("backend unreachable (")
    assert said[-1] == (
        f"stopped; {4 + report.points_dropped} measurements lost: 4 still buffered (the backend "
        f"was unreachable) and {report.points_dropped} dropped earlier from the full buffer "
        "(--buffer 4)."
    )
