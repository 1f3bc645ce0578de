"""Health data for display: numbers out of the metric JSON, time buckets, text sparklines.

The database averages the points into time slots (``Backend.health_sparklines``) as many as
the sparkline is wide, one array of averages per environment and metric; the newest reading
beside it comes from ``Backend.health_latest``. No Textual here: these are plain functions the
health table calls and the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from devsync_tui.core.models import Environment, HealthCheck, HealthSlots, MetricType

#: Keys a metric's JSON value may carry its number under, in order of preference
#: (agents report {"percent": …} / {"ms": …}; the hourly rollup stores {"avg": …}).
NUMBER_KEYS = ("percent", "ms", "value", "avg")
BARS = "▁▂▃▄▅▆▇█"
#: How far back the sparklines look (about: see ``sparkline_window``).
WINDOW = timedelta(days=1)
#: The database keeps each environment's sum and count per metric and 12-minute cell of an
#: epoch grid (migration ...20261205180000_health_rollup); ``health_sparklines`` reads a window
#: from those when its ends and its slot length are whole cells, from the points otherwise.
GRAIN = timedelta(minutes=12)
#: How far a window of whole cells may stray from ``WINDOW`` before a sparkline keeps the exact
#: day instead (read from the points: slower).
STRAY = WINDOW / 6
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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
    """Average the points into ``buckets`` equal time slots over [start, end]; None marks a
    slot with no point (the machine was off), so gaps show as gaps."""
    return weighted_buckets(((at, number, 1) for at, number in points), start, end, buckets)


def weighted_buckets(
    points: Iterable[tuple[datetime, float, int]], start: datetime, end: datetime, buckets: int
) -> list[float | None]:
    """``bucket_series`` for (time, average, count) triples: each weighs its count."""
    if buckets <= 0 or end <= start:
        return []
    span = (end - start).total_seconds()
    sums = [0.0] * buckets
    counts = [0] * buckets
    for at, number, weight in points:
        offset = (at - start).total_seconds()
        if offset < 0 or offset > span:
            continue
        slot = min(buckets - 1, int(offset / span * buckets))
        sums[slot] += number * weight
        counts[slot] += weight
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def slot_end(now: datetime) -> datetime:
    """``now`` rounded up to the whole minute."""
    whole = now.replace(second=0, microsecond=0)
    return whole if whole == now else whole + timedelta(minutes=1)


def sparkline_window(now: datetime, slots: int) -> tuple[datetime, datetime]:
    """[start, end] of ``slots`` sparkline slots near ``WINDOW``: ``now`` rounded up to a whole
    ``GRAIN`` cell, each slot the whole number of cells nearest ``WINDOW / slots`` (the database
    then adds up its 12-minute sums instead of reading every point). When no whole number of
    cells comes within ``STRAY`` of the day (e.g. 80 or 90 slots), the exact day up to the next
    whole minute. The ends stay put while the clock ticks within a cell (or minute)."""
    cells = max(1, round(WINDOW / (GRAIN * max(1, slots))))
    window = GRAIN * cells * max(1, slots)
    if abs(window - WINDOW) > STRAY:
        end = slot_end(now)
        return end - WINDOW, end
    since_epoch = now - _EPOCH
    whole = _EPOCH + GRAIN * (since_epoch // GRAIN)
    end = whole if whole == now else whole + GRAIN
    return end - window, end


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
class SlotSeries:
    """One metric's slots as the database averaged them: ``values[i]`` (None: no point) over
    ``counts[i]`` points in slot ``i`` of ``len(values)`` equal slots over [start, end]."""

    start: datetime
    end: datetime
    values: tuple[float | None, ...]
    counts: tuple[int, ...]

    def resample(self, start: datetime, end: datetime, slots: int) -> list[float | None]:
        """The averages over ``slots`` slots of [start, end]: these very values when the slots
        are the same; otherwise each slot's average placed at its middle (weighing its count),
        and a wider line repeats the slot under each new slot's middle."""
        if start == self.start and end == self.end and slots == len(self.values):
            return list(self.values)
        if slots <= 0 or end <= start or not self.values:
            return [None] * max(0, slots) if end > start else []
        width = (self.end - self.start) / len(self.values)
        out = weighted_buckets(
            (
                (self.start + width * (i + 0.5), value, count)
                for i, (value, count) in enumerate(zip(self.values, self.counts, strict=True))
                if value is not None
            ),
            start,
            end,
            slots,
        )
        step = (end - start) / slots
        for j, value in enumerate(out):
            if value is None:
                index = int((start + step * (j + 0.5) - self.start) / width)
                if 0 <= index < len(self.values):
                    out[j] = self.values[index]
        return out


@dataclass(frozen=True, slots=True)
class EnvHealth:
    """One environment's row in the health view."""

    environment: Environment
    #: Slot averages per metric within the window.
    series: Mapping[MetricType, SlotSeries] = field(default_factory=dict)
    #: The newest reading per metric within the window.
    newest: Mapping[MetricType, float] = field(default_factory=dict)

    def latest(self, metric: MetricType) -> float | None:
        return self.newest.get(metric)

    def buckets(
        self, metric: MetricType, start: datetime, end: datetime, slots: int
    ) -> list[float | None]:
        series = self.series.get(metric)
        if series is None:
            return [None] * slots if slots > 0 and end > start else []
        return series.resample(start, end, slots)


def summarize(
    environments: Sequence[Environment],
    series: Iterable[HealthSlots] = (),
    latest: Iterable[HealthCheck] = (),
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    slots: int = 0,
) -> list[EnvHealth]:
    """One row per environment, in their order (one without data still gets a row): the slot
    averages per metric of [start, end] in ``slots`` slots (``series``: the database's arrays,
    kept as they are), and the newest reading per metric (``latest``: a point per environment
    and metric; one without a number is skipped)."""
    found: dict[UUID, dict[MetricType, SlotSeries]] = {}
    if start is not None and end is not None:
        for one in series:
            if one.since == start and len(one.averages) == slots:
                window = SlotSeries(start, end, one.averages, one.counts)
            else:
                # Another window than asked for: its own slots, resampled where drawn.
                count = len(one.averages)
                window = SlotSeries(
                    one.since, one.since + one.width * count, one.averages, one.counts
                )
            found.setdefault(one.environment_id, {})[MetricType(one.metric_type)] = window
    newest: dict[UUID, dict[MetricType, float]] = {}
    for check in latest:
        number = metric_number(check.value)
        if number is not None:
            newest.setdefault(check.environment_id, {})[MetricType(check.metric_type)] = number
    return [EnvHealth(env, found.get(env.id, {}), newest.get(env.id, {})) for env in environments]


def format_latest(metric: MetricType, value: float | None) -> str:
    """The latest value as shown beside the sparkline: "41%", "12.3 ms", or "—"."""
    if value is None:
        return "—"
    if metric is MetricType.PING:
        return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.1f} s"
    return f"{value:.0f}%"
