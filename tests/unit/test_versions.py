"""core.versions on the documented examples of each ecosystem (npm's semver README, the Cargo
book's "Specifying dependencies", PEP 440, Poetry's docs, the RubyGems guides)."""

from __future__ import annotations

import pytest

from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare, is_valid_version, satisfies

NPM, CARGO, PIP, GEM = (
    PackageManager.NPM,
    PackageManager.CARGO,
    PackageManager.PIP,
    PackageManager.GEM,
)


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.2.4", "^1.2.3", True),
        ("2.0.0", "^1.2.3", False),
        ("2.0.0-beta", "^1.2.3", False),
        ("1.9.0-beta", "^1.2.3", False),  # prerelease of another tuple: never
        ("1.2.3-beta.2", "^1.2.3-beta.1", True),
        ("1.2.4-beta.2", "^1.2.3-beta.1", False),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("0.0.4", "^0.0.3", False),
        ("0.0.9", "^0.0", True),
        ("0.1.0", "^0.0.x", False),
        ("1.2.9", "~1.2.3", True),
        ("1.3.0", "~1.2.3", False),
        ("1.9.9", "~1", True),
        ("1.2.9", "~>1.2", True),
        ("1.5.0", "1.x", True),
        ("1.5.0", "1.2.X", False),
        ("7.0.0", "*", True),
        ("7.0.0-rc.1", "*", False),
        ("1.2.3", "", True),
        ("1.5.0", "1.2 - 2.3.4", True),
        ("2.3.5", "1.2 - 2.3.4", False),
        ("2.3.9", "1.2.3 - 2.3", True),
        ("2.4.0", "1.2.3 - 2.3", False),
        ("2.0.0", "<=1.2", False),
        ("1.2.9", "<=1.2", True),
        ("1.3.0", ">1.2", True),
        ("1.2.9", ">1.2", False),
        ("3.1.0", "1.x || >=3", True),
        ("2.1.0", "1.x || >=3", False),
        ("1.2.3", ">= 1.2.3 < 2", True),
        ("1.0.0", "npm:left-pad@^1", True),
        ("v1.2.3", "=1.2.3", True),
        ("1.2.3", "latest", None),
        ("1.2.3", "git+https://example.org/x.git", None),
        ("not-a-version", "^1", None),
    ],
)
def test_npm(version: str, constraint: str, expected: bool | None) -> None:
    assert satisfies(NPM, version, constraint) is expected


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.9.9", "1.2.3", True),  # bare = caret
        ("2.0.0", "1.2.3", False),
        ("0.2.9", "0.2.3", True),
        ("0.3.0", "0.2.3", False),
        ("0.0.3", "0.0.3", True),
        ("0.0.4", "0.0.3", False),
        ("0.0.9", "^0.0", True),
        ("0.1.0", "^0.0", False),
        ("0.9.0", "^0", True),
        ("1.0.0", "^0", False),
        ("0.1.5", "0.1", True),
        ("0.2.0", "0.1", False),
        ("1.2.9", "~1.2.3", True),
        ("1.3.0", "~1.2", False),
        ("1.9.0", "~1", True),
        ("1.2.9", "1.2.*", True),
        ("1.3.0", "1.2.*", False),
        ("9.9.9", "*", True),
        ("1.2.7", "=1.2", True),
        ("1.2.3", "=1.2.3", True),
        ("1.2.4", "=1.2.3", False),
        ("1.5.0", ">=1.2, <1.6", True),
        ("1.6.0", ">=1.2, <1.6", False),
        ("1.2.3-beta", "^1.2.3-alpha", True),
        ("1.5.0-beta", "^1.2.3-alpha", False),
        ("1.5.0-beta", "^1.2.3", False),
        ("1.0.0", "1.0 || 2.0", None),  # Cargo has no OR
        ("1.0", "^1", None),  # a resolved Cargo version is always full
    ],
)
def test_cargo(version: str, constraint: str, expected: bool | None) -> None:
    assert satisfies(CARGO, version, constraint) is expected


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("2.31.0", ">=2.28,<3", True),
        ("3.0.0", ">=2.28,<3", False),
        ("1.4.5", "~=1.4.2", True),
        ("1.5.0", "~=1.4.2", False),
        ("2.0.0b1", ">=1.0", True),  # an installed prerelease still satisfies
        ("1.2.9", "==1.2.*", True),
        ("1.5", "^1.2", True),  # Poetry syntax from pyproject
        ("2.0", "^1.2", False),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("1.2.9", "~1.2", True),
        ("1.3.0", "~1.2", False),
        ("1.2.3", "1.2.3", True),
        ("5.0", "*", True),
        ("3.0", ">=1,<2 || >=3", True),
        ("2.5", ">=1,<2 || >=3", False),
        ("1.0", "", True),
        ("1.0", "@latest", None),
        ("not a version", ">=1", None),
    ],
)
def test_pip(version: str, constraint: str, expected: bool | None) -> None:
    assert satisfies(PIP, version, constraint) is expected


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("2.2", "~> 2.2", True),
        ("2.9.9", "~> 2.2", True),
        ("3.0", "~> 2.2", False),
        ("2.2.9", "~> 2.2.0", True),
        ("2.3", "~> 2.2.0", False),
        ("2.2.0.a", "~> 2.2.0", False),
        ("1.5", "~> 1.2, != 1.5", False),
        ("1.4", "~> 1.2, != 1.5", True),
        ("7.1.3", ">= 7.0, < 7.2", True),
        ("1.0.a", "< 1.0", True),
        ("1.0", "= 1", True),
        ("1.0", "1.0", True),
        ("1.1", "1.0", False),
        ("1.0", "", True),
        ("1.0", "~> ", None),
        ("1.0", ">= 1,, < 2", None),
    ],
)
def test_gem(version: str, constraint: str, expected: bool | None) -> None:
    assert satisfies(GEM, version, constraint) is expected


