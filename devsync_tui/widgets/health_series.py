"""Health data for display: numbers out of the metric JSON, time buckets, text sparklines.

No Textual here: these are plain functions the health table calls and the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from devsync_tui.core.models import Environment, HealthCheck, MetricType

#: Keys a metric's JSON value may carry its number under, in order of preference
#: (agents report {"percent": …} / {"ms": …}; the hourly rollup stores {"avg": …}).
NUMBER_KEYS = ("percent", "ms", "value", "avg")
BARS = "▁▂▃▄▅▆▇█"
#: How far back the sparklines look.
WINDOW = timedelta(days=1)
PERCENT_METRICS = (MetricType.CPU, MetricType.MEMORY, MetricType.DISK)


def metric_number(value: Mapping[str, Any] | Any) -> float | None:
    """The first finite number under "percent", "ms", "value" or "avg"; None if there is none
    (booleans and numeric strings are not numbers here)."""
    if not isinstance(value, Mapping):
        return None
    for key in NUMBER_KEYS:
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, int | float):
            continue
        if math.isfinite(number):
            return float(number)
    return None


def bucket_series(
    points: Iterable[tuple[datetime, float]], start: datetime, end: datetime, buckets: int
) -> list[float | None]:
    """Average the points into ``buckets`` equal time slots over [start, end); None marks a
    slot with no point (the machine was off), so gaps show as gaps."""
    if buckets <= 0 or end <= start:
        return []
    span = (end - start).total_seconds()
    sums = [0.0] * buckets
    counts = [0] * buckets
    for at, number in points:
        offset = (at - start).total_seconds()
        if offset < 0 or offset > span:
            continue
        slot = min(buckets - 1, int(offset / span * buckets))
        sums[slot] += number
        counts[slot] += 1
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def slot_end(now: datetime) -> datetime:
    """The end of the sparkline window: ``now`` rounded up to the whole minute, so the slots
    do not shift with every second that passes."""
    whole = now.replace(second=0, microsecond=0)
    return whole if whole == now else whole + timedelta(minutes=1)


def sparkline(values: Sequence[float | None], low: float = 0.0, high: float = 100.0) -> str:
    """Block characters on a fixed scale (percentages on 0–100, so 40 % always looks like
    40 %); a space for a slot without data."""
    extent = (high - low) or 1.0
    out = []
    for value in values:
        if value is None:
            out.append(" ")
            continue
        ratio = min(1.0, max(0.0, (value - low) / extent))
        out.append(BARS[min(len(BARS) - 1, int(ratio * len(BARS)))])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class EnvHealth:
    """One environment's row in the health view."""

    environment: Environment
    #: Raw (time, number) points per metric within the window, oldest first.
    points: Mapping[MetricType, tuple[tuple[datetime, float], ...]] = field(default_factory=dict)

    def latest(self, metric: MetricType) -> float | None:
        series = self.points.get(metric)
        return series[-1][1] if series else None

    def buckets(
        self, metric: MetricType, end: datetime, slots: int, window: timedelta = WINDOW
    ) -> list[float | None]:
        return bucket_series(self.points.get(metric, ()), end - window, end, slots)


def summarize(
    environments: Sequence[Environment], checks: Iterable[HealthCheck]
) -> list[EnvHealth]:
    """Group health checks per environment and metric, oldest first; environments keep their
    order, and one without checks still gets a row."""
    grouped: dict[UUID, dict[MetricType, list[tuple[datetime, float]]]] = {
        env.id: {} for env in environments
    }
    for check in checks:
        per_env = grouped.get(check.environment_id)
        number = metric_number(check.value)
        if per_env is None or number is None:
            continue
        per_env.setdefault(MetricType(check.metric_type), []).append((check.recorded_at, number))
    rows = []
    for env in environments:
        metrics = grouped[env.id]
        points = {metric: tuple(sorted(series)) for metric, series in metrics.items()}
        rows.append(EnvHealth(env, points))
    return rows


def format_latest(metric: MetricType, value: float | None) -> str:
    """The latest value as shown beside the sparkline: "41%", "12.3 ms", or "—"."""
    if value is None:
        return "—"
    if metric is MetricType.PING:
        return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.1f} s"
    return f"{value:.0f}%"
