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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from devsync_tui.core.models import PackageKind, PackageManager
from devsync_tui.core.names import package_key
from devsync_tui.core.printable import visible
from devsync_tui.core.urls import without_credentials

#: Larger files are refused: no real lockfile comes near it.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Longest error message (they may quote the offending line, which may be huge).
MAX_MESSAGE = 400
#: Deepest nesting a parser follows (npm v1 nests dependencies inside dependencies).
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ParsedPackage:
    """One package, at one version, that a lockfile or manifest names.

    A package locked at several versions (nested npm copies, exclusive pip markers, two
    Cargo majors) is one ``ParsedPackage`` per distinct version.

    - ``name``: the real package name as its ecosystem publishes it (PEP 503 normal form for
      pip; for an npm alias, the aliased package, not the alias). Compare names with
      ``core.names.package_key``.
    - ``version``: the resolved version (None when only a manifest names the package, or for
      a git/URL requirement that pins no version).
    - ``constraint``: the requirement the project states (None for transitive packages).
    - ``direct``: whether the project itself asks for this package at this version.
    - ``kind``: where it comes from (registry, workspace, path, editable, git, url); only
      registry packages can be looked up in a registry or an advisory database.
    - ``alias``: for npm aliases (``"foo": "npm:bar@1.2.3"``), the name the project installs
      it under (``foo``), kept for display; None otherwise.
    - ``marker``: for pip, the environment marker under which this version is installed
      (``python_version >= "3.8"``), None when it always is. Markers are not evaluated: the
      machine running DevSync is not the project's interpreter.
    - ``platforms``: for gems, the platforms the lockfile carries this version for
      (``x86_64-linux``, ``arm64-darwin``; ``ruby`` for the platform-independent gem), empty
      elsewhere. Platform builds of one version are one row: they are one release, with the
      same advisories and the same place in the version order.
    """

    manager: PackageManager
    name: str
    version: str | None
    constraint: str | None
    direct: bool
    kind: PackageKind = PackageKind.REGISTRY
    alias: str | None = None
    marker: str | None = None
    platforms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Versions and constraints are reported to the team (every member, viewers too, reads
        # the dependencies table): a git/tarball URL must not carry its credentials there.
        object.__setattr__(self, "version", without_credentials(self.version))
        object.__setattr__(self, "constraint", without_credentials(self.constraint))

    @property
    def key(self) -> tuple[PackageManager, str, str | None]:
        """(manager, comparison key of the name, version): what makes two rows one."""
        return (self.manager, package_key(self.manager, self.name), self.version)


class LockfileError(Exception):
    """A lockfile or manifest could not be read; the message names file and line.

    The message never quotes the file's content (a ``-r /proc/self/environ`` must not print
    the environment); the path is shown with its control characters made visible."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        # The message is printed (CI logs) and logged: no credentials, no escape sequences,
        # and not a whole 50 MB line either.
        message = visible(without_credentials(message))
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "… (cut)"
        self.message = message
        shown = visible(str(self.path))
        where = f"{shown}:{line}" if line else shown
        super().__init__(f"{where}: {self.message}")


_QUOTED_RE = re.compile(r"""'[^'\n]*'|"[^"\n]*"|`[^`\n]*`""")


def without_quotes(problem: str) -> str:
    """A parser's own error text without the bits of the file it quotes (``found character
    '\\t'``, ``undefined alias 'x'``): only its description may reach an error message."""
    return _QUOTED_RE.sub("…", problem.splitlines()[0] if problem else problem)


def inside(root: Path, target: Path) -> bool:
    """Whether ``target`` (followed through every link) lies inside ``root`` (likewise)."""
    try:
        resolved = target.resolve()
        base = root.resolve()
    except (OSError, RuntimeError):
        return False
    return resolved == base or resolved.is_relative_to(base)


def _read_bounded(handle: BinaryIO, size: int) -> bytes:
    """At most ``MAX_FILE_BYTES + 1`` bytes: the stated size at once (a read of N bytes
    reserves N bytes first, so never ask for the 50 MB limit itself), then small chunks for
    files that grow or state no size (/proc)."""
    chunks = [handle.read(min(size, MAX_FILE_BYTES) + 1)]
    total = len(chunks[0])
    while chunks[-1] and total <= MAX_FILE_BYTES:
        chunks.append(handle.read(min(1 << 16, MAX_FILE_BYTES + 1 - total)))
        total += len(chunks[-1])
    return b"".join(chunks)


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
            data = _read_bounded(handle, info.st_size)
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
        raise LockfileError(path, exc.lineno, f"invalid JSON: {without_quotes(exc.msg)}") from exc
    except RecursionError as exc:
        raise LockfileError(path, None, "JSON nested too deeply") from exc


_TOML_LINE_RE = re.compile(r"at line (\d+)")


