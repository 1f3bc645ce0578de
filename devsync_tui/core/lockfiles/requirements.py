"""pip requirements files: pins, ranges, hashes, environment markers and ``-r`` includes.

A ``name==X`` pin is a resolved version; any other specifier is only a constraint. Lines
whose marker is false on this machine are left out (pip would not install them). Files
written by pip-compile say ``# via`` under each line: a package reached only through other
packages is transitive; everything else in a requirements file is direct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage, read_text
from devsync_tui.core.models import PackageManager

PIP = PackageManager.PIP
MAX_INCLUDE_DEPTH = 16
_INCLUDE_RE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=\S))(\S.*)$")
_CONSTRAINT_RE = re.compile(r"^(?:-c|--constraint)\b")
_HASH_RE = re.compile(r"\s--hash[=\s]\S+")
_COMMENT_RE = re.compile(r"(^|\s)#.*$")
_VIA_RE = re.compile(r"^\s*#\s+via\b\s*(.*)$")
_VIA_ITEM_RE = re.compile(r"^\s*#\s{2,}(\S.*)$")
# Lines pip accepts that name no package of an index.
_SKIP_PREFIXES = (
    "-e",
    "--editable",
    "git+",
    "hg+",
    "svn+",
    "bzr+",
    "http://",
    "https://",
    ".",
    "/",
)


@dataclass
class _Entry:
    package: ParsedPackage
    via: list[str] = field(default_factory=list)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            pending += raw[:-1] + " "
            continue
        out.append((start, pending + raw))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def _marker_applies(requirement: Requirement, path: Path, line: int) -> bool:
    if requirement.marker is None:
        return True
    try:
        return requirement.marker.evaluate({"extra": ""})
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise LockfileError(path, line, f"cannot evaluate marker: {exc}") from exc


def _package(requirement: Requirement) -> ParsedPackage:
    specs = list(requirement.specifier)
    version = None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        version = specs[0].version
    constraint = str(requirement.specifier) or None
    return ParsedPackage(PIP, canonicalize_name(requirement.name), version, constraint, True)


def _parse_file(path: Path, seen: set[Path], depth: int, out: list[_Entry]) -> None:
    text = read_text(path)
    last: _Entry | None = None
    in_via = False
    for number, line in _logical_lines(text):
        via = _VIA_RE.match(line)
        if via is not None and last is not None:
            if via.group(1).strip():
                last.via.append(via.group(1).strip())
            in_via = True
            continue
        item = _VIA_ITEM_RE.match(line)
        if in_via and item is not None and last is not None:
            last.via.append(item.group(1).strip())
            continue
        in_via = False
        stripped = _HASH_RE.sub("", _COMMENT_RE.sub("", line)).strip()
        if not stripped:
            continue
        include = _INCLUDE_RE.match(stripped)
        if include is not None:
            try:
                target = (path.parent / include.group(1).strip()).resolve()
                is_file = target.is_file()
            except (OSError, ValueError) as exc:
                raise LockfileError(path, number, f"cannot open include: {exc}") from exc
            if target in seen:
                continue  # an include cycle: each file is read once
            if depth >= MAX_INCLUDE_DEPTH:
                raise LockfileError(
                    path, number, f"includes nested deeper than {MAX_INCLUDE_DEPTH}"
                )
            if not is_file:
                raise LockfileError(path, number, f"included file {include.group(1)!r} not found")
            seen.add(target)
            _parse_file(target, seen, depth + 1, out)
            last = None
            continue
        if stripped.startswith("-") or _CONSTRAINT_RE.match(stripped):
            last = None  # options (--index-url, --pre, -c ...) name no package
            continue
        if stripped.startswith(_SKIP_PREFIXES):
            last = None
            continue
        try:
            requirement = Requirement(stripped)
        except InvalidRequirement as exc:
            raise LockfileError(path, number, f"invalid requirement: {exc}") from exc
        if requirement.url or not _marker_applies(requirement, path, number):
            last = None
            continue
        last = _Entry(_package(requirement))
        out.append(last)


def parse_requirements(path: Path) -> list[ParsedPackage]:
    """The packages of a requirements file and the files it includes (each file read once)."""
    entries: list[_Entry] = []
    _parse_file(path, {path.resolve()}, 0, entries)
    out: list[ParsedPackage] = []
    for entry in entries:
        package = entry.package
        if entry.via and not any(v.startswith(("-r", "-c")) for v in entry.via):
            package = ParsedPackage(PIP, package.name, package.version, None, False)
        out.append(package)
    return out
