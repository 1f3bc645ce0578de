"""Backend contract, machine side: dependencies (listing, paging, filters, reports) and health.

Same transports as test_contract.py (conftest.TRANSPORTS), real PostgreSQL, demo users.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from devsync_tui.backend.base import ChangeEvent, LinkChanged
from devsync_tui.backend.errors import InvalidInput, PermissionDenied
from devsync_tui.core.models import (
    Dependency,
    DependencyInput,
    DependencyStatus,
    HealthPoint,
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
