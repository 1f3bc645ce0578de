"""Find the lockfiles and manifests under a path and read them into one package list.

In each folder a lockfile is read together with the manifest beside it (which makes packages
direct and gives their constraints); a manifest without a lockfile contributes its direct
packages with no resolved version. Folders of installed or built code (node_modules, .venv,
target, ...) are not searched. Every distinct (package, version) is a row.

The scan stays inside the folder it was given: a link (file or folder) that points outside
it is skipped with a warning in a walk, and refused when it is the file named; requirements
includes that leave it are refused (``requirements.py``). A ``.txt`` file is read as
requirements when its name says so or its content does (``sniff.py``); a file named
explicitly may have any name — its content says which format it is.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from devsync_tui.core.lockfiles import cargo, gem, npm, pnpm, python, requirements, yarn
from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage, inside, read_text
from devsync_tui.core.lockfiles.merge import merge_versions
from devsync_tui.core.lockfiles.sniff import (
    HEAD_BYTES,
    Format,
    looks_like_requirements,
    sniff_format,
)
from devsync_tui.core.models import PackageManager
from devsync_tui.core.printable import visible

SKIP_DIRS = frozenset(
    {
        "node_modules", ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "target",
        "vendor", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        "site-packages", ".yarn", ".pnpm-store", "bower_components",
    }
)  # fmt: skip
MAX_WALK_DEPTH = 8
MAX_FILES = 500

#: Every file name the scanner reads (requirements files also match by name or content).
KNOWN_NAMES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
        "package.json", "poetry.lock", "uv.lock", "Pipfile.lock", "Pipfile", "pyproject.toml",
        "Gemfile.lock", "Gemfile", "Cargo.lock", "Cargo.toml",
    }
)  # fmt: skip
#: Folders whose ``.txt`` files are requirements when every line is one (pinned or not).
REQUIREMENTS_FOLDERS = frozenset({"requirements", "requirement", "reqs"})


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan found: the files read (in order), one row per distinct (manager,
    package, version), and one sentence per thing skipped (links leaving the folder)."""

    files: tuple[Path, ...]
    packages: tuple[ParsedPackage, ...]
    warnings: tuple[str, ...] = ()

    def count(self, manager: PackageManager) -> int:
        """How many rows ``manager`` has (a package at two versions counts twice)."""
        return sum(1 for p in self.packages if p.manager is manager)


@dataclass
class _Folder:
    """A folder's files to read: known names, and requirements files (by name or content)."""

    path: Path
    names: set[str] = field(default_factory=set)
    requirements: list[str] = field(default_factory=list)


def is_requirements_name(name: str) -> bool:
    """``requirements.txt``, ``requirements-dev.txt``, ``dev-requirements.txt``…"""
    return name.endswith(".txt") and "requirements" in name


def _manifest_rows(manager: PackageManager, constraints: dict[str, str]) -> list[ParsedPackage]:
    return [ParsedPackage(manager, n, None, c or None, True) for n, c in constraints.items()]


_Reader = Callable[[_Folder, Path], tuple[list[Path], list[ParsedPackage]]]


def _npm_folder(folder: _Folder, root: Path) -> tuple[list[Path], list[ParsedPackage]]:
    names, base = folder.names, folder.path
    package_json = base / "package.json"
    manifest = npm.read_manifest(package_json) if "package.json" in names else None
    direct = npm.manifest_constraints(manifest or {})
    for lock_name in ("npm-shrinkwrap.json", "package-lock.json"):
        if lock_name in names:
            lock = base / lock_name
            return [lock], npm.parse_package_lock(lock, manifest)
    if "pnpm-lock.yaml" in names:
        lock = base / "pnpm-lock.yaml"
        return [lock], pnpm.parse_pnpm_lock(lock)
    if "yarn.lock" in names:
        lock = base / "yarn.lock"
        return [lock], yarn.parse_yarn_lock(lock, direct)
    if manifest is not None:
        return [package_json], npm.parse_package_json(package_json)
    return [], []