@pytest.mark.parametrize(
    ("manager", "a", "b", "expected"),
    [
        (NPM, "1.0.0-alpha", "1.0.0-alpha.1", -1),
        (NPM, "1.0.0-alpha.beta", "1.0.0-beta", -1),
        (NPM, "1.0.0-beta.11", "1.0.0-rc.1", -1),
        (NPM, "1.0.0-rc.1", "1.0.0", -1),
        (NPM, "1.0.0+build.5", "1.0.0", 0),
        (NPM, "10.0.0", "9.9.9", 1),
        (CARGO, "1.0.0-beta.2", "1.0.0-beta.11", -1),
        (PIP, "1.0rc1", "1.0", -1),
        (PIP, "1.0.post1", "1.0", 1),
        (PIP, "1.0", "1.0.0", 0),
        (GEM, "1.0", "1", 0),
        (GEM, "1.0.a", "1.0", -1),
        (GEM, "1.0.b1", "1.0.a2", 1),
        (GEM, "1.10", "1.9", 1),
        (NPM, "git+ssh://x", "1.0.0", -1),  # unparseable sorts first
        (NPM, "1.0.0", "file:../x", 1),
        (PIP, "abc", "abd", -1),
    ],
)
def test_compare(manager: PackageManager, a: str, b: str, expected: int) -> None:
    assert compare(manager, a, b) == expected
    assert compare(manager, b, a) == -expected


def test_is_valid_version() -> None:
    assert is_valid_version(NPM, "1.2.3-rc.1")
    assert not is_valid_version(NPM, "1.2")
    assert is_valid_version(PIP, "2024.1")
    assert is_valid_version(GEM, "1.15.4")
    assert not is_valid_version(CARGO, "01.2.3")


def test_hostile_input_is_rejected_quickly() -> None:
    long_range = "^1.2.3 " * 400
    assert satisfies(NPM, "1.2.3", long_range) is None
    assert satisfies(NPM, "1.2.3", "1." + "9" * 5000) is None
    assert satisfies(GEM, "1" + ".1a" * 2000, ">= 1") is None
    assert satisfies(PIP, "1.0", "<" * 3000) is None


def test_satisfies_is_memoized() -> None:
    satisfies.cache_clear()
    for _ in range(3):
        satisfies(NPM, "1.2.3", "^1.0.0")
    info = satisfies.cache_info()
    assert (info.hits, info.misses) == (2, 1)
