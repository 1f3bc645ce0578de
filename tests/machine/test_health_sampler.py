"""The agent's samples: what every team member will read about this machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from devsync_tui.core.models import MetricType
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
