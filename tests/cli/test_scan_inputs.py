"""``commands.scan.to_inputs``: how OSV's answers and the stored statuses combine."""

from __future__ import annotations

from uuid import uuid4

from devsync_tui.commands.scan import to_inputs
from devsync_tui.core.lockfiles import ParsedPackage
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager
from devsync_tui.core.osv import OsvResult

NPM = PackageManager.NPM
HEALTHY, OUTDATED, VULNERABLE = (
    DependencyStatus.HEALTHY,
    DependencyStatus.OUTDATED,
    DependencyStatus.VULNERABLE,
)


def stored(name: str, version: str, status: DependencyStatus) -> Dependency:
    return Dependency(uuid4(), uuid4(), None, NPM, name, None, version, status)


PACKAGES = [
    ParsedPackage(NPM, "a", "1.0.0", "^1", True),  # OSV: vulnerable
    ParsedPackage(NPM, "b", "2.0.0", None, False),  # OSV: clean; stored outdated → kept
    ParsedPackage(NPM, "c", "3.0.0", None, False),  # OSV: clean; stored vulnerable → healthy
    ParsedPackage(NPM, "d", "4.0.0", None, False),  # OSV: unknown; stored vulnerable → kept
    ParsedPackage(NPM, "e", "5.0.1", None, False),  # OSV: unknown; stored for another version
    ParsedPackage(NPM, "f", None, "^6", True),  # no version: never looked up
]
PREVIOUS = [
    stored("b", "2.0.0", OUTDATED),
    stored("c", "3.0.0", VULNERABLE),
    stored("d", "4.0.0", VULNERABLE),
    stored("e", "5.0.0", VULNERABLE),
]


def test_osv_answers_and_last_known_state() -> None:
    osv = OsvResult(
        {(NPM, "a", "1.0.0"): ("GHSA-1",), (NPM, "b", "2.0.0"): (), (NPM, "c", "3.0.0"): ()},
        online=False,
        note="OSV is unreachable",
    )
    rows = {row.package_name: row for row in to_inputs(PACKAGES, osv, PREVIOUS)}
    assert {name: row.status for name, row in rows.items()} == {
        "a": VULNERABLE,
        "b": OUTDATED,
        "c": HEALTHY,
        "d": VULNERABLE,
        "e": HEALTHY,
        "f": HEALTHY,
    }
    assert rows["a"].version_constraint == "^1"
    assert rows["f"].resolved_version is None


def test_without_osv_every_stored_status_of_the_same_version_is_kept() -> None:
    rows = {row.package_name: row.status for row in to_inputs(PACKAGES, None, PREVIOUS)}
    assert rows == {
        "a": HEALTHY,
        "b": OUTDATED,
        "c": VULNERABLE,
        "d": VULNERABLE,
        "e": HEALTHY,
        "f": HEALTHY,
    }
