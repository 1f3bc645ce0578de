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
    assert made.text.startswith("# skipped npm package ")
    assert "\x1b" not in made.text


@pytest.mark.parametrize(
    ("name", "expected", "text"),
    [
        ("-g", "1.0.0", "# skipped npm package -g: a name no registry allows"),
        ("a b", "1.0.0", "# skipped npm package 'a b': a name no registry allows"),
        (
            "lo\x1b[2Jdash",
            "1.0.0",
            "# skipped npm package 'lo\\x1b[2Jdash': a name no registry allows",
        ),
        (
            "lodash",
            "-e",
            "# skipped npm package lodash: version -e is one no registry allows",
        ),
    ],
)
def test_a_skipped_package_is_named_safely(name: str, expected: str, text: str) -> None:
    made = step(finding("missing", name, None, expected), "npm")
    assert made is not None
    assert made.text == text


@pytest.mark.parametrize(
    "hostile",
    [
        "x\n rm -rf ~",
        "x\r\n$(touch pwned)",
        "x\u2028touch pwned",
        "x\x1b]52;c;cm0gLXJmIH4=\x07",
        "x\x85\x9b2J",
        "x\t;`id`",
    ],
)
@pytest.mark.parametrize("kind", ["extra", "missing", "extra_version"])
def test_a_comment_line_stays_one_inert_comment_line(hostile: str, kind: FindingKind) -> None:
    version = None if kind == "missing" else "1.0.0"
    expected = None if kind == "extra" else "1.0.0"
    # a skipped name (yarn, pip), an extra copy pip cannot hold, a path package (by hand)
    for tool, source in (
        ("yarn", PackageKind.REGISTRY),
        ("pip", PackageKind.REGISTRY),
        ("bundle", PackageKind.PATH),
    ):
        made = step(finding(kind, hostile, version, expected, source=source), tool)
        assert made is not None
        assert made.argv == ()
        text = made.text
        assert text.startswith("# ")
        assert text.splitlines() == [text]
        assert not any(c in text for c in "\r\t\x1b\x07\x85\x9b\u2028")
        # Even read as a command, the name is one single-quoted word: nothing expands.
        words = shlex.split(text[2:])
        assert any(w.startswith("x\\") for w in words)


def test_only_the_words_of_the_command_are_checked() -> None:
    evil = "4.18.0+evil;x"
    cases = [
        ("npm", NPM, "npm install express@4.19.2"),
        ("yarn", NPM, "yarn add express@4.19.2"),
        ("pnpm", NPM, "pnpm add express@4.19.2"),
        ("pip", PIP, "pip install express==4.19.2"),
        ("uv", PIP, "uv add express==4.19.2"),
        ("poetry", PIP, "poetry add express==4.19.2"),
        ("bundle", GEM, "bundle update express --conservative"),
    ]
    for tool, manager, command in cases:
        made = step(finding("differs", "express", evil, "4.19.2", manager), tool)
        assert made is not None
        assert made.text == command
    # cargo names the installed copy: that version is in the command, so it is checked
    made = step(finding("differs", "serde", evil, "1.0.2", CARGO), "cargo")
    assert made is not None
    assert made.text == "# skipped cargo package serde: version '4.18.0+evil;x' is one no " + (
        "registry allows"
    )
    # an extra package or copy: only its name (and, for cargo, its version) is in the command
    for tool, command in (
        ("npm", "npm uninstall left-pad"),
        ("pip", "pip uninstall --yes left-pad"),
    ):
        made = step(finding("extra", "left-pad", evil, None), tool)
        assert made is not None
        assert made.text == command
    made = step(finding("extra_version", "lodash", "4.17.11", "4.17.21, 4.17.20"), "yarn")
    assert made is not None
    assert made.text == "yarn dedupe lodash"
    made = step(finding("extra_version", "-g", evil, "4.17.21"), "npm")
    assert made is not None
    assert made.text == "npm dedupe"
    made = step(finding("extra_version", "-g", "1.0.0", "2.0.0"), "yarn")
    assert made is not None
    assert made.text == "# skipped npm package -g: a name no registry allows"
    made = step(finding("extra_version", "rand", evil, "0.8.5", CARGO), "cargo")
    assert made is not None
    assert made.argv == ()


def test_each_skipped_package_has_its_own_line() -> None:
    findings = [
        finding("extra", "-g", "1.0.0", None),
        finding("extra", "a b", "1.0.0", None),
        finding("differs", "express", "4.18.0+evil;x", "4.19.2"),
        finding("extra", "-g", "2.0.0", None),  # the same package again: one line
    ]
    plan = fix_plan(findings, {ENV: "bob-laptop"})
    assert [s.text for s in plan["bob-laptop"]] == [
        "# skipped npm package -g: a name no registry allows",
        "# skipped npm package 'a b': a name no registry allows",
        "npm install express@4.19.2",
    ]


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
