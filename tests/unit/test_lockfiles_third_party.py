"""Real lockfiles of public projects, every format, read with every distinct name@version pair:
each is checked against the answer a second, independent method gave for the same file (the
package manager's own tool or parser; see tests/fixtures/lockfiles/third_party/README.md and
record_answers.py, which recorded them — the tests need none of those tools).

Documented differences, asserted exactly rather than ignored:
- uv: ``uv export`` writes workspace members and editable installs as ``-e ./path`` and git
  or URL packages as ``name @ url``, with no version, so only DevSync's registry rows are
  compared (the others are rows of their kind, asserted by ``kind``).
- Pipfile.lock: ``pipenv requirements --dev`` writes one line per package, with the
  ``default`` section's pin when ``develop`` pins another version; DevSync reports both, so
  its extra pairs must be exactly the ``develop`` versions of such packages.
- Rows without a version (an importer's ``link:`` to a workspace folder in pnpm) name no
  pair; they must be workspace/path rows.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from devsync_tui.core.lockfiles import ParsedPackage, scan_path
from devsync_tui.core.models import PackageKind

THIRD_PARTY = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "third_party"
CASES = sorted(p.name for p in THIRD_PARTY.iterdir() if p.is_dir() and p.name != "answers")
MANIFESTS = ("package.json", "Pipfile", "requirements.in")
LOCAL = (PackageKind.WORKSPACE, PackageKind.EDITABLE, PackageKind.PATH)


def unpack(case: str, into: Path) -> Path:
    """The case's files, decompressed, in ``into``; the lockfile's path."""
    lock = None
    for source in (THIRD_PARTY / case).iterdir():
        name = source.name.removesuffix(".gz")
        data = source.read_bytes()
        (into / name).write_bytes(gzip.decompress(data) if source.suffix == ".gz" else data)
        if name not in MANIFESTS:
            lock = into / name
    assert lock is not None
    return lock


def answer(case: str) -> set[str]:
    data = json.loads((THIRD_PARTY / "answers" / f"{case}.json").read_text())
    assert data["case"] == case
    assert data["method"]
    return set(data["pairs"])


def pairs(rows: tuple[ParsedPackage, ...] | list[ParsedPackage]) -> set[str]:
    return {f"{p.name}@{p.version}" for p in rows if p.version is not None}


@pytest.mark.parametrize("case", CASES)
def test_every_name_at_version_pair_matches_the_second_method(tmp_path: Path, case: str) -> None:
    lock = unpack(case, tmp_path)
    rows = scan_path(lock).packages
    keys = [(p.manager, p.name, p.version) for p in rows]
    assert len(keys) == len(set(keys)), "each (manager, name, version) is one row"
    assert all(p.kind in LOCAL for p in rows if p.version is None and not p.direct)
    theirs = answer(case)
    compared = rows
    if case.startswith("uv-"):
        compared = [p for p in rows if p.kind is PackageKind.REGISTRY]
    ours = pairs(compared)
    if case.startswith("pipfile-"):
        lockfile = json.loads(lock.read_text())
        default, develop = lockfile.get("default", {}), lockfile.get("develop", {})
        dropped = {
            f"{name.lower()}@{entry['version'].lstrip('=')}"
            for name, entry in develop.items()
            if name in default and default[name].get("version") != entry.get("version")
        }
        assert ours - theirs == dropped
        assert theirs <= ours
        return
    assert ours == theirs


@pytest.mark.parametrize(
    ("case", "names_at_several_versions"),
    [
        ("npm-v1-warehouse", 160),
        ("npm-v2-axios", 216),
        ("npm-v3-warehouse", 61),
        ("yarn-v1-webpack", 133),
        ("yarn-berry-prettier", 113),
        ("pnpm-v9-vue", 46),
        ("cargo-bat", 9),
        ("requirements-markers-uv", 9),
    ],
)
def test_packages_locked_at_several_versions_keep_them_all(
    tmp_path: Path, case: str, names_at_several_versions: int
) -> None:
    rows = scan_path(unpack(case, tmp_path)).packages
    seen: dict[str, set[str]] = {}
    for p in rows:
        if p.version is not None:
            seen.setdefault(p.name, set()).add(p.version)
    assert sum(1 for v in seen.values() if len(v) > 1) == names_at_several_versions


def test_exclusive_markers_are_one_row_each_with_its_marker(tmp_path: Path) -> None:
    rows = scan_path(unpack("requirements-markers-uv", tmp_path)).packages
    numpy = {p.version: p.marker for p in rows if p.name == "numpy"}
    assert numpy == {
        "1.24.4": 'python_full_version < "3.9"',
        "2.0.2": 'python_full_version == "3.9.*"',
        "2.2.6": 'python_full_version == "3.10.*"',
        "2.4.6": 'python_full_version == "3.11.*"',
        "2.5.5": 'python_full_version >= "3.12"',
    }


def test_platform_gems_are_one_row_per_version(tmp_path: Path) -> None:
    rows = scan_path(unpack("gem-maybe", tmp_path)).packages
    ffi = [p for p in rows if p.name == "ffi"]
    assert len(ffi) == 1
    assert ffi[0].version == "1.17.2"
    assert "x86_64-linux-gnu" in ffi[0].platforms
    assert "arm64-darwin" in ffi[0].platforms


def test_npm_aliases_are_recorded_under_the_real_package(tmp_path: Path) -> None:
    rows = scan_path(unpack("npm-v3-warehouse", tmp_path)).packages
    aliased = {(p.alias, p.name) for p in rows if p.alias}
    assert aliased
    assert all(alias != name for alias, name in aliased)


def test_pnpm_two_documents_read_the_project_not_pnpm_itself(tmp_path: Path) -> None:
    rows = scan_path(unpack("pnpm-v9-two-documents-vue", tmp_path)).packages
    assert not [p for p in rows if p.name in ("pnpm", "@pnpm/exe")]
    assert any(p.name == "vue" or p.name == "typescript" for p in rows)


def test_pip_compile_output_is_read_whatever_its_name(tmp_path: Path) -> None:
    """warehouse's requirements/main.txt: found by a folder walk (a .txt in a folder named
    requirements, recognised by content) and read when named explicitly."""
    folder = tmp_path / "requirements"
    folder.mkdir()
    unpack("pip-compile-warehouse-main", folder)
    (folder / "README.txt").write_text("These files are compiled.\nRun make deps to update.\n")
    walked = scan_path(tmp_path)
    assert walked.files == (folder / "main.txt",)
    named = scan_path(folder / "main.txt")
    assert pairs(named.packages) == pairs(walked.packages) == answer("pip-compile-warehouse-main")


def test_pip_freeze_output_is_found_by_content_in_a_walk(tmp_path: Path) -> None:
    unpack("pip-freeze-tools", tmp_path)
    (tmp_path / "notes.txt").write_text("todo\nrelease\n")  # one word a line: not pinned
    result = scan_path(tmp_path)
    assert result.files == (tmp_path / "freeze.txt",)
    assert pairs(result.packages) == answer("pip-freeze-tools")
