"""pnpm's local packages (``file:``, ``link:``) in every form the lockfile versions write them:
with peer suffixes, installed under another name, or missing from ``packages``. Each is a row
of its kind under the real package's name, never a registry row, and never counted twice.

The v9 shapes are those of vitejs/vite's pnpm-lock.yaml (``file:playground/external/
dep-that-imports(typescript@6.0.3)``, ``stream: '@vitejs/test-dep-esm-dummy-node-builtin@file:
…'``); the v6 ones those of the same file at pnpm 8, whose ``packages`` keys keep the suffix.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devsync_tui.core.lockfiles import ParsedPackage, scan_path
from devsync_tui.core.lockfiles.pnpm import _v9_alias, _without_peers
from devsync_tui.core.models import PackageKind

PATH, WORKSPACE, REGISTRY = PackageKind.PATH, PackageKind.WORKSPACE, PackageKind.REGISTRY

V9 = """\
lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      stream:  {specifier: file:./dummy,      version: file:dummy(typescript@5.4.2)}
      aliased: {specifier: file:./dir/module, version: '@acme/real@file:dir/module'}
      plain:   {specifier: file:./plain,      version: file:plain}
      typescript: {specifier: 5.4.2, version: 5.4.2}

  web:
    dependencies:
      again: {specifier: file:../dir/module, version: '@acme/real@file:dir/module'}

packages:

  stream@file:dummy:
    resolution: {directory: dummy, type: directory}
    peerDependencies:
      typescript: '*'

  '@acme/real@file:dir/module':
    resolution: {directory: dir/module, type: directory}

  plain@file:plain:
    resolution: {directory: plain, type: directory}

  typescript@5.4.2:
    resolution: {integrity: sha512-x}

snapshots:

  stream@file:dummy(typescript@5.4.2):
    dependencies:
      typescript: 5.4.2

  '@acme/real@file:dir/module': {}

  plain@file:plain: {}

  typescript@5.4.2: {}
"""


Row = tuple[str, str | None, PackageKind, bool, str | None, str | None]


def scan(tmp_path: Path, text: str) -> list[ParsedPackage]:
    (tmp_path / "pnpm-lock.yaml").write_text(text)
    found = list(scan_path(tmp_path).packages)
    keys = [p.key for p in found]
    assert len(keys) == len(set(keys)), "each (manager, name, version) is one row"
    return found


def table(found: list[ParsedPackage]) -> set[Row]:
    return {(p.name, p.version, p.kind, p.direct, p.constraint, p.alias) for p in found}


def test_v9_peer_suffixed_and_aliased_file_dependencies_are_path_rows(tmp_path: Path) -> None:
    assert table(scan(tmp_path, V9)) == {
        ("stream", None, PATH, True, "file:./dummy", None),
        ("@acme/real", None, PATH, True, "file:./dir/module", "aliased"),
        ("plain", None, PATH, True, "file:./plain", None),
        ("typescript", "5.4.2", REGISTRY, True, "5.4.2", None),
    }


def test_v9_local_refs_missing_from_packages_are_still_local(tmp_path: Path) -> None:
    text = (
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n"
        "      a: {specifier: file:./a, version: file:a(react@18.2.0)}\n"
        "      b: {specifier: file:./b, version: '@acme/b@file:b'}\n"
        "      c: {specifier: https://x.test/c.tgz, version: https://x.test/c.tgz}\n"
    )
    assert table(scan(tmp_path, text)) == {
        ("a", None, PATH, True, "file:./a", None),
        ("@acme/b", None, PATH, True, "file:./b", "b"),
        ("c", None, PackageKind.URL, True, "https://x.test/c.tgz", None),
    }


def test_v9_link_forms(tmp_path: Path) -> None:
    text = (
        "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n"
        "      lib: {specifier: workspace:*, version: link:packages/lib(react@18.2.0)}\n"
        "      other: {specifier: 'link:../other', version: '@acme/other@link:../other'}\n"
        "  packages/lib: {}\n"
    )
    assert table(scan(tmp_path, text)) == {
        ("lib", None, WORKSPACE, True, "workspace:*", None),
        ("@acme/other", None, PATH, True, "link:../other", "other"),
    }


V6 = """\
lockfileVersion: '6.0'

