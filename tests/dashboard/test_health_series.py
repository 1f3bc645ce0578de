"""The pure helpers behind the health table: numbers out of metric JSON, time slots, text
sparklines, latest values, the legend of the drift matrix (no database, no terminal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from devsync_tui.core.models import (
    Environment,
    EnvStatus,
    HealthCheck,
    HealthSlots,
    MetricType,
)
from devsync_tui.dashboard.widgets.drift_matrix import legend_text
from devsync_tui.dashboard.widgets.health_series import (
    GRAIN,
    STRAY,
    WINDOW,
    EnvHealth,
    SlotSeries,
    bucket_series,
    format_latest,
    metric_number,
    slot_end,
    sparkline,
    sparkline_window,
    summarize,
)
from devsync_tui.dashboard.widgets.health_table import spark_width

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_metric_number_takes_the_first_numeric_of_the_known_keys() -> None:
    assert metric_number({"percent": 41.2}) == 41.2
    assert metric_number({"ms": 12}) == 12.0
    assert metric_number({"value": 3.5, "unit": "%"}) == 3.5
    assert metric_number({"avg": 7.0, "min": 1, "max": 9, "rollup": "hour"}) == 7.0
    assert metric_number({"percent": "41", "value": 40.0}) == 40.0  # strings are skipped
    assert metric_number({"value": True, "avg": 2.0}) == 2.0  # so are booleans
    assert metric_number({"value": float("nan")}) is None
    assert metric_number({"ok": True}) is None
    assert metric_number([1, 2]) is None


def test_buckets_average_per_slot_and_leave_gaps() -> None:
    start, end = T0 - timedelta(hours=4), T0
    points = [
        (start + timedelta(minutes=10), 10.0),
        (start + timedelta(minutes=50), 30.0),  # same first hour: averaged with 10
        (start + timedelta(hours=3, minutes=5), 90.0),
        (start - timedelta(minutes=1), 99.0),  # before the window: ignored
    ]
    assert bucket_series(points, start, end, 4) == [20.0, None, None, 90.0]
    assert bucket_series(points, end, start, 4) == []


def test_sparkline_uses_a_fixed_scale_and_spaces_for_gaps() -> None:
    assert sparkline([0.0, 50.0, 100.0, None, 150.0]) == "▁▅█ █"
    assert sparkline([40.0, 40.0]) == "▄▄"  # flat 40 % is not drawn as zero


def test_slot_end_rounds_up_to_the_minute() -> None:
    assert slot_end(T0) == T0
    assert slot_end(T0 + timedelta(seconds=1)) == T0 + timedelta(minutes=1)


def test_sparkline_windows_are_whole_cells_near_a_day() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    on_grid = datetime(2026, 3, 1, tzinfo=UTC)  # a whole number of 12-minute cells since 1970
    minute = on_grid + timedelta(minutes=1)
    assert sparkline_window(on_grid, 60) == (on_grid - WINDOW, on_grid)
    for now in (on_grid + timedelta(microseconds=1), on_grid + timedelta(minutes=11, seconds=59)):
        assert sparkline_window(now, 60) == (on_grid + GRAIN - WINDOW, on_grid + GRAIN)
    for slots in range(6, 121):
        start, end = sparkline_window(on_grid + timedelta(seconds=5), slots)
        assert abs((end - start) - WINDOW) <= STRAY
        if end == on_grid + GRAIN:  # whole cells: what the database reads from its roll-up
            assert (start - epoch) % GRAIN == timedelta(0)
            assert (end - start) % (GRAIN * slots) == timedelta(0)
        else:  # the exact day, up to the next minute
            assert (start, end) == (minute - WINDOW, minute)
    # 46 slots (200 columns): 36-minute slots, 27.6 h; 80 slots: no whole number of cells
    # within STRAY of a day
    start, end = sparkline_window(on_grid + timedelta(seconds=5), 46)
    assert (end - start, end) == (timedelta(minutes=36 * 46), on_grid + GRAIN)
    assert sparkline_window(on_grid + timedelta(seconds=5), 80) == (minute - WINDOW, minute)


def test_summarize_places_series_and_newest_readings() -> None:
    quiet = Environment(uuid4(), uuid4(), uuid4(), "quiet", EnvStatus.OFFLINE)
    busy = Environment(uuid4(), quiet.project_id, uuid4(), "busy", EnvStatus.ACTIVE)
    start, end = T0 - timedelta(hours=4), T0
    width, hours = (end - start) / 4, timedelta(hours=2)
    series = [
        HealthSlots(busy.id, MetricType.CPU, start, width, (20.0, None, None, 80.0), (3, 0, 0, 1)),
        # another window than asked for (2-hour slots from 2 hours earlier): kept as its own,
        # resampled where drawn
        HealthSlots(
            busy.id, MetricType.MEMORY, start - hours, hours, (50.0, 60.0, None), (1, 1, 0)
        ),
        HealthSlots(uuid4(), MetricType.CPU, start, width, (1.0,) * 4, (1,) * 4),  # not shown
    ]
    latest = [
        HealthCheck(uuid4(), busy.id, MetricType.CPU, {"percent": 80.0}, T0),
        HealthCheck(uuid4(), busy.id, MetricType.PING, {"ms": 12.25}, T0),
        HealthCheck(uuid4(), busy.id, MetricType.DISK, {"note": "no number"}, T0),
    ]
    rows = summarize([quiet, busy], series, latest, start=start, end=end, slots=4)
    assert [row.environment.name for row in rows] == ["quiet", "busy"]
    assert rows[0].series == {}
    assert rows[0].latest(MetricType.CPU) is None
    assert rows[0].buckets(MetricType.CPU, start, end, 4) == [None] * 4
    assert rows[1].buckets(MetricType.CPU, start, end, 4) == [20.0, None, None, 80.0]
    assert rows[1].series[MetricType.CPU].counts == (3, 0, 0, 1)
    memory = rows[1].series[MetricType.MEMORY]
    assert (memory.start, memory.end) == (start - hours, end)
    assert rows[1].buckets(MetricType.MEMORY, start, end, 4) == [60.0, 60.0, None, None]
    assert rows[1].latest(MetricType.CPU) == 80.0
    assert rows[1].latest(MetricType.DISK) is None
    assert format_latest(MetricType.PING, rows[1].latest(MetricType.PING)) == "12.2 ms"
    assert format_latest(MetricType.CPU, 79.6) == "80%"
    assert format_latest(MetricType.MEMORY, None) == "—"
    assert summarize([busy])[0] == EnvHealth(busy)  # status and last sync only


def test_slots_drawn_at_another_width_weigh_their_counts() -> None:
    start, end = T0 - timedelta(hours=4), T0
    series = SlotSeries(start, end, (10.0, 40.0, None, 90.0), (3, 1, 0, 2))
    assert series.resample(start, end, 4) == [10.0, 40.0, None, 90.0]
    # Two slots: (10·3 + 40·1) / 4 and 90 alone.
    assert series.resample(start, end, 2) == [17.5, 90.0]
    # Eight: each slot under both halves, the gap stays a gap.
    assert series.resample(start, end, 8) == [10.0, 10.0, 40.0, 40.0, None, None, 90.0, 90.0]
    # A window a minute later (the clock ticked since the read): the same slots, shifted.
    later = timedelta(minutes=1)
    assert series.resample(start + later, end + later, 4) == [10.0, 40.0, None, 90.0]
    assert series.resample(start, end, 0) == []


def test_sparklines_widen_with_the_terminal() -> None:
    assert spark_width(80) < spark_width(120) < spark_width(200)
    assert spark_width(40) >= 4


def test_legend_wraps_whole_entries() -> None:
    assert "\n" not in legend_text(100)
    narrow = legend_text(40)
    assert all(len(line) <= 40 for line in narrow.splitlines())
    assert "! vulnerable" in narrow.splitlines()[-1]
