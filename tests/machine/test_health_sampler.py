"""The agent's samples: what every team member will read about this machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from devsync_tui.core.models import MetricType, Role
from devsync_tui.machine import health
from devsync_tui.machine.health import Sampler, mount_point


def test_samples_name_the_filesystem_not_the_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "alice-secret-project" / "repo"
    checkout.mkdir(parents=True)
    points = Sampler(checkout).sample(datetime.now(UTC))
    assert {p.metric_type for p in points} == {MetricType.CPU, MetricType.MEMORY, MetricType.DISK}
    disk = next(p for p in points if p.metric_type is MetricType.DISK)
    assert 0 <= disk.value["percent"] <= 100
    assert disk.value["mount"] == mount_point(checkout)
    assert "alice-secret-project" not in json.dumps([p.value for p in points])


def test_mount_point_of_a_missing_path_is_a_mount() -> None:
    assert Path(mount_point(Path("/no/such/dir/here"))).is_mount()


def test_the_first_cpu_reading_waits_for_a_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psutil averages since the priming: read microseconds later it says 0 %. The agent waits
    ``settle_seconds`` before its first sample (QA: `agent --once` always stored 0 %)."""
    now = [100.0]
    monkeypatch.setattr(health.time, "monotonic", lambda: now[0])
    sampler = Sampler(tmp_path)
    assert sampler.settle_seconds() == health.CPU_WINDOW
    now[0] += health.CPU_WINDOW / 2
    assert sampler.settle_seconds() == pytest.approx(health.CPU_WINDOW / 2)
    now[0] += health.CPU_WINDOW
    assert sampler.settle_seconds() == 0.0


async def test_a_user_who_is_no_admin_is_never_asked_to_roll_up() -> None:
    """The database refuses the roll-up to non-admins (and logs an error each time): a member's
    agent does not ask."""
    asked: list[int] = []

    class Member:
        async def my_roles(self) -> dict[UUID, Role]:
            return {UUID(int=1): Role.MEMBER}

        async def rollup_health(self, keep_days: int) -> int:
            asked.append(keep_days)
            return 0

    class Admin(Member):
        async def my_roles(self) -> dict[UUID, Role]:
            return {UUID(int=1): Role.MEMBER, UUID(int=2): Role.ADMIN}

    retention = health.Retention()
    await retention.run(Member())  # type: ignore[arg-type]
    await retention.run(Member())  # type: ignore[arg-type]
    assert asked == []
    await health.Retention().run(Admin())  # type: ignore[arg-type]
    assert asked == [health.RETENTION_DAYS]
