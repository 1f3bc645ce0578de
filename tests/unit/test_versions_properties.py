"""Property tests: core.versions agrees with each ecosystem's reference library on PyPI.

npm → ``node-semver`` (a port of node-semver), cargo → ``semantic_version``'s SimpleSpec
(same syntax once a bare version is written with ``^``; prereleases left out because
SimpleSpec lets ``1.5.0-alpha`` satisfy ``^1.2.3`` where Cargo does not), pip → ``packaging``
and ``poetry-core`` (Poetry constraints), gem → ``univers``' port of Gem::Requirement.
"""

from __future__ import annotations

import nodesemver
import semantic_version
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from poetry.core.constraints.version import Version as PoetryVersion
from poetry.core.constraints.version import parse_constraint
from univers.gem import GemRequirement
from univers.gem import GemVersion as UniversGemVersion

from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare, satisfies

NPM, CARGO, PIP, GEM = (
    PackageManager.NPM,
    PackageManager.CARGO,
    PackageManager.PIP,
    PackageManager.GEM,
)
small = st.integers(min_value=0, max_value=4)
pre_tags = st.sampled_from(["", "-alpha", "-beta.2", "-0", "-rc.1", "-alpha.1", "-1"])


@st.composite
def semvers(draw: st.DrawFn, prerelease: bool = True) -> str:
    tag = draw(pre_tags) if prerelease else ""
    return f"{draw(small)}.{draw(small)}.{draw(small)}{tag}"


@st.composite
def partials(draw: st.DrawFn, prerelease: bool = True, wildcard: str = "x") -> str:
    parts = draw(st.integers(min_value=1, max_value=3))
    numbers = [str(draw(small)) for _ in range(parts)]
    if parts > 1 and draw(st.booleans()):
        numbers[-1] = wildcard
    text = ".".join(numbers)
    if parts == 3 and wildcard not in numbers and prerelease:
        text += draw(pre_tags)
    return text


@st.composite
def npm_ranges(draw: st.DrawFn) -> str:
    def comparator() -> str:
        op = draw(st.sampled_from(["", "^", "~", "<", "<=", ">", ">=", "="]))
        return op + draw(partials(wildcard=draw(st.sampled_from(["x", "X", "*"]))))

    def one_set() -> str:
        if draw(st.integers(0, 4)) == 0:
            return f"{draw(partials())} - {draw(partials())}"
        return " ".join(comparator() for _ in range(draw(st.integers(1, 2))))

    return " || ".join(one_set() for _ in range(draw(st.integers(1, 2))))


@settings(max_examples=600, deadline=None)
@given(version=semvers(), version_range=npm_ranges())
def test_npm_matches_node_semver(version: str, version_range: str) -> None:
    expected = nodesemver.satisfies(version, version_range, loose=False)
    assert satisfies(NPM, version, version_range) is expected


@settings(max_examples=300, deadline=None)
@given(a=semvers(), b=semvers())
def test_npm_compare_matches_node_semver(a: str, b: str) -> None:
    assert compare(NPM, a, b) == nodesemver.compare(a, b, loose=False)


@st.composite
def cargo_requirements(draw: st.DrawFn) -> tuple[str, str]:
    """(requirement as Cargo writes it, the same for SimpleSpec)."""
    ours: list[str] = []
    theirs: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["", "^", "~", "<", "<=", ">", ">=", "="]))
        partial = draw(partials(prerelease=False, wildcard="*"))
        if "*" in partial and op not in ("", "="):
            partial = partial.replace(".*", "")
        # SimpleSpec reads ^0 / ^0.1 as exact versions; Cargo's own examples cover them.
        if op in ("", "^") and partial.startswith("0") and partial.count(".") < 2:
            partial += ".0" * (2 - partial.count("."))
        ours.append(op + partial)
        theirs.append((op or "^") + partial if "*" not in partial else partial)
    return ", ".join(ours), ",".join(theirs)


@settings(max_examples=500, deadline=None)
@given(version=semvers(prerelease=False), requirement=cargo_requirements())
def test_cargo_matches_semantic_version(version: str, requirement: tuple[str, str]) -> None:
    ours, theirs = requirement
    expected = semantic_version.SimpleSpec(theirs).match(semantic_version.Version(version))
    assert satisfies(CARGO, version, ours) is expected


pep440_versions = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}{pre}",
    small,
    small,
    small,
    st.sampled_from(["", "a1", "b2", "rc1", ".post1", ".dev0"]),
)


@st.composite
def pep440_specifiers(draw: st.DrawFn) -> str:
    def clause() -> str:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~="]))
        parts = draw(st.integers(2 if op == "~=" else 1, 3))
        text = ".".join(str(draw(small)) for _ in range(parts))
        if op in ("==", "!=") and draw(st.booleans()):
            text += ".*"
        return op + text

    return ",".join(clause() for _ in range(draw(st.integers(1, 2))))


@settings(max_examples=300, deadline=None)
@given(version=pep440_versions, specifier=pep440_specifiers())
def test_pip_matches_packaging(version: str, specifier: str) -> None:
    expected = SpecifierSet(specifier).contains(Version(version), prereleases=True)
    assert satisfies(PIP, version, specifier) is expected


@st.composite
def poetry_constraints(draw: st.DrawFn) -> str:
    def clause() -> str:
        op = draw(st.sampled_from(["^", "~", ""]))
        return op + ".".join(str(draw(small)) for _ in range(draw(st.integers(1, 3))))

    return " || ".join(clause() for _ in range(draw(st.integers(1, 2))))


@settings(max_examples=300, deadline=None)
@given(
    version=st.builds(lambda a, b, c: f"{a}.{b}.{c}", small, small, small),
    constraint=poetry_constraints(),
)
def test_pip_poetry_constraints_match_poetry_core(version: str, constraint: str) -> None:
    expected = parse_constraint(constraint).allows(PoetryVersion.parse(version))
    assert satisfies(PIP, version, constraint) is expected


gem_versions = st.builds(
    lambda parts, pre: ".".join(str(p) for p in parts) + pre,
    st.lists(small, min_size=1, max_size=4),
    st.sampled_from(["", ".a", ".beta2", ".rc1", ".pre"]),
)


@st.composite
def gem_requirements(draw: st.DrawFn) -> str:
    def clause() -> str:
        op = draw(st.sampled_from(["~>", "!=", ">=", "<=", "=", ">", "<", ""]))
        return f"{op} {draw(gem_versions)}".strip()

    return ", ".join(clause() for _ in range(draw(st.integers(1, 2))))


@settings(max_examples=500, deadline=None)
@given(version=gem_versions, requirement=gem_requirements())
def test_gem_matches_univers(version: str, requirement: str) -> None:
    expected = GemRequirement.from_string(requirement).satisfied_by(UniversGemVersion(version))
    assert satisfies(GEM, version, requirement) is expected


@settings(max_examples=300, deadline=None)
@given(a=gem_versions, b=gem_versions)
def test_gem_compare_matches_univers(a: str, b: str) -> None:
    ua, ub = UniversGemVersion(a), UniversGemVersion(b)
    expected = (ua > ub) - (ua < ub)
    assert compare(GEM, a, b) == expected
