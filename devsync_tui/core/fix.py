"""``devsync drift --fix``: the commands that would bring each machine to the baseline, in the
ecosystem's own tool, printed and never run.

Names and versions come from other people's lockfiles: every word is shell-quoted, and a name
or version with a character no registry allows (or that a tool would read as an option, such as
a leading ``-``) gets no command, only a line saying it was skipped.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from devsync_tui.core.drift_report import DriftFinding
from devsync_tui.core.models import PackageKind, PackageManager

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
        return f"# {self.note}"


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


def _dedupe(tool: str, name: str, version: str) -> FixStep:
    """An extra copy: the tool's own way to fold copies (npm, pnpm, yarn dedupe; cargo: the
    copy updated within its range). pip and Bundler never hold two versions at once."""
    if tool in ("npm", "pnpm"):
        return FixStep((tool, "dedupe"))
    if tool == "yarn":
        return FixStep(("yarn", "dedupe", name))
    if tool == "cargo":
        return FixStep(("cargo", "update", "--package", f"{name}@{version}"))
    return FixStep(note=f"{name} {version}: an extra copy {tool} cannot hold; scan again")


def step(finding: DriftFinding, tool: str) -> FixStep | None:
    """The step for one baseline-drift finding (None: it needs none)."""
    name, version, expected = finding.package_name, finding.version, finding.expected
    if not _NAME.match(name) or any(v and not _VERSION.match(v) for v in (version, expected)):
        return FixStep(note="skipped a package whose name or version no registry allows")
    if finding.source is not PackageKind.REGISTRY:
        return FixStep(note=f"{name} is a {finding.source.value} package: change it by hand")
    kind = finding.kind
    if kind == "extra":
        return FixStep(_remove(tool, name))
    if kind in ("missing", "missing_version") and expected:
        return FixStep(_install(tool, name, expected))
    if kind == "differs" and expected and version:
        return FixStep(_update_to(tool, name, version, expected))
    if kind == "extra_version" and version:
        return _dedupe(tool, name, version)
    return None


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
