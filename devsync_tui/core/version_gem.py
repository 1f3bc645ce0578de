"""RubyGems versions (``Gem::Version``) and requirements (``Gem::Requirement``).

Follows RubyGems' own rules: a version is split into numeric and alphabetic segments, a
letter makes it a prerelease (``1.0.a`` < ``1.0``), trailing zeros do not count
(``1.0`` == ``1``), and ``~> 2.2`` means ``>= 2.2, < 3.0`` while ``~> 2.2.0`` means
``>= 2.2.0, < 2.3``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Segment = int | str

_VERSION_RE = re.compile(
    r"^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$"
)
_SEGMENT_RE = re.compile(r"[0-9]+|[a-zA-Z]+")
_REQUIREMENT_RE = re.compile(r"^\s*(~>|!=|>=|<=|=|>|<)?\s*(\S+)\s*$")
_MAX_LENGTH = 256


@dataclass(frozen=True, slots=True)
class GemVersion:
    """A parsed ``Gem::Version``."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def prerelease(self) -> bool:
        return any(isinstance(s, str) for s in self.segments)

    def canonical(self) -> tuple[Segment, ...]:
        """Segments without trailing zeros, separately in the numeric and the string part."""
        first_str = next(
            (i for i, s in enumerate(self.segments) if isinstance(s, str)), len(self.segments)
        )
        numeric = list(self.segments[:first_str])
        rest = list(self.segments[first_str:])
        for part in (numeric, rest):
            while part and part[-1] == 0:
                part.pop()
        return tuple(numeric + rest)

    def release(self) -> GemVersion:
        """The version with its prerelease part removed (``1.2.b1`` → ``1.2``)."""
        segments = list(self.segments)
        while any(isinstance(s, str) for s in segments):
            segments.pop()
        return _from_segments(segments)

    def bump(self) -> GemVersion:
        """The upper bound of ``~>``: drop the prerelease and the last segment, add one."""
        segments = list(self.segments)
        while any(isinstance(s, str) for s in segments):
            segments.pop()
        if len(segments) > 1:
            segments.pop()
        last = segments[-1] if segments else 0
        segments[-1:] = [int(last) + 1]
        return _from_segments(segments)


def _from_segments(segments: list[Segment]) -> GemVersion:
    return GemVersion(".".join(str(s) for s in segments), tuple(segments))


def parse_version(text: str) -> GemVersion | None:
    """A RubyGems version (empty = ``0``), else None."""
    if len(text) > _MAX_LENGTH or _VERSION_RE.match(text) is None:
        return None
    normalized = text.strip().replace("-", ".pre.") or "0"
    segments = tuple(int(s) if s.isdigit() else s for s in _SEGMENT_RE.findall(normalized))
    return GemVersion(normalized, segments)


def compare_versions(a: GemVersion, b: GemVersion) -> int:
    """``Gem::Version#<=>``: -1, 0 or 1 (strings rank below numbers in the same place)."""
    left, right = a.canonical(), b.canonical()
    if left == right:
        return 0
    for i in range(max(len(left), len(right))):
        lhs: Segment = left[i] if i < len(left) else 0
        rhs: Segment = right[i] if i < len(right) else 0
        if lhs == rhs:
            continue
        if isinstance(lhs, str) and isinstance(rhs, int):
            return -1
        if isinstance(lhs, int) and isinstance(rhs, str):
            return 1
        return -1 if lhs < rhs else 1  # type: ignore[operator]
    return 0


Requirement = tuple[tuple[str, GemVersion], ...]


def parse_requirement(text: str) -> Requirement | None:
    """A comma-separated ``Gem::Requirement`` (``~> 1.2, >= 1.2.3``, ``!= 1.3``), else None.
    An empty requirement is ``>= 0``."""
    if len(text) > 4 * _MAX_LENGTH:
        return None
    out: list[tuple[str, GemVersion]] = []
    for part in text.split(","):
        if not part.strip():
            if text.strip():
                return None
            continue
        match = _REQUIREMENT_RE.match(part)
        if match is None:
            return None
        version = parse_version(match.group(2))
        if version is None:
            return None
        out.append((match.group(1) or "=", version))
    return tuple(out)


def requirement_allows(requirement: Requirement, version: GemVersion) -> bool:
    """Whether every clause of the requirement allows the version."""
    for op, bound in requirement:
        c = compare_versions(version, bound)
        if op == "=":
            ok = c == 0
        elif op == "!=":
            ok = c != 0
        elif op == ">":
            ok = c > 0
        elif op == "<":
            ok = c < 0
        elif op == ">=":
            ok = c >= 0
        elif op == "<=":
            ok = c <= 0
        else:  # "~>"
            ok = c >= 0 and compare_versions(version.release(), bound.bump()) < 0
        if not ok:
            return False
    return True
