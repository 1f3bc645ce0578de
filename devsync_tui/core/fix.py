"""``devsync drift --fix``: the commands that would bring each machine to the baseline, in the
ecosystem's own tool, printed and never run.

Names and versions come from other people's lockfiles: every word is shell-quoted, and a name
or version with a character no registry allows (or that a tool would read as an option, such as
a leading ``-``) gets no command, only a line saying which package was skipped. Only what goes
into a command is checked: an installed version the command does not name (``npm install
express@4.19.2`` over a hostile ``4.18.0+evil;x``) does not stop it.

A note is printed as a shell comment, meant to be pasted with the commands: each name or
version in it is escaped (``core.printable.escaped``, and newlines and tabs too) and
shell-quoted, so it stays one inert comment line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from devsync_tui.core.drift_report import DriftFinding
from devsync_tui.core.models import PackageKind, PackageManager
from devsync_tui.core.printable import escaped

#: The tools DevSync writes commands for, by ecosystem; the first is the default.
TOOLS: dict[PackageManager, tuple[str, ...]] = {
    PackageManager.NPM: ("npm", "yarn", "pnpm"),
    PackageManager.PIP: ("pip", "uv", "poetry"),
    PackageManager.GEM: ("bundle",),
    PackageManager.CARGO: ("cargo",),
}
_NAME = re.compile(r"^(@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!~-]*$")


@dataclass(frozen=True, slots=True)
class FixStep:
    """One command (argv, never run) or, when there is none, a note saying why."""

    argv: tuple[str, ...] = ()
    note: str | None = None

    @property
    def text(self) -> str:
        """The shell line: each word quoted; a note as a shell comment."""
        if self.argv:
            return shlex.join(self.argv)
        return f"# {_one_line(self.note or '')}"


def _one_line(text: str) -> str:
    """``text`` with nothing a terminal acts on and no line break: escapes instead."""
    return escaped(text).replace("\n", "\\x0a").replace("\t", "\\x09")


def _shown(word: str) -> str:
    """A name or version from a lockfile, as a note shows it: escaped, then shell-quoted (a
    comment line that a shell would read anyway still holds one inert word)."""
    return shlex.quote(_one_line(word))


def tool_for(manager: PackageManager, chosen: Sequence[str]) -> str:
    """The tool to write commands for: one of ``chosen`` this ecosystem has, else its own."""
    for tool in chosen:
        if tool in TOOLS[manager]:
            return tool
    return TOOLS[manager][0]


def _install(tool: str, name: str, version: str) -> tuple[str, ...]:
    if tool in ("npm",):
        return ("npm", "install", f"{name}@{version}")
    if tool in ("yarn", "pnpm"):
        return (tool, "add", f"{name}@{version}")
    if tool == "pip":
        return ("pip", "install", f"{name}=={version}")
    if tool in ("uv", "poetry"):
        return (tool, "add", f"{name}=={version}")
    if tool == "bundle":
        return ("bundle", "add", name, "--version", version)
    return ("cargo", "add", f"{name}@{version}")


def _update_to(tool: str, name: str, current: str, version: str) -> tuple[str, ...]:
    if tool == "cargo":
        return ("cargo", "update", "--package", f"{name}@{current}", "--precise", version)
    if tool == "bundle":
        return ("bundle", "update", name, "--conservative")
    return _install(tool, name, version)


def _remove(tool: str, name: str) -> tuple[str, ...]:
    if tool == "npm":
        return ("npm", "uninstall", name)
    if tool == "pip":
        return ("pip", "uninstall", "--yes", name)
    return (tool, "remove", name)


@dataclass(frozen=True, slots=True)
class _Planned:
    """A step, with the names and the versions from the lockfiles that its command holds."""

    step: FixStep
    names: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()


def _dedupe(tool: str, name: str, version: str) -> _Planned:
    """An extra copy: the tool's own way to fold copies (npm, pnpm, yarn dedupe; cargo: the
    copy updated within its range). pip and Bundler never hold two versions at once."""
    if tool in ("npm", "pnpm"):
        return _Planned(FixStep((tool, "dedupe")))
    if tool == "yarn":
        return _Planned(FixStep(("yarn", "dedupe", name)), (name,))
    if tool == "cargo":
        argv = ("cargo", "update", "--package", f"{name}@{version}")
        return _Planned(FixStep(argv), (name,), (version,))
    note = f"{_shown(name)} {_shown(version)}: an extra copy {tool} cannot hold; scan again"
    return _Planned(FixStep(note=note))


def _update(tool: str, name: str, current: str, version: str) -> _Planned:
    argv = _update_to(tool, name, current, version)
    if tool == "cargo":
        return _Planned(FixStep(argv), (name,), (current, version))
    if tool == "bundle":
        return _Planned(FixStep(argv), (name,))
    return _Planned(FixStep(argv), (name,), (version,))


def _planned(finding: DriftFinding, tool: str) -> _Planned | None:
    """The step for a registry package's finding (None: it needs none)."""
    name, version, expected = finding.package_name, finding.version, finding.expected
    kind = finding.kind
    if kind == "extra":
        return _Planned(FixStep(_remove(tool, name)), (name,))
    if kind in ("missing", "missing_version") and expected:
        return _Planned(FixStep(_install(tool, name, expected)), (name,), (expected,))
    if kind == "differs" and expected and version:
        return _update(tool, name, version, expected)
    if kind == "extra_version" and version:
        return _dedupe(tool, name, version)
    return None


def _skipped(finding: DriftFinding, planned: _Planned) -> str | None:
    """The note for a command holding a name or a version no registry allows, naming the
    package (None: every word is one a registry allows)."""
    where = f"{finding.package_manager.value} package {_shown(finding.package_name)}"
    if any(not _NAME.match(n) for n in planned.names):
        return f"skipped {where}: a name no registry allows"
    bad = next((v for v in planned.versions if not _VERSION.match(v)), None)
    if bad is not None:
        return f"skipped {where}: version {_shown(bad)} is one no registry allows"
    return None


def step(finding: DriftFinding, tool: str) -> FixStep | None:
    """The step for one baseline-drift finding (None: it needs none). Only the words that go
    into the command are checked: a hostile installed version the command does not name
    does not stop it."""
    if finding.source is not PackageKind.REGISTRY:
        name = _shown(finding.package_name)
        return FixStep(note=f"{name} is a {finding.source.value} package: change it by hand")
    planned = _planned(finding, tool)
    if planned is None:
        return None
    note = _skipped(finding, planned)
    return planned.step if note is None else FixStep(note=note)


def fix_plan(
    findings: Sequence[DriftFinding],
    environments: Mapping[UUID, str],
    tools: Sequence[str] = (),
) -> dict[str, list[FixStep]]:
    """Per environment (by name, in the given order): its steps, without repeats."""
    plan: dict[str, list[FixStep]] = {name: [] for name in environments.values()}
    for finding in findings:
        if finding.environment_id is None:
            continue
        made = step(finding, tool_for(finding.package_manager, tools))
        steps = plan.setdefault(finding.environment_name, [])
        if made is not None and made not in steps:
            steps.append(made)
    return plan
