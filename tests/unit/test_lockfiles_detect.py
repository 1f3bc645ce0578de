"""Which files a scan reads: any file named explicitly, recognised by its content; in a walk,
``.txt`` files by name or content; aliases, kinds and the one-version bridge to the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devsync_tui.core.lockfiles import LockfileError, ParsedPackage, scan_path
from devsync_tui.core.models import PackageKind, PackageManager

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
NPM, PIP, GEM, CARGO = (
    PackageManager.NPM,
    PackageManager.PIP,
    PackageManager.GEM,
    PackageManager.CARGO,
)


@pytest.mark.parametrize(
    ("source", "odd_name", "manager", "rows"),
    [
        ("npm-v3/package-lock.json", "frontend.lock.json", NPM, 76),
        ("npm-v1/package-lock.json", "old-lock", NPM, 76),
        ("pnpm-v6/pnpm-lock.yaml", "pnpm.yaml", NPM, 8),
        ("yarn-v1/yarn.lock", "yarn-classic.lock", NPM, 11),
        ("yarn-berry/yarn.lock", "berry.lock", NPM, 6),
        ("poetry/poetry.lock", "poetry-2023.lock", PIP, 11),
        ("uv/uv.lock", "uv-lock.toml", PIP, 23),
        ("pipenv/Pipfile.lock", "Pipfile-prod.lock", PIP, 6),
        ("bundler/Gemfile.lock", "gems.locked", GEM, 18),
        ("cargo/Cargo.lock", "crates.lock", CARGO, 11),
        ("requirements/requirements.txt", "pinned.txt", PIP, 13),
    ],
)
def test_a_named_file_of_any_name_is_read_by_its_content(
    tmp_path: Path, source: str, odd_name: str, manager: PackageManager, rows: int
) -> None:
    target = tmp_path / odd_name
    shutil.copy(FIXTURES / source, target)
    result = scan_path(target)
    assert result.files == (target,)
    assert {p.manager for p in result.packages} == {manager}
    assert len(result.packages) == rows


def test_a_named_file_that_is_no_lockfile_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hi\nthere\n")
    with pytest.raises(LockfileError) as info:
        scan_path(tmp_path / "notes.md")
    assert info.value.message == "not a lockfile or manifest DevSync recognises"


def test_txt_files_in_a_walk_are_read_when_their_content_is_pip(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    # In a folder named requirements, unpinned requirements are enough.
    (tmp_path / "requirements" / "base.txt").write_text("django>=4.2\nrequests\n")
    (tmp_path / "requirements" / "notes.txt").write_text("Compile with make deps.\n")
    # Elsewhere: pip-compile output, hashes, or pip freeze pins.
    (tmp_path / "locked.txt").write_text("attrs==23.1.0\n-e git+https://x/y.git#egg=y\n")
    (tmp_path / "hashed.txt").write_text("six==1.16.0 --hash=sha256:abc\n")
    (tmp_path / "words.txt").write_text("apple\nbanana\n")  # valid names, but no pins
    (tmp_path / "constraints.txt").write_text("urllib3==2.0.0\n")  # installs nothing
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "changes.txt").write_text("1.0: first release\n")
    result = scan_path(tmp_path)
    assert sorted(f.relative_to(tmp_path).as_posix() for f in result.files) == [
        "hashed.txt",
        "locked.txt",
        "requirements/base.txt",
    ]
    found = {(p.name, p.version, p.kind) for p in result.packages}
    assert found == {
        ("attrs", "23.1.0", PackageKind.REGISTRY),
        ("y", None, PackageKind.EDITABLE),
        ("six", "1.16.0", PackageKind.REGISTRY),
        ("django", None, PackageKind.REGISTRY),
        ("requests", None, PackageKind.REGISTRY),
    }


def test_exclusive_markers_are_two_rows_and_one_version_twice_is_one(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        'foo==1.0 ; python_version < "3.8"\n'
        'foo==2.0 ; python_version >= "3.8"\n'
        'bar==3.0 ; sys_platform == "linux"\n'
        'Bar==3.0 ; sys_platform == "darwin"\n'
    )
    rows = {(p.name, p.version): p.marker for p in scan_path(tmp_path).packages}
    assert rows == {
        ("foo", "1.0"): 'python_version < "3.8"',
        ("foo", "2.0"): 'python_version >= "3.8"',
        ("bar", "3.0"): '(sys_platform == "linux") or (sys_platform == "darwin")',
    }


def lock_v3(tmp_path: Path, packages: dict[str, object]) -> None:
    (tmp_path / "package-lock.json").write_text(
        json.dumps({"lockfileVersion": 3, "packages": packages})
    )


def test_npm_aliases_kinds_and_nested_copies(tmp_path: Path) -> None:
    lock_v3(
        tmp_path,
        {
            "": {
                "name": "app",
                "workspaces": ["packages/*"],
                "dependencies": {"foo": "npm:bar@^1.2.0", "lib": "file:../lib", "ms": "^2"},
            },
            "node_modules/foo": {
                "name": "bar",
                "version": "1.2.3",
                "resolved": "https://registry.npmjs.org/bar/-/bar-1.2.3.tgz",
            },
            "node_modules/ms": {"version": "2.1.3"},
            "node_modules/debug/node_modules/ms": {"version": "2.0.0"},
            "node_modules/debug": {"version": "2.6.9"},
            "node_modules/lib": {"resolved": "../lib", "link": True},
            "../lib": {"name": "lib", "version": "0.1.0"},
            "node_modules/ui": {"resolved": "packages/ui", "link": True},
            "packages/ui": {"name": "ui", "version": "1.0.0", "dependencies": {"ms": "^2"}},
            "node_modules/gitdep": {
                "version": "1.0.0",
                "resolved": "git+ssh://git@github.com/org/gitdep.git#abc",
            },
            "node_modules/tar": {"version": "1.0.0", "resolved": "https://example.com/t.tgz"},
        },
    )
    rows = {(p.name, p.version): p for p in scan_path(tmp_path).packages}
    assert rows["bar", "1.2.3"] == ParsedPackage(NPM, "bar", "1.2.3", "^1.2.0", True, alias="foo")
    assert rows["ms", "2.1.3"].direct
    assert not rows["ms", "2.0.0"].direct
    assert rows["lib", "0.1.0"].kind is PackageKind.PATH
    assert rows["ui", "1.0.0"].kind is PackageKind.WORKSPACE
    assert rows["gitdep", "1.0.0"].kind is PackageKind.GIT
    assert rows["tar", "1.0.0"].kind is PackageKind.URL


def test_npm_v1_alias(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(
        json.dumps(
            {
                "lockfileVersion": 1,
                "dependencies": {
                    "foo": {"version": "npm:@scope/bar@1.2.3"},
                    "x": {"version": "1.0.0", "dependencies": {"foo": {"version": "1.0.0"}}},
                },
            }
        )
    )
    rows = {(p.name, p.version, p.alias) for p in scan_path(tmp_path).packages}
    assert rows == {("@scope/bar", "1.2.3", "foo"), ("x", "1.0.0", None), ("foo", "1.0.0", None)}


def test_yarn_and_pnpm_aliases(tmp_path: Path) -> None:
    yarn = tmp_path / "yarn"
    yarn.mkdir()
    (yarn / "package.json").write_text('{"dependencies": {"foo": "npm:bar@^1.0.0"}}')
    (yarn / "yarn.lock").write_text(
        '# yarn lockfile v1\n\n"foo@npm:bar@^1.0.0":\n  version "1.4.0"\n'
        '  resolved "https://registry.yarnpkg.com/bar/-/bar-1.4.0.tgz"\n'
    )
    assert scan_path(yarn).packages == (
        ParsedPackage(NPM, "bar", "1.4.0", "^1.0.0", True, alias="foo"),
    )
    pnpm = tmp_path / "pnpm"
    pnpm.mkdir()
    (pnpm / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      foo:\n"
        "        specifier: npm:bar@^1.0.0\n        version: bar@1.4.0\n"
        "packages:\n  bar@1.4.0:\n    resolution: {integrity: sha512-x}\n"
        "snapshots:\n  bar@1.4.0: {}\n"
    )
    assert scan_path(pnpm).packages == (
        ParsedPackage(NPM, "bar", "1.4.0", "^1.0.0", True, alias="foo"),
    )


def test_a_manifest_requirement_folds_into_the_versions_it_names() -> None:
    from devsync_tui.core.lockfiles.merge import merge_versions

    rows = merge_versions(
        [
            ParsedPackage(PIP, "django", "4.2.8", None, False),
            ParsedPackage(PIP, "django", "3.2.0", None, False),
            ParsedPackage(PIP, "django", None, "~=4.2.7", True),  # requirements.txt, unpinned
            ParsedPackage(PIP, "flask", None, ">=3", True),  # named nowhere else: stays
        ]
    )
    assert rows == [
        ParsedPackage(PIP, "django", "4.2.8", "~=4.2.7", True),
        ParsedPackage(PIP, "django", "3.2.0", None, False),
        ParsedPackage(PIP, "flask", None, ">=3", True),
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "A", "b", "c_d", "c-d"]),
            st.sampled_from(["1.0.0", "1.0.1", "2.0.0", None]),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_merging_never_loses_a_version(items: list[tuple[str, str | None, bool]]) -> None:
    from devsync_tui.core.lockfiles.merge import merge_versions
    from devsync_tui.core.names import package_key

    packages = [ParsedPackage(PIP, name, version, None, direct) for name, version, direct in items]
    merged = merge_versions(packages)
    wanted = {(package_key(PIP, p.name), p.version) for p in packages if p.version}
    got = [(package_key(PIP, p.name), p.version) for p in merged if p.version]
    assert sorted(got) == sorted(wanted)  # every version once
    assert any(p.direct for p in merged) == any(p.direct for p in packages)
