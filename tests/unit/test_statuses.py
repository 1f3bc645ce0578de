"""core.statuses: how OSV's answers, the registries' latest releases and the stored statuses
combine into one status per package (what scan and the agent report)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from devsync_tui.core.lockfiles import ParsedPackage
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager
from devsync_tui.core.osv import OsvResult
from devsync_tui.core.registry import RegistryResult
from devsync_tui.core.statuses import assess, decide, to_inputs
from tests.support.fake_registry import FakeRegistry

NPM, PIP = PackageManager.NPM, PackageManager.PIP
HEALTHY, OUTDATED, VULNERABLE = (
    DependencyStatus.HEALTHY,
    DependencyStatus.OUTDATED,
    DependencyStatus.VULNERABLE,
)


@pytest.mark.parametrize(
    ("vulnerable", "outdated", "kept", "expected"),
    [
        (True, True, None, VULNERABLE),  # vulnerable wins
        (True, False, OUTDATED, VULNERABLE),
        (False, True, VULNERABLE, OUTDATED),  # OSV says clean now
        (False, False, OUTDATED, HEALTHY),  # the registry says current now
        (False, None, OUTDATED, OUTDATED),  # registry offline: last known kept
        (None, True, VULNERABLE, VULNERABLE),  # OSV offline: last known kept, still wins
        (None, False, VULNERABLE, VULNERABLE),
        (None, False, OUTDATED, HEALTHY),
        (None, None, OUTDATED, OUTDATED),
        (None, None, None, HEALTHY),
        (False, None, None, HEALTHY),
    ],
)
def test_decide(
    vulnerable: bool | None,
    outdated: bool | None,
    kept: DependencyStatus | None,
    expected: DependencyStatus,
) -> None:
    assert decide(vulnerable, outdated, kept) is expected


def stored(name: str, version: str, status: DependencyStatus) -> Dependency:
    return Dependency(uuid4(), uuid4(), None, NPM, name, None, version, status)


PACKAGES = [
    ParsedPackage(NPM, "a", "1.0.0", "^1", True),  # OSV vulnerable, registry: 2.0.0
    ParsedPackage(NPM, "b", "2.0.0", None, False),  # OSV clean, registry: 2.1.0 → outdated
    ParsedPackage(NPM, "c", "3.0.0", None, False),  # OSV clean, registry: 3.0.0
    ParsedPackage(NPM, "d", "4.0.0", None, False),  # unknown to both; stored outdated
    ParsedPackage(NPM, "e", "git+https://x/e.git", None, False),  # unparseable version
    ParsedPackage(NPM, "f", None, "^6", True),  # no version: never looked up
]
PREVIOUS = [stored("d", "4.0.0", OUTDATED), stored("c", "3.0.0", OUTDATED)]


def test_to_inputs_with_both_sources() -> None:
    osv = OsvResult(
        {(NPM, "a", "1.0.0"): ("GHSA-1",), (NPM, "b", "2.0.0"): (), (NPM, "c", "3.0.0"): ()}
    )
    registry = RegistryResult(
        {(NPM, "a"): "2.0.0", (NPM, "b"): "2.1.0", (NPM, "c"): "3.0.0", (NPM, "e"): "1.0.0"}
    )
    rows = {r.package_name: r.status for r in to_inputs(PACKAGES, osv, registry, PREVIOUS)}
    assert rows == {
        "a": VULNERABLE,
        "b": OUTDATED,
        "c": HEALTHY,
        "d": OUTDATED,
        "e": HEALTHY,
        "f": HEALTHY,
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeRegistry]:
    registry = FakeRegistry(npm={"b": ({"latest": "2.1.0"}, ["2.0.0", "2.1.0"])}).start()
    for key, value in registry.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DEVSYNC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DEVSYNC_OSV_URL", "http://127.0.0.1:9/v1/querybatch")
    yield registry
    registry.stop()


async def test_assess_looks_up_and_decides(fake: FakeRegistry) -> None:
    result = await assess(PACKAGES, PREVIOUS)
    rows = {r.package_name: r.status for r in result.inputs}
    assert rows["b"] is OUTDATED
    assert rows["d"] is OUTDATED  # kept: neither source knows d
    assert result.registry is not None
    assert result.registry.online
    assert result.osv is not None
    assert not result.osv.online
    assert result.notes == [result.osv.note]  # OSV unreachable: one sentence, registry fine
    # Only the packages with a version were asked about, each once.
    # (b is found by its dist-tags; the others 404 there, then as packuments.)
    tags = [f"/npm/-/package/{n}/dist-tags" for n in "abcde"]
    assert sorted(fake.paths()) == sorted([*tags, "/npm/a", "/npm/c", "/npm/d", "/npm/e"])


async def test_assess_without_lookups_asks_nothing(fake: FakeRegistry) -> None:
    result = await assess(PACKAGES, PREVIOUS, use_osv=False, use_registry=False)
    assert result.osv is None
    assert result.registry is None
    assert result.notes == []
    assert fake.requests == []
    assert {r.package_name: r.status for r in result.inputs}["c"] is OUTDATED


def test_only_registry_packages_take_osv_and_registry_answers() -> None:
    """A workspace or git package sharing a published package's name is not that package:
    OSV's advisories for the name say nothing about it."""
    from devsync_tui.core.models import PackageKind

    osv = OsvResult({(NPM, "ui", "1.0.0"): ("GHSA-xxxx",), (NPM, "lib", "2.0.0"): ("GHSA-y",)})
    packages = [
        ParsedPackage(NPM, "ui", "1.0.0", None, False, PackageKind.WORKSPACE),
        ParsedPackage(NPM, "lib", "2.0.0", None, False, PackageKind.GIT),
        ParsedPackage(NPM, "lib", "2.0.0", None, False),
    ]
    statuses = [row.status for row in to_inputs(packages, osv, None)]
    assert statuses == [HEALTHY, HEALTHY, VULNERABLE]