def load_toml(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML, turning syntax errors into ``LockfileError`` with the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        message = without_quotes(str(exc).split(" (at ")[0])
        line = int(match.group(1)) if match else None
        raise LockfileError(path, line, f"invalid TOML: {message}") from exc
    except RecursionError as exc:
        raise LockfileError(path, None, "TOML nested too deeply") from exc


_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Most values (scalars, mappings, sequences) a YAML lockfile may hold. Real ones hold about 24
#: per package they report: 74,271 in the largest found (microsoft/rushstack's pnpm-lock.yaml,
#: 1.35 MB, 3,112 rows), 50,618 (withastro/astro), 43,525 (jestjs/jest's Yarn Berry
#: yarn.lock); one at the 20,000-row report limit holds about 480,000. Past this, a file under
#: the size limit could cost gigabytes and minutes to build (about 3 s and 200 MB to reach it).
MAX_YAML_NODES = 1_000_000
#: Most items one YAML sequence may hold: the longest in real lockfiles holds a few dozen
#: (``os``/``cpu`` lists, ``transitivePeerDependencies``).
MAX_YAML_ITEMS = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_NO_KEY: Any = object()  # a mapping's frame waiting for its next key
_SEQUENCE: Any = object()  # the key slot of a sequence's frame
_ANCHORS = "YAML anchors and aliases are not accepted in a lockfile"
_COLLECTION_TAG = "YAML tags on mappings and lists are not accepted in a lockfile"


def _line(event: Any) -> int | None:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else None


def _build_documents(path: Path, text: str, max_nodes: int, max_items: int) -> list[Any]:
    """Every document of a YAML stream, built straight from the parser's events (what the
    safe loader builds, without its intermediate node graph).

    One pass refuses what a lockfile never holds before it costs anything: anchors and
    aliases (PyYAML shares aliased objects, so a few hundred bytes of nested aliases, a
    "billion laughs", become a structure nothing can walk or print), merge keys (they exist to
    reuse anchored content), tags on collections, more than ``max_nodes`` values in all or
    ``max_items`` in one sequence, nesting deeper than ``MAX_DEPTH``. Scalars are resolved
    and constructed by the safe loader's own resolver and constructors."""
    loader = _YAML_LOADER(text)
    try:
        resolve = loader.resolve
        constructors = loader.yaml_constructors
        documents: list[Any] = []
        # Open collections, innermost last: [mapping, key or _NO_KEY] or [list, _SEQUENCE].
        stack: list[list[Any]] = []
        root: Any = _NO_KEY
        nodes = 0
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                nodes += 1
                if event.anchor is not None:
                    raise LockfileError(path, _line(event), _ANCHORS)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag == _STR_TAG:
                    value = event.value
                elif stack and stack[-1][1] is _NO_KEY and tag in (_VALUE_TAG, _MERGE_TAG):
                    if tag == _MERGE_TAG:
                        raise LockfileError(
                            path, _line(event), "YAML merge keys are not accepted in a lockfile"
                        )
                    value = event.value  # a "=" key is the string "=", as the loader reads it
                else:
                    node = yaml.ScalarNode(
                        tag, event.value, event.start_mark, event.end_mark, event.style
                    )
                    try:
                        value = (constructors.get(tag) or constructors[None])(loader, node)
                    except (ValueError, TypeError, OverflowError) as exc:
                        raise LockfileError(
                            path, _line(event), "invalid YAML: a value does not fit its type"
                        ) from exc
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                nodes += 1
                if event.anchor is not None:
                    raise LockfileError(path, _line(event), _ANCHORS)
                if event.tag not in _COLLECTION_TAGS:
                    raise LockfileError(path, _line(event), _COLLECTION_TAG)
                if stack and stack[-1][1] is _NO_KEY:
                    raise LockfileError(path, _line(event), "invalid YAML: found unhashable key")
                if len(stack) >= MAX_DEPTH:
                    raise LockfileError(path, _line(event), "YAML nested too deeply")
                if nodes > max_nodes:
                    raise _too_many(path, event, max_nodes)
                stack.append([{}, _NO_KEY] if kind is yaml.MappingStartEvent else [[], _SEQUENCE])
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = stack.pop()[0]
            elif kind is yaml.AliasEvent:
                raise LockfileError(path, _line(event), _ANCHORS)
            elif kind is yaml.DocumentStartEvent:
                root = _NO_KEY
                continue
            elif kind is yaml.DocumentEndEvent:
                documents.append(None if root is _NO_KEY else root)
                continue
            elif kind is yaml.StreamEndEvent or event is None:
                return documents
            else:
                continue  # StreamStartEvent
            if nodes > max_nodes:
                raise _too_many(path, event, max_nodes)
            if not stack:
                root = value
                continue
            frame = stack[-1]
            key = frame[1]
            if key is _SEQUENCE:
                items = frame[0]
                items.append(value)
                if len(items) > max_items:
                    raise LockfileError(
                        path,
                        _line(event),
                        f"a YAML list of over {max_items:,} items, far more than any lockfile",
                    )
            elif key is _NO_KEY:
                frame[1] = value
            else:
                frame[0][key] = value
                frame[1] = _NO_KEY
    finally:
        loader.dispose()


def _too_many(path: Path, event: Any, max_nodes: int) -> LockfileError:
    return LockfileError(
        path, _line(event), f"over {max_nodes:,} YAML values, far more than any lockfile"
    )


def load_yaml_documents(
    path: Path, text: str, *, max_nodes: int | None = None, max_items: int | None = None
) -> list[Any]:
    """Every document of a YAML stream, as the safe loader reads it, refusing anchors,
    aliases and runaway sizes (see ``_build_documents``; the limits default to
    ``MAX_YAML_NODES`` and ``MAX_YAML_ITEMS``); errors as ``LockfileError``."""
    nodes = MAX_YAML_NODES if max_nodes is None else max_nodes
    items = MAX_YAML_ITEMS if max_items is None else max_items
    try:
        return _build_documents(path, text, nodes, items)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = without_quotes(exc.problem or exc.context or "syntax error")
        raise LockfileError(path, line, f"invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise LockfileError(path, None, "invalid YAML") from exc
    except RecursionError as exc:
        raise LockfileError(path, None, "YAML nested too deeply") from exc


def load_yaml(
    path: Path, text: str, *, max_nodes: int | None = None, max_items: int | None = None
) -> Any:
    """The one document of a YAML file (see ``load_yaml_documents``)."""
    documents = load_yaml_documents(path, text, max_nodes=max_nodes, max_items=max_items)
    if len(documents) > 1:
        raise LockfileError(path, None, "expected one YAML document, found several")
    return documents[0] if documents else None


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
