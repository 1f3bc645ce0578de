"""What every lockfile/manifest parser shares: the parsed row, the error, safe reading.

Parsers never raise anything but ``LockfileError`` on bad input; every read is bounded in size
and nesting so that a hostile file costs little time and memory.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devsync_tui.core.models import PackageManager
from devsync_tui.core.urls import without_credentials

#: Larger files are refused: no real lockfile comes near it.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Longest error message (they may quote the offending line, which may be huge).
MAX_MESSAGE = 400
#: Deepest nesting a parser follows (npm v1 nests dependencies inside dependencies).
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ParsedPackage:
    """One package a lockfile or manifest names.

    ``version`` is the resolved version (None when only a manifest names it); ``constraint``
    the requirement the manifest states (None for transitive packages); ``direct`` whether the
    project itself asks for it (rather than one of its dependencies).
    """

    manager: PackageManager
    name: str
    version: str | None
    constraint: str | None
    direct: bool

    def __post_init__(self) -> None:
        # Versions and constraints are reported to the team (every member, viewers too, reads
        # the dependencies table): a git/tarball URL must not carry its credentials there.
        object.__setattr__(self, "version", without_credentials(self.version))
        object.__setattr__(self, "constraint", without_credentials(self.constraint))


class LockfileError(Exception):
    """A lockfile or manifest could not be read; the message names file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        # The message may quote the offending line, and it is printed (CI logs) and logged:
        # no credentials, and not a whole 50 MB line either.
        message = without_credentials(message)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "… (cut)"
        self.message = message
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {self.message}")


def read_text(path: Path) -> str:
    """The file's text, refusing anything but a regular file, files over ``MAX_FILE_BYTES``
    and non-UTF-8 content. At most ``MAX_FILE_BYTES + 1`` bytes are ever read, so a file that
    grows, or a link to a device, cannot make the scan hang or eat memory."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise LockfileError(path, None, "not a regular file")
            if info.st_size > MAX_FILE_BYTES:
                raise LockfileError(
                    path, None, f"file is {info.st_size:,} bytes, over the 50 MB limit"
                )
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LockfileError(path, None, f"cannot read the file ({exc.strerror or exc})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise LockfileError(path, None, "file is over the 50 MB limit")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LockfileError(path, line, "the file is not UTF-8 text") from exc


def line_of(text: str, needle: str) -> int | None:
    """The 1-based line where ``needle`` first occurs (to point an error at a key)."""
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def load_json(path: Path, text: str) -> Any:
    """Parse JSON, turning syntax errors and runaway nesting into ``LockfileError``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(path, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise LockfileError(path, None, "JSON nested too deeply") from exc


_TOML_LINE_RE = re.compile(r"at line (\d+)")


def load_toml(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML, turning syntax errors into ``LockfileError`` with the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        message = str(exc).split(" (at ")[0]
        line = int(match.group(1)) if match else None
        raise LockfileError(path, line, f"invalid TOML: {message}") from exc
    except RecursionError as exc:
        raise LockfileError(path, None, "TOML nested too deeply") from exc


def load_yaml(path: Path, text: str) -> Any:
    """Parse YAML with the safe (C when available) loader, errors as ``LockfileError``."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise LockfileError(path, line, f"invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise LockfileError(path, None, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise LockfileError(path, None, "YAML nested too deeply") from exc


def expect_dict(value: Any, path: Path, text: str, what: str, needle: str = "") -> dict[str, Any]:
    """``value`` if it is a mapping, else a ``LockfileError`` saying ``what`` was expected."""
    if isinstance(value, dict):
        return value
    line = line_of(text, needle) if needle else None
    raise LockfileError(path, line, f"{what} should be a mapping")


def text_field(entry: dict[str, Any], key: str) -> str | None:
    """A string field of a parsed entry, or None when it is absent or not a string."""
    value = entry.get(key)
    return value if isinstance(value, str) else None


def dedupe(packages: Iterable[ParsedPackage]) -> list[ParsedPackage]:
    """One row per (manager, name): a direct row beats a transitive one, the first wins among
    equals; a manifest's constraint fills in a lockfile row that lacks one."""
    chosen: dict[tuple[PackageManager, str], ParsedPackage] = {}
    for package in packages:
        if not package.name.strip():
            continue  # an empty key in a manifest names no package
        key = (package.manager, package.name)
        current = chosen.get(key)
        if current is None:
            chosen[key] = package
            continue
        winner, other = (
            (package, current)
            if package.direct and not current.direct
            else (
                current,
                package,
            )
        )
        chosen[key] = ParsedPackage(
            manager=winner.manager,
            name=winner.name,
            version=winner.version or other.version,
            constraint=winner.constraint or other.constraint,
            direct=winner.direct or other.direct,
        )
    return list(chosen.values())
