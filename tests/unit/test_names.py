"""Package names compared the way each ecosystem compares them (core/names.py), in the scan
and in drift."""

from __future__ import annotations

from uuid import uuid4

import pytest

from devsync_tui.core.drift import drift_report
from devsync_tui.core.lockfiles.base import ParsedPackage
from devsync_tui.core.lockfiles.merge import merge_versions
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager
from devsync_tui.core.names import package_key, pep503, same_package

NPM, PIP, GEM, CARGO = (
    PackageManager.NPM,
    PackageManager.PIP,
    PackageManager.GEM,
    PackageManager.CARGO,
)


@pytest.mark.parametrize(
    ("manager", "a", "b", "same"),
    [
        (PIP, "Foo_Bar.baz", "foo-bar-baz", True),
        (PIP, "zope.interface", "Zope-Interface", True),
        (PIP, "foo--bar", "foo_bar", True),
        (PIP, "foobar", "foo-bar", False),
        (NPM, "JSONStream", "jsonstream", False),  # two packages on the registry
        (NPM, "@types/node", "@Types/node", False),  # scopes are not case-folded either
        (NPM, "lodash.merge", "lodash-merge", False),
        (GEM, "RedCloth", "redcloth", False),
        (GEM, "net-http", "net_http", False),
        (CARGO, "serde_json", "serde-json", True),  # crates.io: one name either way
        (CARGO, "Inflector", "inflector", True),
        (CARGO, "serde", "serde-json", False),
    ],
)
def test_same_package(manager: PackageManager, a: str, b: str, same: bool) -> None:
    assert same_package(manager, a, b) is same
    assert (package_key(manager, a) == package_key(manager, b)) is same


def test_pep503_is_the_normal_form() -> None:
    assert pep503("Django_REST.framework") == "django-rest-framework"


def test_rows_of_one_crate_spelled_two_ways_are_one_row() -> None:
    rows = merge_versions(
        [
            ParsedPackage(CARGO, "serde_json", "1.0.108", "1", True),
            ParsedPackage(CARGO, "serde-json", "1.0.108", None, False),
            ParsedPackage(CARGO, "serde_json", "0.9.10", None, False),
        ]
    )
    assert [(r.name, r.version, r.direct) for r in rows] == [
        ("serde_json", "1.0.108", True),
        ("serde_json", "0.9.10", False),
    ]


def dep(env: object, manager: PackageManager, name: str, version: str) -> Dependency:
    return Dependency(
        id=uuid4(),
        project_id=uuid4(),
        environment_id=env,  # type: ignore[arg-type]
        package_manager=manager,
        package_name=name,
        version_constraint=None,
        resolved_version=version,
        status=DependencyStatus.HEALTHY,
    )


def test_drift_matches_names_the_ecosystem_way() -> None:
    laptop = uuid4()
    deps = [
        dep(None, PIP, "Django_Rest.Framework", "3.15.0"),
        dep(laptop, PIP, "django-rest-framework", "3.15.0"),
        dep(None, CARGO, "serde_json", "1.0.108"),
        dep(laptop, CARGO, "serde-json", "1.0.108"),
        dep(None, NPM, "JSONStream", "1.3.5"),
        dep(laptop, NPM, "jsonstream", "1.0.3"),
    ]
    report = drift_report(deps, {laptop: "laptop"})
    found = {(f.kind, f.package_manager, f.package_name) for f in report.baseline_drift}
    # pip and cargo spellings are one package each (no drift); npm's are two packages.
    assert found == {("missing", NPM, "JSONStream"), ("extra", NPM, "jsonstream")}
    assert report.packages == 4
