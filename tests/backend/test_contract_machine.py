"""Backend contract, machine side: dependencies (listing, paging, filters, reports) and health.

Same transports as test_contract.py (conftest.TRANSPORTS), real PostgreSQL, demo users.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from devsync_tui.backend.errors import InvalidInput, PermissionDenied
from devsync_tui.backend.live import ChangeEvent, LinkChanged
from devsync_tui.core.models import (
    Dependency,
    DependencyInput,
    DependencyStatus,
    HealthPoint,
    HealthSlots,
    MetricType,
    PackageManager,
)
from tests.backend.conftest import Transport, next_event
from tests.support import demo

pytestmark = pytest.mark.db


async def test_list_dependencies_filters_order_and_paging(transport: Transport) -> None:
    bob = await transport.open("bob")
    everything = await bob.list_dependencies(demo.PROJECT_STOREFRONT)
    assert everything
    assert {d.project_id for d in everything} == {demo.PROJECT_STOREFRONT}
    storefront_envs = {e.id for e in demo.ENVIRONMENTS if e.project_id == demo.PROJECT_STOREFRONT}
    assert {d.environment_id for d in everything} == storefront_envs | {None}
    # Ordered by package manager, package name (bytewise), then environment, baseline first.
    pairs = [(str(d.package_manager), d.package_name) for d in everything]
    assert pairs == sorted(pairs)
    for a, b in itertools.pairwise(everything):
        if (a.package_manager, a.package_name) == (b.package_manager, b.package_name):
            assert b.environment_id is not None

    baseline = await bob.list_dependencies(demo.PROJECT_STOREFRONT, environment_ids=[None])
    assert baseline == [d for d in everything if d.environment_id is None]
    mine = await bob.list_dependencies(
        demo.PROJECT_STOREFRONT, environment_ids=[None, demo.ENV_BOB_LAPTOP]
    )
    assert mine == [d for d in everything if d.environment_id in (None, demo.ENV_BOB_LAPTOP)]

    name = everything[0].package_name
    needle = name[1:4].upper()  # case-insensitive substring
    filtered = await bob.list_dependencies(demo.PROJECT_STOREFRONT, name_filter=needle)
    assert filtered == [d for d in everything if needle.lower() in d.package_name.lower()]
    assert await bob.list_dependencies(demo.PROJECT_STOREFRONT, name_filter="%") == [
        d for d in everything if "%" in d.package_name
    ]

    pages = [
        await bob.list_dependencies(demo.PROJECT_STOREFRONT, limit=3, offset=offset)
        for offset in range(0, len(everything), 3)
    ]
    assert [d for page in pages for d in page] == everything
    mallory = await transport.open("mallory")
    assert await mallory.list_dependencies(demo.PROJECT_STOREFRONT) == []


async def test_report_dependencies_replaces_the_set(transport: Transport) -> None:
    bob = await transport.open("bob")
    packages = [
        DependencyInput(PackageManager.NPM, "react", "^18.2.0", "18.2.0"),
        DependencyInput(PackageManager.PIP, "requests", ">=2", "2.32.3", DependencyStatus.OUTDATED),
    ]
    stored = await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, packages)
    assert stored == 2
    rows = await bob.list_dependencies(
        demo.PROJECT_STOREFRONT, environment_ids=[demo.ENV_BOB_LAPTOP]
    )
    assert [(d.package_manager, d.package_name, d.resolved_version, d.status) for d in rows] == [
        (PackageManager.NPM, "react", "18.2.0", DependencyStatus.HEALTHY),
        (PackageManager.PIP, "requests", "2.32.3", DependencyStatus.OUTDATED),
    ]
    with pytest.raises(PermissionDenied):  # erin's machine
        await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_STAGING, packages)
    carol = await transport.open("carol")
    with pytest.raises(PermissionDenied):  # viewers never write, not even the baseline
        await carol.report_dependencies(demo.PROJECT_STOREFRONT, None, packages)
    with pytest.raises(InvalidInput):
        await bob.report_dependencies(
            demo.PROJECT_STOREFRONT,
            demo.ENV_BOB_LAPTOP,
            [DependencyInput(PackageManager.NPM, "", None, None)],
        )


async def test_health_series_and_report(transport: Transport) -> None:
    bob = await transport.open("bob")
    since = datetime.now(UTC) - timedelta(hours=1)
    series = await bob.health_series([demo.ENV_BOB_LAPTOP, demo.ENV_STAGING], since)
    assert {p.environment_id for p in series} == {demo.ENV_BOB_LAPTOP, demo.ENV_STAGING}
    assert {str(p.metric_type) for p in series} == set(demo.HEALTH_METRICS)
    assert all(p.recorded_at >= since for p in series)
    assert await bob.health_series([], since) == []

    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    points = [
        HealthPoint(MetricType.CPU, {"percent": 12.5}, at),
        HealthPoint(MetricType.PING, {"ms": 3.1}, at),
    ]
    assert await bob.report_health(demo.ENV_BOB_LAPTOP, points) == 2
    assert await bob.report_health(demo.ENV_BOB_LAPTOP, points) == 0  # retries never duplicate
    latest = await bob.health_series([demo.ENV_BOB_LAPTOP], at)
    assert {(str(p.metric_type), p.recorded_at) for p in latest} == {("cpu", at), ("ping", at)}
    assert next(p.value for p in latest if p.metric_type is MetricType.CPU) == {"percent": 12.5}
    with pytest.raises(PermissionDenied):
        await bob.report_health(demo.ENV_STAGING, points)


async def test_change_feed_carries_bulk_reports(transport: Transport) -> None:
    alice, bob = await transport.open("alice"), await transport.open("bob")
    feed = alice.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))
    packages = [
        DependencyInput(PackageManager.NPM, f"bulk-{i:03}", "^1.0.0", "1.0.0") for i in range(300)
    ]
    await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, packages)
    seen: set[str] = set()
    while len(seen) < len(packages):
        event = await next_event(
            feed,
            lambda e: isinstance(e, ChangeEvent) and e.table == "dependencies" and e.op == "INSERT",
        )
        assert isinstance(event.row, Dependency)
        assert event.row.environment_id == demo.ENV_BOB_LAPTOP
        seen.add(event.row.package_name)
    assert seen == {p.package_name for p in packages}

    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    points = [
        HealthPoint(MetricType.CPU, {"percent": float(i)}, at + timedelta(seconds=i))
        for i in range(50)
    ]
    await bob.report_health(demo.ENV_BOB_LAPTOP, points)
    batch = await next_event(
        feed, lambda e: isinstance(e, ChangeEvent) and e.table == "health_checks"
    )
    # One event for the whole batch: the view re-reads the series of that environment.
    assert (batch.op, batch.environment_id, batch.team_id) == (
        "INSERT",
        demo.ENV_BOB_LAPTOP,
        demo.TEAM_ACME,
    )
    await feed.aclose()  # type: ignore[attr-defined]


async def test_rollup_health_is_for_admins_and_folds_old_points(transport: Transport) -> None:
    bob = await transport.open("bob")
    old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=9)
    points = [
        HealthPoint(MetricType.CPU, {"percent": float(10 + i)}, old + timedelta(minutes=5 * i))
        for i in range(6)
    ]
    assert await bob.report_health(demo.ENV_BOB_LAPTOP, points) == 6
    with pytest.raises(PermissionDenied):
        await bob.rollup_health(7)
    alice = await transport.open("alice")
    assert await alice.rollup_health(7) >= 6
    series = await alice.health_series([demo.ENV_BOB_LAPTOP], old - timedelta(hours=1))
    folded = [p for p in series if p.recorded_at < old + timedelta(hours=1)]
    assert len(folded) == 1
    assert folded[0].value["rollup"] == "hour"
    assert folded[0].value["n"] == 6


def _number(value: dict[str, object]) -> float | None:
    """private.health_number: the first number under "value", "percent", "ms"."""
    for key in ("value", "percent", "ms"):
        number = value.get(key)
        if isinstance(number, int | float) and not isinstance(number, bool):
            return float(number)
    return None


async def test_health_sparklines_average_each_slot(transport: Transport) -> None:
    bob = await transport.open("bob")
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    since = until - timedelta(hours=5, seconds=7)  # slot edges fall between the seed's points
    # 1,200 cpu points 13 s apart (every tenth without a number) and a ping exactly at `until`
    # (the last slot holds it): with 1,440 slots of 12.5 s some slots hold a point, others none.
    start = until - timedelta(seconds=13 * 1200, milliseconds=-250)  # off the seed's times
    points = [
        HealthPoint(
            MetricType.CPU,
            {"percent": float(i % 97)} if i % 10 else {"note": "no number"},
            start + timedelta(seconds=13 * i),
        )
        for i in range(1200)
    ] + [HealthPoint(MetricType.PING, {"ms": 7.5, "value": 2.5}, until)]
    assert await bob.report_health(demo.ENV_BOB_LAPTOP, points) == len(points)
    envs = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING]
    raw = await bob.health_series(envs, since)
    for slots in (1, 13, 1440):
        expected: dict[tuple[object, str, int], list[float]] = {}
        span = (until - since).total_seconds()
        for p in raw:
            number = _number(p.value)
            if number is None or p.recorded_at > until:
                continue
            offset = (p.recorded_at - since).total_seconds()
            slot = min(slots - 1, math.floor(offset / span * slots))
            expected.setdefault((p.environment_id, str(p.metric_type), slot), []).append(number)
        got = await bob.health_sparklines(envs, since, slots, until=until)
        # one per environment and metric with a point, in that order, each slot in its place
        keys = sorted({(e, m) for e, m, _ in expected}, key=lambda k: (str(k[0]), k[1]))
        assert [(s.environment_id, str(s.metric_type)) for s in got] == keys
        for s in got:
            assert isinstance(s, HealthSlots)
            assert isinstance(s.metric_type, MetricType)
            assert s.since == since
            assert s.width.total_seconds() == pytest.approx((until - since).total_seconds() / slots)
            assert isinstance(s.averages, tuple)
            assert isinstance(s.counts, tuple)
            assert len(s.averages) == len(s.counts) == slots
            for slot, (average, n) in enumerate(zip(s.averages, s.counts, strict=True)):
                numbers = expected.get((s.environment_id, str(s.metric_type), slot), [])
                assert n == len(numbers)
                if numbers:
                    assert average == pytest.approx(sum(numbers) / len(numbers))
                else:
                    assert average is None
        if slots == 1440:
            cpu = next(
                s
                for s in got
                if s.environment_id == demo.ENV_BOB_LAPTOP and s.metric_type is MetricType.CPU
            )
            assert 0 < cpu.counts.count(0) < slots  # empty slots between full ones
            ping = [s for s in got if s.metric_type is MetricType.PING and s.counts[-1]]
            assert [(s.environment_id, s.averages[-1], s.counts[-1]) for s in ping] == [
                (demo.ENV_BOB_LAPTOP, 2.5, 1)  # "value" comes before "ms"
            ]
    # Without `until` the window ends now: the ping reported for later is left out.
    now_series = await bob.health_sparklines(envs, since, 24)
    assert sum(sum(s.counts) for s in now_series) == sum(
        1 for p in raw if _number(p.value) is not None and p.recorded_at <= datetime.now(UTC)
    )
    assert await bob.health_sparklines([], since, 24) == []


async def test_health_sparklines_show_outsiders_nothing_and_check_bounds(
    transport: Transport,
) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    envs = [e.id for e in demo.ENVIRONMENTS]
    mallory = await transport.open("mallory")
    assert await mallory.health_sparklines(envs, since, 48) == []
    bob = await transport.open("bob")
    seen = {p.environment_id for p in await bob.health_series(envs, since)}
    assert seen
    assert {s.environment_id for s in await bob.health_sparklines(envs, since, 48)} == seen
    too_many = [uuid4() for _ in range(501)]
    for ids, slots, until in (
        (too_many, 48, None),
        (envs, 0, None),
        (envs, 1441, None),
        (envs, 48, since),
    ):
        with pytest.raises(InvalidInput):
            await bob.health_sparklines(ids, since, slots, until=until)


async def test_health_latest_is_the_newest_point_with_a_number(transport: Transport) -> None:
    bob = await transport.open("bob")
    since = datetime.now(UTC) - timedelta(days=1)
    envs = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_CI_RUNNER]
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    points = [
        HealthPoint(MetricType.CPU, {"percent": 33.0}, at - timedelta(seconds=1)),
        HealthPoint(MetricType.CPU, {"note": "no number"}, at),  # newer, but no number
    ]
    assert await bob.report_health(demo.ENV_BOB_LAPTOP, points) == 2
    raw = await bob.health_series(envs, since)
    newest: dict[tuple[object, str], datetime] = {}
    for p in raw:
        key = (p.environment_id, str(p.metric_type))
        if _number(p.value) is not None and p.recorded_at > newest.get(key, since):
            newest[key] = p.recorded_at
    latest = await bob.health_latest(envs, since)
    assert {(p.environment_id, str(p.metric_type)): p.recorded_at for p in latest} == newest
    assert [(p.environment_id, str(p.metric_type)) for p in latest] == sorted(
        ((p.environment_id, str(p.metric_type)) for p in latest), key=lambda k: (str(k[0]), k[1])
    )
    cpu = next(
        p for p in latest if p.environment_id == demo.ENV_BOB_LAPTOP and p.metric_type == "cpu"
    )
    assert cpu.value == {"percent": 33.0}
    mallory = await transport.open("mallory")
    assert await mallory.health_latest(envs, since) == []
    with pytest.raises(InvalidInput):
        await bob.health_latest([uuid4() for _ in range(501)], since)
