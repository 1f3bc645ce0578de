"""Bundler: Gemfile.lock and Gemfile.

Gemfile.lock lists resolved gems under ``specs:`` of its GEM and GIT sections (4 spaces:
``name (version[-platform])``; 6 spaces: that gem's own requirements) and the project's own
requirements under ``DEPENDENCIES``. PATH sections are the project's local gems, left out.
"""

from __future__ import annotations

import re
from pathlib import Path

from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage, read_text
from devsync_tui.core.models import PackageManager

GEM = PackageManager.GEM
_SPEC_RE = re.compile(r"^    ([^\s(]+) \(([^)\s]+)\)$")
_SPEC_DEP_RE = re.compile(r"^      \S")
_DEPENDENCY_RE = re.compile(r"^  ([^\s(!]+)(!)?(?: \(([^)]*)\))?!?$")
_GEMFILE_RE = re.compile(r"""^\s*gem\s*\(?\s*["']([^"'\s]+)["']((?:\s*,\s*["'][^"']*["'])*)""")
_QUOTED_RE = re.compile(r"""["']([^"']*)["']""")


def _strip_platform(version: str) -> str:
    """``1.15.4-x86_64-linux`` → ``1.15.4`` (Bundler appends the platform with a dash)."""
    head, _, _platform = version.partition("-")
    return head


def parse_gemfile_lock(path: Path) -> list[ParsedPackage]:
    """Every gem of a Gemfile.lock; those under DEPENDENCIES are direct, with their
    requirement."""
    text = read_text(path)
    section = ""
    in_specs = False
    resolved: dict[str, str] = {}
    local: set[str] = set()  # gems of PATH sections: the project's own code
    direct: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            in_specs = False
            continue
        if not line[0].isspace():
            section = line.strip()
            in_specs = False
            continue
        if section in ("GEM", "GIT", "PATH") and line == "  specs:":
            in_specs = True
            continue
        if in_specs:
            spec = _SPEC_RE.match(line)
            if spec is not None and section == "PATH":
                local.add(spec.group(1))
            elif spec is not None:
                resolved.setdefault(spec.group(1), _strip_platform(spec.group(2)))
            elif not _SPEC_DEP_RE.match(line):
                raise LockfileError(path, number, f"unexpected line in specs: {line.strip()!r}")
            continue
        if section == "DEPENDENCIES":
            dep = _DEPENDENCY_RE.match(line)
            if dep is None:
                raise LockfileError(path, number, f"unexpected dependency line: {line.strip()!r}")
            direct[dep.group(1)] = dep.group(3) or None
    out = [
        ParsedPackage(GEM, name, resolved.get(name), constraint, True)
        for name, constraint in direct.items()
        if name not in local
    ]
    out.extend(
        ParsedPackage(GEM, name, version, None, False)
        for name, version in resolved.items()
        if name not in direct
    )
    return out


def parse_gemfile(path: Path) -> list[ParsedPackage]:
    """The gems a Gemfile asks for (``gem "name", "~> 1.2", ">= 1.2.3"``), no versions."""
    text = read_text(path)
    out: list[ParsedPackage] = []
    for line in text.splitlines():
        match = _GEMFILE_RE.match(line)
        if match is None:
            continue
        requirements = [r.strip() for r in _QUOTED_RE.findall(match.group(2))]
        constraint = ", ".join(r for r in requirements if r) or None
        out.append(ParsedPackage(GEM, match.group(1), None, constraint, True))
    return out
