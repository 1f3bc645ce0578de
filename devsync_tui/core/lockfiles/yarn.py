"""yarn.lock: the classic v1 format and Yarn Berry's YAML (``__metadata``).

Each entry is one resolved package (several descriptors may share it); a package locked at
several versions has several entries, and each is a row. An entry is direct when one of its
descriptors is the range the manifest asks for. Aliases (``foo@npm:bar@^1``) are recorded
under the real package; workspaces, links, portals, git checkouts and tarballs under their
kind. Berry's ``patch:`` entries are the patched registry package at the same version.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from devsync_tui.core.lockfiles.base import (
    LockfileError,
    ParsedPackage,
    expect_dict,
    load_yaml,
    read_text,
    text_field,
)
from devsync_tui.core.lockfiles.npm_spec import classify, resolved_kind, split_name
from devsync_tui.core.models import PackageKind, PackageManager

NPM = PackageManager.NPM
_VERSION_LINE_RE = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')
_RESOLVED_LINE_RE = re.compile(r'^\s+resolved:?\s+"?([^"\s]+)"?\s*$')


def _matches(spec: str, wanted: str) -> bool:
    """Whether a lockfile descriptor's range is the manifest's (Berry prefixes ``npm:``)."""
    return spec == wanted or spec == f"npm:{wanted}" or spec.removeprefix("npm:") == wanted


def _row(
    descriptors: list[tuple[str, str]],
    real_name: str,
    version: str,
    kind: PackageKind,
    direct: dict[str, str],
) -> ParsedPackage:
    installed_as = descriptors[0][0]
    wanted: str | None = None
    for name, spec in descriptors:
        manifest = direct.get(name)
        if manifest is not None and _matches(spec, manifest):
            installed_as, wanted = name, manifest
            break
    constraint = None
    if wanted is not None:
        read = classify(wanted)
        constraint = read.range if read.kind is PackageKind.REGISTRY else wanted
    alias = installed_as if installed_as != real_name else None
    return ParsedPackage(
        NPM, real_name, version, constraint or None, wanted is not None, kind, alias
    )


def _v1_entry(
    header: list[tuple[str, str]], version: str, resolved: str | None, direct: dict[str, str]
) -> ParsedPackage:
    read = classify(header[0][1])
    real = read.name or header[0][0]
    kind = read.kind
    if kind is PackageKind.REGISTRY:
        kind = resolved_kind(resolved, real)
    return _row(header, real, version, kind, direct)


def _parse_v1(path: Path, text: str, direct: dict[str, str]) -> list[ParsedPackage]:
    out: list[ParsedPackage] = []
    header: list[tuple[str, str]] | None = None  # the open entry's descriptors
    header_line = 0
    version: str | None = "-"  # "-": no entry open yet
    resolved: str | None = None

    def close() -> None:
        if header is not None and version is not None:
            out.append(_v1_entry(header, version, resolved, direct))

    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if version is None:
                raise LockfileError(path, header_line, "entry has no version")
            close()
            if not line.rstrip().endswith(":"):
                raise LockfileError(path, number, "expected an entry header ending in ':'")
            header = [split_name(d) for d in line.rstrip()[:-1].split(",")]
            if any(not name for name, _ in header):
                raise LockfileError(path, number, "entry header has an empty package name")
            header_line, version, resolved = number, None, None
            continue
        if header is None:
            raise LockfileError(path, number, "indented line outside an entry")
        if line.startswith("   "):
            continue  # a nested block (dependencies:)
        match = _VERSION_LINE_RE.match(line)
        if match is not None and version is None:
            version = match.group(1)
            continue
        match = _RESOLVED_LINE_RE.match(line)
        if match is not None:
            resolved = match.group(1)
    if version is None:
        raise LockfileError(path, header_line, "entry has no version")
    close()
    return out


def _berry_kind(resolution_spec: str) -> PackageKind:
    if resolution_spec.startswith("npm:"):
        return PackageKind.REGISTRY
    if resolution_spec.startswith("patch:"):
        # patch:typescript@npm%3A5.3.3#~builtin<...>: the patched package's own kind
        inner = unquote(resolution_spec[len("patch:") :].split("#", 1)[0])
        return _berry_kind(split_name(inner)[1])
    return classify(resolution_spec).kind


def _parse_berry(path: Path, data: dict[str, Any], direct: dict[str, str]) -> list[ParsedPackage]:
    out: list[ParsedPackage] = []
    for key, entry in data.items():
        if key == "__metadata":
            continue
        if not isinstance(key, str) or not isinstance(entry, dict):
            raise LockfileError(path, None, "an entry should be a mapping")
        resolution = text_field(entry, "resolution")
        version = entry.get("version")
        if resolution is None or not isinstance(version, str | int | float):
            continue
        descriptors = [split_name(d) for d in key.split(",")]
        real, resolution_spec = split_name(resolution)
        kind = _berry_kind(resolution_spec)
        out.append(_row(descriptors, real or descriptors[0][0], str(version), kind, direct))
    return out


def parse_yarn_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a yarn.lock (v1 or Berry). ``direct``: the manifest's name → range."""
    text = read_text(path)
    direct = direct or {}
    if is_berry(text):
        data = expect_dict(load_yaml(path, text), path, text, "the lockfile")
        return _parse_berry(path, data, direct)
    return _parse_v1(path, text, direct)


def is_berry(text: str) -> bool:
    """Whether a yarn.lock is Yarn Berry's YAML (it opens with ``__metadata``)."""
    return "__metadata:" in text[:4096]
