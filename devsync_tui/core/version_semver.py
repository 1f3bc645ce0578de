"""Semantic versions and the range syntaxes of npm (node-semver 7) and Cargo (the semver crate).

Both syntaxes are reduced to the same form: a range is an OR of comparator sets, a set is an
AND of primitive comparators (``<``, ``<=``, ``>``, ``>=``, ``=``) on full versions. A version
with a prerelease tag only satisfies a set if one of that set's comparators carries a
prerelease on the same ``major.minor.patch`` — the rule both ecosystems share, so that
``^1.2.3`` never picks up ``1.9.0-beta``.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

Op = Literal["<", "<=", ">", ">=", "="]
PreId = int | str

# Numbers without leading zeros (strict semver); identifiers of a prerelease or build tag.
_NUM = r"0|[1-9]\d*"
_PRE = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*"
_BUILD = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_VERSION_RE = re.compile(
    rf"^\s*[v=]?\s*({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE}))?(?:\+({_BUILD}))?\s*$"
)
_XID = rf"(?:{_NUM}|[xX*])"
_PARTIAL = rf"v?({_XID})(?:\.({_XID})(?:\.({_XID})(?:-({_PRE}))?(?:\+{_BUILD})?)?)?"
_COMPARATOR_RE = re.compile(rf"^(~>|~|\^|<=|>=|<|>|=)?\s*{_PARTIAL}$")
_HYPHEN_RE = re.compile(rf"^\s*({_PARTIAL})\s+-\s+({_PARTIAL})\s*$")
# node-semver lets an operator stand apart from its version: ">= 1.2.3", "~ 1.2", "^ 1".
_OP_SPACE_RE = re.compile(r"(~>|~|\^|<=|>=|<|>|=)\s+")
_MAX_RANGE_LENGTH = 1024


SemKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


class SemVer(NamedTuple):
    """A full ``major.minor.patch[-prerelease]`` version (build metadata dropped: it never
    takes part in precedence). Build with ``semver()``, which computes ``key``."""

    major: int
    minor: int
    patch: int
    pre: tuple[PreId, ...]
    #: Sort key with semver precedence: a release ranks above its prereleases, numeric
    #: identifiers below alphanumeric ones, a shorter identifier list below a longer one.
    key: SemKey


def semver(major: int, minor: int, patch: int, pre: tuple[PreId, ...] = ()) -> SemVer:
    """A ``SemVer`` with its precedence key (a tuple: construction stays cheap, since a
    drift matrix may parse 100k versions)."""
    if not pre:
        return SemVer(major, minor, patch, pre, (major, minor, patch, 1, ()))
    ids = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in pre)
    return SemVer(major, minor, patch, pre, (major, minor, patch, 0, ids))


def _pre_ids(text: str | None) -> tuple[PreId, ...]:
    if not text:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def parse_version(text: str) -> SemVer | None:
    """A strict semver version (an optional leading ``v`` or ``=`` allowed), else None."""
    if len(text) > _MAX_RANGE_LENGTH:
        return None
    match = _VERSION_RE.match(text)
    if match is None:
        return None
    major, minor, patch, pre, _build = match.groups()
    return semver(int(major), int(minor), int(patch), _pre_ids(pre))


Comparator = tuple[Op, SemVer]
ComparatorSet = tuple[Comparator, ...]
Range = tuple[ComparatorSet, ...]

_NOTHING: ComparatorSet = (("<", semver(0, 0, 0, (0,))),)


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


class _Desugar:
    """Turns one operator + partial version into primitive comparators.

    ``upper`` is the prerelease tag put on exclusive upper bounds: npm writes ``<2.0.0-0`` so
    that ``2.0.0-beta`` stays out even beside a prerelease comparator; Cargo writes ``<2.0.0``.
    ``bare`` is the meaning of a version with no operator: ``=`` for npm, ``^`` for Cargo.
    """

    def __init__(self, upper: tuple[PreId, ...], bare: str) -> None:
        self.upper = upper
        self.bare = bare

    def below(self, major: int, minor: int, patch: int) -> Comparator:
        return ("<", semver(major, minor, patch, self.upper))

    def comparator(
        self, op: str, m: str | None, n: str | None, p: str | None, pre: str | None
    ) -> ComparatorSet:
        if op == "":
            # An explicit wildcard (``1.2.*``) is a wildcard range in both ecosystems.
            explicit_x = any(part is not None and _is_x(part) for part in (m, n, p))
            op = "=" if explicit_x else self.bare
        if op in ("~", "~>"):
            return self.tilde(m, n, p, pre)
        if op == "^":
            return self.caret(m, n, p, pre)
        return self.xrange(op, m, n, p, pre)

    def tilde(self, m: str | None, n: str | None, p: str | None, pre: str | None) -> ComparatorSet:
        if m is None or _is_x(m):
            return ()
        major = int(m)
        if _is_x(n):
            return ((">=", semver(major, 0, 0)), self.below(major + 1, 0, 0))
        minor = int(n or 0)
        if _is_x(p):
            return ((">=", semver(major, minor, 0)), self.below(major, minor + 1, 0))
        low = semver(major, minor, int(p or 0), _pre_ids(pre))
        return ((">=", low), self.below(major, minor + 1, 0))

    def caret(self, m: str | None, n: str | None, p: str | None, pre: str | None) -> ComparatorSet:
        if m is None or _is_x(m):
            return ()
        major = int(m)
        if _is_x(n):
            return ((">=", semver(major, 0, 0)), self.below(major + 1, 0, 0))
        minor = int(n or 0)
        if _is_x(p):
            if major == 0:
                return ((">=", semver(0, minor, 0)), self.below(0, minor + 1, 0))
            return ((">=", semver(major, minor, 0)), self.below(major + 1, 0, 0))
        patch = int(p or 0)
        low = semver(major, minor, patch, _pre_ids(pre))
        if major == 0 and minor == 0:
            return ((">=", low), self.below(0, 0, patch + 1))
        if major == 0:
            return ((">=", low), self.below(0, minor + 1, 0))
        return ((">=", low), self.below(major + 1, 0, 0))

    def xrange(
        self, op: str, m: str | None, n: str | None, p: str | None, pre: str | None
    ) -> ComparatorSet:
        x_major = _is_x(m)
        x_minor = x_major or _is_x(n)
        x_patch = x_minor or _is_x(p)
        if not x_patch:
            version = semver(int(m or 0), int(n or 0), int(p or 0), _pre_ids(pre))
            return ((op, version),)  # type: ignore[return-value]
        if x_major:
            return _NOTHING if op in ("<", ">") else ()
        major = int(m or 0)
        minor = 0 if x_minor else int(n or 0)
        if op in ("", "="):
            if x_minor:
                return ((">=", semver(major, 0, 0)), self.below(major + 1, 0, 0))
            return ((">=", semver(major, minor, 0)), self.below(major, minor + 1, 0))
        if op == ">":
            bumped = semver(major + 1, 0, 0) if x_minor else semver(major, minor + 1, 0)
            return ((">=", bumped),)
        if op == "<=":
            if x_minor:
                return (self.below(major + 1, 0, 0),)
            return (self.below(major, minor + 1, 0),)
        if op == "<":
            return (self.below(major, minor, 0),)
        return ((">=", semver(major, minor, 0)),)


_NPM = _Desugar(upper=(0,), bare="=")
_CARGO = _Desugar(upper=(), bare="^")


def _npm_set(text: str) -> ComparatorSet | None:
    hyphen = _HYPHEN_RE.match(text)
    if hyphen is not None:
        g = hyphen.groups()
        low: ComparatorSet = _NPM.xrange(">=", g[1], g[2], g[3], g[4])
        if _is_x(g[6]):
            high: ComparatorSet = ()
        elif _is_x(g[7]):
            high = (_NPM.below(int(g[6]) + 1, 0, 0),)
        elif _is_x(g[8]):
            high = (_NPM.below(int(g[6]), int(g[7] or 0) + 1, 0),)
        else:
            high = (("<=", semver(int(g[6]), int(g[7] or 0), int(g[8] or 0), _pre_ids(g[9]))),)
        return low + high
    out: list[Comparator] = []
    for token in _OP_SPACE_RE.sub(r"\1", text).split():
        match = _COMPARATOR_RE.match(token)
        if match is None:
            return None
        op, m, n, p, pre = match.groups()
        out.extend(_NPM.comparator(op or "", m, n, p, pre))
    return tuple(out)


def parse_npm_range(text: str) -> Range | None:
    """An npm range (``^``, ``~``, x-ranges, hyphen ranges, ``||``, comparators), else None.
    ``npm:name@range`` aliases are read as their range."""
    text = text.strip()
    if len(text) > _MAX_RANGE_LENGTH:
        return None
    if text.startswith("npm:") and "@" in text[5:]:
        text = text[text.rindex("@") + 1 :]
    sets: list[ComparatorSet] = []
    for part in text.split("||"):
        parsed = _npm_set(part.strip())
        if parsed is None:
            return None
        sets.append(parsed)
    return tuple(sets)


def parse_cargo_range(text: str) -> Range | None:
    """A Cargo version requirement (comma = AND; a bare version means ``^``), else None."""
    text = text.strip()
    if len(text) > _MAX_RANGE_LENGTH or "||" in text:
        return None
    if text == "":
        return ((),)
    out: list[Comparator] = []
    for part in text.split(","):
        match = _COMPARATOR_RE.match(part.strip())
        if match is None:
            return None
        op, m, n, p, pre = match.groups()
        if op == "~>":
            return None
        out.extend(_CARGO.comparator(op or "", m, n, p, pre))
    return (tuple(out),)


def _holds(op: Op, version: SemVer, bound: SemVer) -> bool:
    a, b = version.key, bound.key
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    return a == b


def _set_allows(comparators: ComparatorSet, version: SemVer) -> bool:
    if not all(_holds(op, version, bound) for op, bound in comparators):
        return False
    if not version.pre:
        return True
    core = (version.major, version.minor, version.patch)
    return any(b.pre and (b.major, b.minor, b.patch) == core for _op, b in comparators)


def range_allows(version_range: Range, version: SemVer) -> bool:
    """Whether any comparator set of the range allows the version."""
    return any(_set_allows(s, version) for s in version_range)
