"""machine.agent as a library: options in, messages through ``say``, a report out."""

from __future__ import annotations

from pathlib import Path

import pytest

from devsync_tui.machine import agent as agent_module
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
    monkeypatch.setattr(agent_module, "default_env_name", lambda: "STAGING")
    options = AgentOptions(path=home, once=True, scan=False, user="bob", project="storefront")
    with pytest.raises(InputError, match="'staging' of storefront belongs to another user"):
        await Agent(options, lambda _line: None).run()