def _python_folder(folder: _Folder, root: Path) -> tuple[list[Path], list[ParsedPackage]]:
    names, base = folder.names, folder.path
    files: list[Path] = []
    rows: list[ParsedPackage] = []
    pyproject = base / "pyproject.toml"
    direct = python.pyproject_constraints(pyproject) if "pyproject.toml" in names else {}
    locked = False
    for lock_name, parse in (
        ("poetry.lock", python.parse_poetry_lock),
        ("uv.lock", python.parse_uv_lock),
    ):
        if lock_name in names:
            files.append(base / lock_name)
            rows.extend(parse(base / lock_name, direct))
            locked = True
    if "Pipfile.lock" in names:
        pipfile = python.pipfile_constraints(base / "Pipfile") if "Pipfile" in names else {}
        files.append(base / "Pipfile.lock")
        rows.extend(python.parse_pipfile_lock(base / "Pipfile.lock", pipfile))
    elif "Pipfile" in names:
        files.append(base / "Pipfile")
        rows.extend(
            _manifest_rows(PackageManager.PIP, python.pipfile_constraints(base / "Pipfile"))
        )
    for name in sorted(folder.requirements):
        files.append(base / name)
        rows.extend(requirements.parse_requirements(base / name, root))
    if direct and not locked:
        files.append(pyproject)
        rows.extend(_manifest_rows(PackageManager.PIP, direct))
    return files, rows


def _gem_folder(folder: _Folder, root: Path) -> tuple[list[Path], list[ParsedPackage]]:
    names, base = folder.names, folder.path
    if "Gemfile.lock" in names:
        return [base / "Gemfile.lock"], gem.parse_gemfile_lock(base / "Gemfile.lock")
    if "Gemfile" in names:
        return [base / "Gemfile"], gem.parse_gemfile(base / "Gemfile")
    return [], []


def _cargo_folder(folder: _Folder, root: Path) -> tuple[list[Path], list[ParsedPackage]]:
    names, base = folder.names, folder.path
    manifest = cargo.cargo_toml_requirements(base / "Cargo.toml") if "Cargo.toml" in names else {}
    if "Cargo.lock" in names:
        return [base / "Cargo.lock"], cargo.parse_cargo_lock(base / "Cargo.lock", manifest)
    if manifest:
        first = {name: reqs[0] for name, reqs in manifest.items() if reqs}
        return [base / "Cargo.toml"], _manifest_rows(PackageManager.CARGO, first)
    return [], []


_FOLDER_READERS: tuple[_Reader, ...] = (_npm_folder, _python_folder, _gem_folder, _cargo_folder)


def _head(path: Path) -> tuple[str, bool] | None:
    """A regular file's first ``HEAD_BYTES`` as text and whether there is more, else None."""
    if not path.is_file():
        return None  # opening a FIFO would wait for a writer
    try:
        with path.open("rb") as handle:
            data = handle.read(HEAD_BYTES + 1)
    except OSError:
        return None
    return data[:HEAD_BYTES].decode("utf-8", errors="replace"), len(data) > HEAD_BYTES


def _is_requirements_content(path: Path, in_requirements_folder: bool) -> bool:
    head = _head(path)
    if head is None:
        return False
    text, truncated = head
    return looks_like_requirements(
        text, pinned_only=not in_requirements_folder, truncated=truncated
    )


def _reads(entry: os.DirEntry[str], folder: Path) -> bool:
    """Whether the scanner reads this regular file: a known name, a requirements name, or a
    ``.txt`` whose content is pip's (``sniff.py``; never a constraints file, which installs
    nothing)."""
    name = entry.name
    if name in KNOWN_NAMES or is_requirements_name(name):
        return True
    if not name.endswith(".txt") or "constraint" in name:
        return False
    return _is_requirements_content(Path(entry.path), folder.name.lower() in REQUIREMENTS_FOLDERS)


