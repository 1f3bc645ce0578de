"""The agent's pieces that need no database: bounded buffer, backoff, lockfile fingerprint,
and the sampler's values (the shape the Health pane reads)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devsync_tui.core.lockfiles import scan_path
from devsync_tui.core.lockfiles.detect import MAX_WALK_DEPTH
from devsync_tui.core.models import HealthPoint, MetricType
from devsync_tui.machine.health import (
    Backoff,
    PointBuffer,
    Sampler,
    lockfile_fingerprint,
    ping_point,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _points(n: int, start: int = 0) -> list[HealthPoint]:
    return [
        HealthPoint(MetricType.CPU, {"percent": float(i)}, T0 + timedelta(seconds=i))
        for i in range(start, start + n)
    ]


def test_buffer_is_bounded_and_drops_the_oldest() -> None:
    buffer = PointBuffer(capacity=5)
    buffer.extend(_points(8))
    assert len(buffer) == 5
    assert buffer.dropped == 3
    batch, _ = buffer.peek()
    assert [p.value["percent"] for p in batch] == [3.0, 4.0, 5.0, 6.0, 7.0]


def test_flush_removes_exactly_what_it_sent_even_if_points_arrive_meanwhile() -> None:
    buffer = PointBuffer(capacity=4)
    buffer.extend(_points(3))
    batch, last = buffer.peek(limit=2)
    assert [p.value["percent"] for p in batch] == [0.0, 1.0]
    buffer.extend(_points(3, start=3))  # overflow while the flush is in flight: 0, 1 dropped
    buffer.drop_through(last)
    remaining, _ = buffer.peek()
    assert [p.value["percent"] for p in remaining] == [2.0, 3.0, 4.0, 5.0]
    assert buffer.peek(limit=0) == ([], -1)
    with pytest.raises(ValueError, match="positive"):
        PointBuffer(capacity=0)


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial=1.0, maximum=10.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert all(d <= 12.0 for d in delays)
    assert delays[-1] >= 8.0
    backoff.reset()
    assert backoff.next_delay() <= 1.2


def test_fingerprint_changes_only_with_lockfiles(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print()")
    assert lockfile_fingerprint(tmp_path) == ()
    lock = tmp_path / "app" / "package-lock.json"
    lock.parent.mkdir()
    lock.write_text("{}")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "package.json").write_text("{}")  # skipped folder
    first = lockfile_fingerprint(tmp_path)
    assert [Path(p).name for p, _, _ in first] == ["package-lock.json"]
    (tmp_path / "src" / "main.py").write_text("print(1)")
    assert lockfile_fingerprint(tmp_path) == first
    lock.write_text('{"lockfileVersion": 3}')
    os.utime(lock, ns=(1, 1))
    assert lockfile_fingerprint(tmp_path) != first
    (tmp_path / "requirements-dev.txt").write_text("pytest==8\n")
    assert len(lockfile_fingerprint(tmp_path)) == 2


def test_fingerprint_and_scanner_see_the_same_files(tmp_path: Path) -> None:
    # One walk (core.lockfiles.detect.walk): same depth limit, same skipped folders, no
    # symbolic links followed, for the agent's fingerprint and for the scan it triggers.
    deep = tmp_path.joinpath(*(f"d{i}" for i in range(MAX_WALK_DEPTH)))
    deep.mkdir(parents=True)
    (deep / "requirements.txt").write_text("a==1\n")  # the deepest level still read
    too_deep = deep / "further"
    too_deep.mkdir()
    (too_deep / "requirements.txt").write_text("b==1\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "requirements.txt").write_text("c==1\n")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "requirements.txt").write_text("d==1\n")
    (tmp_path / "linked").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "requirements-dev.txt").write_text("e==1\n")

    fingerprinted = {path for path, _size, _mtime in lockfile_fingerprint(tmp_path)}
    scanned = scan_path(tmp_path)
    assert fingerprinted == {str(f) for f in scanned.files}
    assert fingerprinted == {str(deep / "requirements.txt"), str(tmp_path / "requirements-dev.txt")}
    assert {p.name for p in scanned.packages} == {"a", "e"}


def test_sampler_values_have_the_shape_the_health_pane_reads(tmp_path: Path) -> None:
    points = Sampler(tmp_path).sample(T0)
    by_metric = {p.metric_type: p.value for p in points}
    assert set(by_metric) == {MetricType.CPU, MetricType.MEMORY, MetricType.DISK}
    for value in by_metric.values():
        assert 0.0 <= value["percent"] <= 100.0
    assert by_metric[MetricType.DISK]["total"] > 0
    assert all(p.recorded_at == T0 for p in points)
    assert ping_point(0.0123, T0).value == {"ms": 12.3}


def test_sampler_goes_on_when_the_checkout_disappears(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    sampler = Sampler(checkout)
    checkout.rmdir()  # removed under a running agent
    points = sampler.sample(T0)
    assert {p.metric_type for p in points} == {MetricType.CPU, MetricType.MEMORY}
