"""Bundler: Gemfile.lock and Gemfile.

Gemfile.lock lists resolved gems under ``specs:`` of its GEM and GIT sections (4 spaces:
``name (version[-platform])``; 6 spaces: that gem's own requirements) and the project's own
requirements under ``DEPENDENCIES``. PATH sections are the project's local gems (rows of kind
``path``), GIT sections gems from a git checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage, read_text
from devsync_tui.core.models import PackageKind, PackageManager

GEM = PackageManager.GEM
_SPEC_RE = re.compile(r"^    ([^\s(]+) \(([^)\s]+)\)$")
_SPEC_DEP_RE = re.compile(r"^      \S")
_DEPENDENCY_RE = re.compile(r"^  ([^\s(!]+)(!)?(?: \(([^)]*)\))?!?$")
_GEMFILE_RE = re.compile(r"""^\s*gem\s*\(?\s*["']([^"'\s]+)["']((?:\s*,\s*["'][^"']*["'])*)""")
_QUOTED_RE = re.compile(r"""["']([^"']*)["']""")


def _split_platform(spec: str) -> tuple[str, str]:
    """``1.15.4-x86_64-linux`` → (``1.15.4``, ``x86_64-linux``); no platform → ``ruby``.
    Bundler splits at the first dash the same way (a gem version holds no dash)."""
    version, _, platform = spec.partition("-")
    return version, platform or "ruby"


_SECTION_KINDS = {"GEM": PackageKind.REGISTRY, "GIT": PackageKind.GIT, "PATH": PackageKind.PATH}


def parse_gemfile_lock(path: Path) -> list[ParsedPackage]:
    """Every gem of a Gemfile.lock, one row per (name, version) with the platforms it is
    locked for (none listed when only the platform-independent ``ruby`` build is). Gems under
    DEPENDENCIES are direct, with their requirement; GIT and PATH gems are rows of those
    kinds."""
    text = read_text(path)
    section = ""
    in_specs = False
    # (name, version) → (kind, platforms), in the order the lockfile lists them
    resolved: dict[tuple[str, str], tuple[PackageKind, list[str]]] = {}
    direct: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            in_specs = False
            continue
        if not line[0].isspace():
            section = line.strip()
            in_specs = False
            continue
        if section in _SECTION_KINDS and line == "  specs:":
            in_specs = True
            continue
        if in_specs:
            spec = _SPEC_RE.match(line)
            if spec is not None:
                version, platform = _split_platform(spec.group(2))
                _kind, platforms = resolved.setdefault(
                    (spec.group(1), version), (_SECTION_KINDS[section], [])
                )
                if platform not in platforms:
                    platforms.append(platform)
            elif not _SPEC_DEP_RE.match(line):
                raise LockfileError(path, number, "unexpected line in specs")
            continue
        if section == "DEPENDENCIES":
            dep = _DEPENDENCY_RE.match(line)
            if dep is None:
                raise LockfileError(path, number, "unexpected dependency line")
            direct[dep.group(1)] = dep.group(3) or None
    out = [
        ParsedPackage(
            GEM,
            name,
            version,
            direct.get(name),
            name in direct,
            kind,
            platforms=() if platforms == ["ruby"] else tuple(platforms),
        )
        for (name, version), (kind, platforms) in resolved.items()
    ]
    locked = {name for name, _version in resolved}
    out.extend(
        ParsedPackage(GEM, name, None, constraint, True)
        for name, constraint in direct.items()
        if name not in locked
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
