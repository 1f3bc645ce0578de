"""core.fix: ``devsync drift --fix`` commands per ecosystem tool, shell-quoted, and nothing
for names or versions that could be read as something else."""

from __future__ import annotations

import shlex
from uuid import UUID

import pytest

from devsync_tui.core.drift_report import DriftFinding, FindingKind
from devsync_tui.core.fix import fix_plan, step
from devsync_tui.core.models import PackageKind, PackageManager

ENV = UUID(int=1)
NPM, PIP, GEM, CARGO = (
    PackageManager.NPM,
    PackageManager.PIP,
    PackageManager.GEM,
    PackageManager.CARGO,
)


def finding(
    kind: FindingKind,
    name: str,
    version: str | None,
    expected: str | None,
    manager: PackageManager = NPM,
    source: PackageKind = PackageKind.REGISTRY,
) -> DriftFinding:
    return DriftFinding(kind, manager, name, ENV, "bob-laptop", version, expected, source)


@pytest.mark.parametrize(
    ("tool", "manager", "kind", "version", "expected", "command"),
    [
        ("npm", NPM, "differs", "4.17.20", "4.17.21", "npm install lodash@4.17.21"),
        ("yarn", NPM, "missing", None, "4.17.21", "yarn add lodash@4.17.21"),
        ("pnpm", NPM, "extra", "1.0.0", None, "pnpm remove lodash"),
        ("npm", NPM, "extra", "1.0.0", None, "npm uninstall lodash"),
        ("npm", NPM, "extra_version", "4.17.11", "4.17.21", "npm dedupe"),
        ("yarn", NPM, "extra_version", "4.17.11", "4.17.21", "yarn dedupe lodash"),
        ("pip", PIP, "differs", "2.28.2", "2.31.0", "pip install lodash==2.31.0"),
        ("uv", PIP, "missing", None, "2.31.0", "uv add lodash==2.31.0"),
        ("poetry", PIP, "extra", "1", None, "poetry remove lodash"),
        ("pip", PIP, "extra", "1", None, "pip uninstall --yes lodash"),
        ("bundle", GEM, "missing", None, "7.1.3", "bundle add lodash --version 7.1.3"),
        ("bundle", GEM, "differs", "7.1.2", "7.1.3", "bundle update lodash --conservative"),
        (
            "cargo",
            CARGO,
            "differs",
            "1.0.1",
            "1.0.2",
            "cargo update --package lodash@1.0.1 --precise 1.0.2",
        ),
        ("cargo", CARGO, "extra_version", "0.9.1", "1.0.2", "cargo update --package lodash@0.9.1"),
    ],
)
def test_each_tool(
    tool: str,
    manager: PackageManager,
    kind: FindingKind,
    version: str | None,
    expected: str | None,
    command: str,
) -> None:
    made = step(finding(kind, "lodash", version, expected, manager), tool)
    assert made is not None
    assert made.text == command


def test_scoped_names_are_quoted_words_and_pep440_versions_pass() -> None:
    made = step(finding("differs", "@types/node", "20.1.0", "20.11.5"), "npm")
    assert made is not None
    assert made.argv == ("npm", "install", "@types/node@20.11.5")
    made = step(finding("differs", "torch", "2.1.0", "2.2.0+cpu", PIP), "pip")
    assert made is not None
    assert shlex.split(made.text) == ["pip", "install", "torch==2.2.0+cpu"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("--registry=https://evil.example", "1.0.0"),  # would be an option
        ("a;rm -rf ~", "1.0.0"),
        ("$(touch pwned)", "1.0.0"),
        ("lodash", "1.0.0'; rm -rf ~; echo '"),
        ("lodash", "-e"),
        ("lo\x1b[2Jdash", "1.0.0"),
    ],
)
def test_hostile_names_and_versions_get_no_command(name: str, expected: str) -> None:
    made = step(finding("missing", name, None, expected), "npm")
    assert made is not None
    assert made.argv == ()
    assert made.text == "# skipped a package whose name or version no registry allows"


def test_local_packages_are_changed_by_hand_and_the_plan_lists_every_machine() -> None:
    other = UUID(int=2)
    findings = [
        finding("differs", "app", "1.0.0", "1.1.0", source=PackageKind.WORKSPACE),
        finding("extra_version", "lodash", "4.17.11", "4.17.21"),
        finding("extra_version", "ms", "2.0.0", "2.1.3"),  # the same npm dedupe: once
    ]
    plan = fix_plan(findings, {ENV: "bob-laptop", other: "ci"})
    assert [s.text for s in plan["bob-laptop"]] == [
        "# app is a workspace package: change it by hand",
        "npm dedupe",
    ]
    assert plan["ci"] == []
