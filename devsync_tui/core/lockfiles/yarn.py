"""yarn.lock: the classic v1 format and Yarn Berry's YAML (``__metadata``).

Neither records where a package is installed, so when several versions of a name are
locked the direct one (the entry whose descriptor is the manifest's range) is kept, else the
highest version.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from devsync_tui.core.lockfiles.base import (
    LockfileError,
    ParsedPackage,
    expect_dict,
    load_yaml,
    read_text,
)
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare

NPM = PackageManager.NPM
_VERSION_LINE_RE = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')
_PROTOCOLS = ("workspace:", "link:", "portal:", "file:", "patch:", "exec:")


def split_descriptor(descriptor: str) -> tuple[str, str]:
    """``"@scope/name@^1.2"`` → (``@scope/name``, ``^1.2``)."""
    descriptor = descriptor.strip().strip('"')
    at = descriptor.find("@", 1)
    if at < 0:
        return descriptor, ""
    return descriptor[:at], descriptor[at + 1 :]


def _strip_npm(spec: str) -> str:
    return spec[4:] if spec.startswith("npm:") else spec


def _choose(
    entries: dict[str, list[tuple[str, list[str]]]], direct: dict[str, str]
) -> list[ParsedPackage]:
    """entries: name → [(version, [ranges that resolve to it])]."""
    out: list[ParsedPackage] = []
    for name, candidates in entries.items():
        wanted = direct.get(name)
        pick = None
        if wanted is not None:
            pick = next((v for v, ranges in candidates if wanted in ranges), None)
        if pick is None:
            pick = candidates[0][0]
            for version, _ranges in candidates[1:]:
                if compare(NPM, version, pick) > 0:
                    pick = version
        out.append(ParsedPackage(NPM, name, pick, wanted, wanted is not None))
    return out


def _parse_v1(path: Path, text: str, direct: dict[str, str]) -> list[ParsedPackage]:
    entries: dict[str, list[tuple[str, list[str]]]] = {}
    header: list[tuple[str, str]] | None = None  # the open entry's descriptors
    header_line = 0
    has_version = True
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if not has_version:
                raise LockfileError(path, header_line, "entry has no version")
            if not line.rstrip().endswith(":"):
                raise LockfileError(path, number, "expected an entry header ending in ':'")
            header = [split_descriptor(d) for d in line.rstrip()[:-1].split(",")]
            if any(not name for name, _ in header):
                raise LockfileError(path, number, "entry header has an empty package name")
            header_line, has_version = number, False
            continue
        if header is None:
            raise LockfileError(path, number, "indented line outside an entry")
        match = _VERSION_LINE_RE.match(line)
        if match is not None and not has_version and not line.startswith("   "):
            has_version = True
            ranges = [_strip_npm(spec) for _name, spec in header]
            if not any(spec.startswith(_PROTOCOLS) for spec in ranges):
                entries.setdefault(header[0][0], []).append((match.group(1), ranges))
    if not has_version:
        raise LockfileError(path, header_line, "entry has no version")
    return _choose(entries, direct)


def _parse_berry(
    path: Path, text: str, data: dict[str, Any], direct: dict[str, str]
) -> list[ParsedPackage]:
    entries: dict[str, list[tuple[str, list[str]]]] = {}
    for key, entry in data.items():
        if key == "__metadata":
            continue
        if not isinstance(key, str) or not isinstance(entry, dict):
            raise LockfileError(path, None, f"entry {key!r} should be a mapping")
        descriptors = [split_descriptor(d) for d in key.split(",")]
        resolution = entry.get("resolution")
        if entry.get("linkType") == "soft" or not isinstance(resolution, str):
            continue
        res_name, res_spec = split_descriptor(resolution)
        if not res_spec.startswith("npm:"):
            continue  # git, patch, workspace: not a registry version
        version = res_spec[4:]
        ranges = [_strip_npm(spec) for _name, spec in descriptors]
        entries.setdefault(descriptors[0][0] or res_name, []).append((version, ranges))
    return _choose(entries, direct)


def parse_yarn_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a yarn.lock (v1 or Berry). ``direct``: the manifest's name → range."""
    text = read_text(path)
    direct = direct or {}
    head = text[:4096]
    if "__metadata:" in head:
        data = expect_dict(load_yaml(path, text), path, text, "the lockfile")
        return _parse_berry(path, text, data, direct)
    return _parse_v1(path, text, direct)