importers:

  .:
    dependencies:
      '@acme/dep':
        specifier: file:./dep
        version: file:dep(typescript@5.4.2)
      aliased:
        specifier: file:./dir/module
        version: file:dir/module
      typescript:
        specifier: 5.4.2
        version: 5.4.2

packages:

  file:dep(typescript@5.4.2):
    resolution: {directory: dep, type: directory}
    id: file:dep
    name: '@acme/dep'
    peerDependencies:
      typescript: '*'
    dependencies:
      typescript: 5.4.2
    dev: false

  file:dir/module:
    resolution: {directory: dir/module, type: directory}
    name: '@acme/real'
    version: 1.0.0
    dev: false

  /typescript@5.4.2:
    resolution: {integrity: sha512-x}
    dev: false
"""


def test_v6_file_dependencies_keep_their_suffix_in_packages(tmp_path: Path) -> None:
    assert table(scan(tmp_path, V6)) == {
        ("@acme/dep", None, PATH, True, "file:./dep", None),
        ("@acme/real", "1.0.0", PATH, True, "file:./dir/module", "aliased"),
        ("typescript", "5.4.2", REGISTRY, True, "5.4.2", None),
    }


def test_v5_file_dependencies_with_peers(tmp_path: Path) -> None:
    text = (
        "lockfileVersion: 5.4\n\nspecifiers:\n  dep: file:./dep\n  typescript: 5.4.2\n\n"
        "dependencies:\n  dep: file:dep_typescript@5.4.2\n  typescript: 5.4.2\n\n"
        "packages:\n\n  /typescript/5.4.2:\n    resolution: {integrity: sha512-x}\n\n"
        "  file:dep_typescript@5.4.2:\n    resolution: {directory: dep, type: directory}\n"
        "    id: file:dep\n    name: dep\n    version: 0.0.0\n"
    )
    assert table(scan(tmp_path, text)) == {
        ("dep", "0.0.0", PATH, True, "file:./dep", None),
        ("typescript", "5.4.2", REGISTRY, True, "5.4.2", None),
    }


@pytest.mark.parametrize(
    ("ref", "bare"),
    [
        ("file:dir", "file:dir"),
        ("file:dir(typescript@5.4.2)", "file:dir"),
        ("file:dir(a@1.0.0)(b@2.0.0)", "file:dir"),
        ("file:dir(webpack@5.90.0(@swc/core@1.6.13(@swc/helpers@0.5.13)))", "file:dir"),
        ("file:dir)", "file:dir)"),
        ("file:d(ir", "file:d(ir"),
        ("", ""),
    ],
)
def test_without_peers(ref: str, bare: str) -> None:
    assert _without_peers(ref) == bare


def test_without_peers_is_linear() -> None:
    started = time.perf_counter()
    assert _without_peers("x" + ")" * 200_000) == "x" + ")" * 200_000
    assert _without_peers("x" + "()" * 200_000) == "x"
    assert _without_peers("x" + "(" * 100_000 + ")" * 100_000) == "x"
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("ref", "split"),
    [
        ("1.2.3(react@18.2.0)", ("own", "1.2.3(react@18.2.0)")),
        ("bar@1.2.3(react@18.2.0)", ("bar", "1.2.3(react@18.2.0)")),
        ("@acme/real@file:dir/module", ("@acme/real", "file:dir/module")),
        ("real@file:dir", ("real", "file:dir")),
        ("file:dir(typescript@5.4.2)", ("own", "file:dir(typescript@5.4.2)")),
        ("git+ssh://git@github.com/a/b.git#c", ("own", "git+ssh://git@github.com/a/b.git#c")),
        ("link:../x", ("own", "link:../x")),
    ],
)
def test_v9_alias_split(ref: str, split: tuple[str, str]) -> None:
    assert _v9_alias("own", ref) == split