def walk(
    root: Path, warnings: list[str] | None = None
) -> Iterator[tuple[Path, list[os.DirEntry[str]]]]:
    """The folders under ``root`` that hold files the scanner reads, with those files.

    Breadth first, folders and files in name order, at most ``MAX_WALK_DEPTH`` levels down,
    never into ``SKIP_DIRS`` nor through a link to a folder. A link (to a file or a folder)
    that points outside ``root`` is skipped, with a sentence appended to ``warnings``. This is
    the only walk: the scanner reads what it yields and the agent fingerprints it
    (``machine/health.py``), so both always see the same files. A folder or entry that
    cannot be read is passed over.
    """
    queue: deque[tuple[Path, int]] = deque([(root, 0)])
    while queue:
        folder, depth = queue.popleft()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        found: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                if entry.is_symlink() and not inside(root, Path(entry.path)):
                    if warnings is not None and entry.name not in SKIP_DIRS:
                        warnings.append(
                            f"Skipped {visible(entry.path)}: a link to somewhere outside "
                            f"{visible(str(root))}, the folder being scanned."
                        )
                elif entry.is_dir(follow_symlinks=False):
                    if depth < MAX_WALK_DEPTH and entry.name not in SKIP_DIRS:
                        queue.append((Path(entry.path), depth + 1))
                elif entry.is_file() and _reads(entry, folder):
                    found.append(entry)
            except OSError:
                continue
        if found:
            yield folder, found


def _folders(root: Path, warnings: list[str]) -> list[_Folder]:
    """The walk's folders, each with its known files and its requirements files."""
    out: list[_Folder] = []
    count = 0
    for path, entries in walk(root, warnings):
        folder = _Folder(path)
        for entry in entries:
            if entry.name in KNOWN_NAMES:
                folder.names.add(entry.name)
            else:
                folder.requirements.append(entry.name)
        out.append(folder)
        count += len(entries)
        if count > MAX_FILES:
            raise LockfileError(root, None, f"more than {MAX_FILES} lockfiles and manifests")
    return out


def _named_file(path: Path) -> _Folder:
    """The one file named on the command line, by its name or else by its content."""
    folder = _Folder(path.parent)
    if not inside(path.parent, path):
        raise LockfileError(
            path, None, "a link to a file outside its folder; name the file it points to"
        )
    if path.name in KNOWN_NAMES:
        folder.names.add(path.name)
        return folder
    if is_requirements_name(path.name):
        folder.requirements.append(path.name)
        return folder
    head = _head(path)
    if head is None:
        read_text(path)  # says why it cannot be read (permissions…)
        raise LockfileError(path, None, "cannot read the file")
    found = sniff_format(head[0], truncated=head[1], loose=path.suffix in (".txt", ".in"))
    if found is None:
        raise LockfileError(path, None, "not a lockfile or manifest DevSync recognises")
    if found is Format.REQUIREMENTS:
        folder.requirements.append(path.name)
    else:
        folder.names.add(found.value)
    return folder


def _read_named(folder: _Folder, path: Path) -> tuple[list[Path], list[ParsedPackage]]:
    """Read a named file recognised by content (its real name is not the format's)."""
    kind = next(iter(folder.names))
    parsers: dict[str, Callable[[Path], list[ParsedPackage]]] = {
        Format.PACKAGE_LOCK: npm.parse_package_lock,
        Format.PACKAGE_JSON: npm.parse_package_json,
        Format.YARN_LOCK: yarn.parse_yarn_lock,
        Format.PNPM_LOCK: pnpm.parse_pnpm_lock,
        Format.POETRY_LOCK: python.parse_poetry_lock,
        Format.UV_LOCK: python.parse_uv_lock,
        Format.PIPFILE_LOCK: python.parse_pipfile_lock,
        Format.GEMFILE_LOCK: gem.parse_gemfile_lock,
        Format.CARGO_LOCK: cargo.parse_cargo_lock,
    }
    return [path], parsers[kind](path)


def scan_path(path: Path) -> ScanResult:
    """Read every lockfile and manifest under ``path`` (a folder, or one file)."""
    warnings: list[str] = []
    named = path.is_file()
    if named:
        root = path.parent
        folders = [_named_file(path)]
    elif path.is_dir():
        root = path
        folders = _folders(path, warnings)
    elif path.exists() or path.is_symlink():
        raise LockfileError(path, None, "not a regular file")
    else:
        raise LockfileError(path, None, "no such file or folder")
    files: list[Path] = []
    rows: list[ParsedPackage] = []
    for folder in folders:
        if named and folder.names and path.name not in folder.names:  # recognised by content
            found, parsed = _read_named(folder, path)
            files.extend(found)
            rows.extend(parsed)
            continue
        for reader in _FOLDER_READERS:
            found, parsed = reader(folder, root)
            files.extend(found)
            rows.extend(parsed)
    return ScanResult(tuple(files), tuple(merge_versions(rows)), tuple(warnings))
