"""pip requirements files: pins, ranges, hashes, environment markers and ``-r``/``-c``.

A ``name==X`` pin is a resolved version; any other specifier is only a constraint. Every
line counts, whatever its marker: ``foo==1; python_version<"3.8"`` and ``foo==2;
python_version>="3.8"`` are two rows, each with its marker (markers are not evaluated: the
interpreter running DevSync is not the project's). Files written by pip-compile or uv say
``# via`` under each line: a package reached only through other packages is transitive;
everything else in a requirements file is direct. Editable (``-e``), VCS, URL and local-path
requirements are rows of their kind when the line names the package (``name @ url`` or
``#egg=name``); a bare path or URL names none and is left out.

Includes stay inside the folder being scanned: a ``-r``/``-c`` whose file (links followed)
lies outside it is refused. Constraints files (``-c``) are checked, not read: they install
nothing. No error quotes the file's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage, inside, read_text
from devsync_tui.core.models import PackageKind, PackageManager

PIP = PackageManager.PIP
MAX_INCLUDE_DEPTH = 16
_INCLUDE_RE = re.compile(
    r"^(?P<option>-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(?P<target>\S.*)$"
)
_EDITABLE_RE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)(?P<target>\S.*)$")
_HASH_RE = re.compile(r"\s--hash[=\s]\S+")
_COMMENT_RE = re.compile(r"(^|\s)#(?!egg=).*$")
_VIA_RE = re.compile(r"^\s*#\s+via\b\s*(.*)$")
_VIA_ITEM_RE = re.compile(r"^\s*#\s{2,}(\S.*)$")
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_PATH_PREFIXES = (".", "/", "file:")


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


def url_kind(url: str) -> PackageKind:
    """The kind of a requirement's URL or path (VCS, local path/file, or archive URL)."""
    if url.startswith(_VCS_PREFIXES):
        return PackageKind.GIT
    if url.startswith(_PATH_PREFIXES):
        return PackageKind.PATH
    return PackageKind.URL


def _package(requirement: Requirement) -> ParsedPackage:
    name = canonicalize_name(requirement.name)
    marker = str(requirement.marker) if requirement.marker is not None else None
    if requirement.url:
        kind = url_kind(requirement.url)
        return ParsedPackage(PIP, name, None, requirement.url, True, kind, marker=marker)
    specs = list(requirement.specifier)
    version = None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        version = specs[0].version
    constraint = str(requirement.specifier) or None
    return ParsedPackage(PIP, name, version, constraint, True, marker=marker)


def _unnamed(target: str, kind: PackageKind | None = None) -> ParsedPackage | None:
    """A requirement given as a URL or path: a row only when ``#egg=name`` names it."""
    egg = _EGG_RE.search(target)
    if egg is None:
        return None
    url = target.split("#", 1)[0]
    found = kind or url_kind(url)
    return ParsedPackage(PIP, canonicalize_name(egg.group(1)), None, url, True, found)


class _Reader:
    """One scan's requirements files: the root they must stay in and the files read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: set[Path] = set()
        self.entries: list[_Entry] = []

    def include(self, path: Path, number: int, option: str, target: str, depth: int) -> None:
        try:
            included = path.parent / target.strip()
            resolved = included.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise LockfileError(
                path, number, f"the file named by {option} cannot be found"
            ) from exc
        if not inside(self.root, included):
            raise LockfileError(
                path,
                number,
                f"{option} names a file outside {self.root}, the folder being scanned; "
                "scan a folder that holds both",
            )
        if not resolved.is_file():
            raise LockfileError(path, number, f"the file named by {option} was not found")
        if option in ("-c", "--constraint") or resolved in self.seen:
            return  # constraints install nothing; an include cycle reads each file once
        if depth >= MAX_INCLUDE_DEPTH:
            raise LockfileError(path, number, f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
        self.seen.add(resolved)
        self.read(resolved, depth + 1)

    def read(self, path: Path, depth: int) -> None:
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
            last = self.line(
                path, number, _HASH_RE.sub("", _COMMENT_RE.sub("", line)).strip(), depth
            )

    def line(self, path: Path, number: int, stripped: str, depth: int) -> _Entry | None:
        """Read one logical line; the entry it adds (for ``# via`` lines after it), if any."""
        if not stripped:
            return None
        include = _INCLUDE_RE.match(stripped)
        if include is not None:
            self.include(path, number, include["option"], include["target"], depth)
            return None
        editable = _EDITABLE_RE.match(stripped)
        package: ParsedPackage | None
        if editable is not None:
            package = _unnamed(editable["target"], PackageKind.EDITABLE)
        elif stripped.startswith("-"):
            return None  # other options (--index-url, --pre, --hash…) name no package
        elif stripped.startswith(_VCS_PREFIXES + _PATH_PREFIXES + ("http://", "https://")):
            package = _unnamed(stripped)
        else:
            try:
                package = _package(Requirement(stripped))
            except InvalidRequirement as exc:
                raise LockfileError(
                    path,
                    number,
                    "invalid requirement (not a name with a version specifier and marker)",
                ) from exc
        if package is None:
            return None
        entry = _Entry(package)
        self.entries.append(entry)
        return entry


def parse_requirements(path: Path, root: Path | None = None) -> list[ParsedPackage]:
    """The packages of a requirements file and the files it includes (each file read once).
    ``root``: the folder being scanned, which includes must not leave (default: the file's
    own folder)."""
    reader = _Reader(root if root is not None else path.parent)
    reader.seen.add(path.resolve())
    reader.read(path, 0)
    out: list[ParsedPackage] = []
    for entry in reader.entries:
        package = entry.package
        if entry.via and not any(v.startswith(("-r", "-c")) for v in entry.via):
            package = ParsedPackage(
                PIP, package.name, package.version, None, False, package.kind, marker=package.marker
            )
        out.append(package)
    return out
