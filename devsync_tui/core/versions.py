"""Version semantics per package manager: does a version satisfy a constraint, which of two
versions is newer.

- npm: node-semver 7 ranges (``^``, ``~``, x-ranges, hyphen ranges, ``||``, comparators,
  prereleases only where a comparator on the same ``major.minor.patch`` names one).
- cargo: the semver crate's requirements (a bare version means ``^``, comma = AND).
- pip: PEP 440 specifiers via ``packaging``; Poetry's ``^``/``~``/bare/``||`` constraints from
  pyproject files are read too. An installed prerelease counts as satisfying.
- gem: RubyGems requirements (``~>``, ``!=``, comparisons, comma lists).

Both entry points are memoized: the drift matrix asks the same questions for 100k cells.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from devsync_tui.core import version_gem as gem
from devsync_tui.core import version_semver as semver
from devsync_tui.core.models import PackageManager

_CACHE_SIZE = 1 << 17
_MAX_LENGTH = 1024
_POETRY_CLAUSE_RE = re.compile(r"^\s*(\^|~(?!=))\s*(\S+)\s*$")
_BARE_VERSION_RE = re.compile(r"^\s*v?[0-9][^\s<>=!~,]*\s*$")


def _poetry_clause(text: str) -> str | None:
    """One Poetry clause as a PEP 440 specifier ('' = any), else None if not Poetry syntax."""
    stripped = text.strip()
    if stripped in ("*", ""):
        return ""
    if _BARE_VERSION_RE.match(stripped):
        return f"=={stripped}"
    match = _POETRY_CLAUSE_RE.match(stripped)
    if match is None:
        return stripped
    op, raw = match.groups()
    try:
        version = Version(raw)
    except InvalidVersion:
        return None
    given = len(raw.split(".")) if raw.replace(".", "").isdigit() else len(version.release)
    release = list(version.release[:given]) + [0] * max(0, given - len(version.release))
    if op == "~":
        bump_at = 0 if given == 1 else 1
    else:
        nonzero = [i for i, n in enumerate(release) if n != 0]
        bump_at = nonzero[0] if nonzero else max(0, given - 1)
    upper = [*release[:bump_at], release[bump_at] + 1]
    return f">={raw},<{'.'.join(str(n) for n in upper)}"


@lru_cache(maxsize=4096)
def _pip_specifiers(constraint: str) -> tuple[SpecifierSet, ...] | None:
    alternatives: list[SpecifierSet] = []
    for alternative in re.split(r"\|\|?", constraint):
        clauses: list[str] = []
        for clause in alternative.split(","):
            translated = _poetry_clause(clause)
            if translated is None:
                return None
            if translated:
                clauses.append(translated)
        try:
            alternatives.append(SpecifierSet(",".join(clauses)))
        except InvalidSpecifier:
            return None
    return tuple(alternatives)


@lru_cache(maxsize=_CACHE_SIZE)
def _pip_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


# Parsed forms are cached too: a matrix repeats each constraint across every environment and
# each version across many packages' comparisons.
_semver_version = lru_cache(maxsize=_CACHE_SIZE)(semver.parse_version)
_npm_range = lru_cache(maxsize=4096)(semver.parse_npm_range)
_cargo_range = lru_cache(maxsize=4096)(semver.parse_cargo_range)
_gem_version = lru_cache(maxsize=_CACHE_SIZE)(gem.parse_version)
_gem_requirement = lru_cache(maxsize=4096)(gem.parse_requirement)


@lru_cache(maxsize=_CACHE_SIZE)
def satisfies(manager: PackageManager, version: str, constraint: str) -> bool | None:
    """Whether ``version`` satisfies ``constraint`` under ``manager``'s rules.

    An empty constraint allows everything. None when the version or the constraint cannot be
    parsed (a git URL, a dist-tag, a file path...): the caller cannot judge it.
    """
    if len(version) > _MAX_LENGTH or len(constraint) > _MAX_LENGTH:
        return None
    if manager in (PackageManager.NPM, PackageManager.CARGO):
        parsed_version = _semver_version(version)
        if manager is PackageManager.NPM:
            version_range = _npm_range(constraint)
        else:
            version_range = _cargo_range(constraint)
        if parsed_version is None or version_range is None:
            return None
        return semver.range_allows(version_range, parsed_version)
    if manager is PackageManager.PIP:
        pip_version = _pip_version(version.strip())
        specifiers = _pip_specifiers(constraint.strip())
        if pip_version is None or specifiers is None:
            return None
        return any(s.contains(pip_version, prereleases=True) for s in specifiers)
    gem_version = _gem_version(version)
    requirement = _gem_requirement(constraint)
    if gem_version is None or requirement is None:
        return None
    return gem.requirement_allows(requirement, gem_version)


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _fallback(a: str, b: str, a_ok: bool, b_ok: bool) -> int:
    """Order when a side cannot be parsed: unparseable first, then by text."""
    if a_ok != b_ok:
        return 1 if a_ok else -1
    return _sign((a > b) - (a < b))


@lru_cache(maxsize=_CACHE_SIZE)
def compare(manager: PackageManager, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as, or newer than ``b``.

    Versions that cannot be parsed sort before every parseable one and among themselves by
    text, so sorting never fails on a git URL.
    """
    if manager in (PackageManager.NPM, PackageManager.CARGO):
        sa, sb = _semver_version(a), _semver_version(b)
        if sa is None or sb is None:
            return _fallback(a, b, sa is not None, sb is not None)
        return _sign((sa.key > sb.key) - (sa.key < sb.key))
    if manager is PackageManager.PIP:
        pa, pb = _pip_version(a.strip()), _pip_version(b.strip())
        if pa is None or pb is None:
            return _fallback(a, b, pa is not None, pb is not None)
        return _sign((pa > pb) - (pa < pb))
    ga, gb = _gem_version(a), _gem_version(b)
    if ga is None or gb is None:
        return _fallback(a, b, ga is not None, gb is not None)
    return gem.compare_versions(ga, gb)


def is_valid_version(manager: PackageManager, version: str) -> bool:
    """Whether ``version`` is a version ``manager`` understands."""
    if manager in (PackageManager.NPM, PackageManager.CARGO):
        return _semver_version(version) is not None
    if manager is PackageManager.PIP:
        return _pip_version(version.strip()) is not None
    return _gem_version(version) is not None
