"""Find the lockfiles and manifests under a path and read them into one package list.

In each folder a lockfile is read together with the manifest beside it (which makes packages
direct and gives their constraints); a manifest without a lockfile contributes its direct
packages with no resolved version. Folders of installed or built code (node_modules, .venv,
target, ...) are not searched. Folders nearer the top win when two name the same package.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devsync_tui.core.lockfiles import cargo, gem, npm, pnpm, python, requirements, yarn
from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage, dedupe
from devsync_tui.core.models import PackageManager

SKIP_DIRS = frozenset(
    {
        "node_modules", ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "target",
        "vendor", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        "site-packages", ".yarn", ".pnpm-store", "bower_components",
    }
)  # fmt: skip
MAX_WALK_DEPTH = 8
MAX_FILES = 500

#: Every file name the scanner reads (requirements files also match by pattern).
KNOWN_NAMES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
        "package.json", "poetry.lock", "uv.lock", "Pipfile.lock", "Pipfile", "pyproject.toml",
        "Gemfile.lock", "Gemfile", "Cargo.lock", "Cargo.toml",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan found: the files read (in order) and one row per (manager, name)."""

    files: tuple[Path, ...]
    packages: tuple[ParsedPackage, ...]

    def count(self, manager: PackageManager) -> int:
        return sum(1 for p in self.packages if p.manager is manager)


def _is_requirements(name: str) -> bool:
    return name.endswith(".txt") and "requirements" in name


def _manifest_rows(manager: PackageManager, constraints: dict[str, str]) -> list[ParsedPackage]:
    return [ParsedPackage(manager, n, None, c or None, True) for n, c in constraints.items()]


def _npm_folder(folder: Path, names: set[str]) -> tuple[list[Path], list[ParsedPackage]]:
    package_json = folder / "package.json"
    manifest = npm.read_manifest(package_json) if "package.json" in names else None
    direct = npm.manifest_constraints(manifest or {})
    for lock_name in ("npm-shrinkwrap.json", "package-lock.json"):
        if lock_name in names:
            lock = folder / lock_name
            return [lock], npm.parse_package_lock(lock, manifest)
    if "pnpm-lock.yaml" in names:
        lock = folder / "pnpm-lock.yaml"
        return [lock], pnpm.parse_pnpm_lock(lock)
    if "yarn.lock" in names:
        lock = folder / "yarn.lock"
        return [lock], yarn.parse_yarn_lock(lock, direct)
    if manifest is not None:
        return [package_json], npm.parse_package_json(package_json)
    return [], []


def _python_folder(folder: Path, names: set[str]) -> tuple[list[Path], list[ParsedPackage]]:
    files: list[Path] = []
    rows: list[ParsedPackage] = []
    pyproject = folder / "pyproject.toml"
    direct = python.pyproject_constraints(pyproject) if "pyproject.toml" in names else {}
    locked = False
    for lock_name, parse in (
        ("poetry.lock", python.parse_poetry_lock),
        ("uv.lock", python.parse_uv_lock),
    ):
        if lock_name in names:
            files.append(folder / lock_name)
            rows.extend(parse(folder / lock_name, direct))
            locked = True
    if "Pipfile.lock" in names:
        pipfile = python.pipfile_constraints(folder / "Pipfile") if "Pipfile" in names else {}
        files.append(folder / "Pipfile.lock")
        rows.extend(python.parse_pipfile_lock(folder / "Pipfile.lock", pipfile))
    elif "Pipfile" in names:
        files.append(folder / "Pipfile")
        rows.extend(
            _manifest_rows(PackageManager.PIP, python.pipfile_constraints(folder / "Pipfile"))
        )
    for name in sorted(n for n in names if _is_requirements(n)):
        files.append(folder / name)
        rows.extend(requirements.parse_requirements(folder / name))
    if direct and not locked:
        files.append(pyproject)
        rows.extend(_manifest_rows(PackageManager.PIP, direct))
    return files, rows


def _gem_folder(folder: Path, names: set[str]) -> tuple[list[Path], list[ParsedPackage]]:
    if "Gemfile.lock" in names:
        return [folder / "Gemfile.lock"], gem.parse_gemfile_lock(folder / "Gemfile.lock")
    if "Gemfile" in names:
        return [folder / "Gemfile"], gem.parse_gemfile(folder / "Gemfile")
    return [], []


def _cargo_folder(folder: Path, names: set[str]) -> tuple[list[Path], list[ParsedPackage]]:
    manifest = cargo.cargo_toml_constraints(folder / "Cargo.toml") if "Cargo.toml" in names else {}
    if "Cargo.lock" in names:
        return [folder / "Cargo.lock"], cargo.parse_cargo_lock(folder / "Cargo.lock", manifest)
    if manifest:
        return [folder / "Cargo.toml"], _manifest_rows(PackageManager.CARGO, manifest)
    return [], []


_FOLDER_READERS: tuple[Callable[[Path, set[str]], tuple[list[Path], list[ParsedPackage]]], ...] = (
    _npm_folder,
    _python_folder,
    _gem_folder,
    _cargo_folder,
)


def is_known(name: str) -> bool:
    """Whether the scanner reads a file of this name (a lockfile or manifest)."""
    return name in KNOWN_NAMES or _is_requirements(name)


def walk(root: Path) -> Iterator[tuple[Path, list[os.DirEntry[str]]]]:
    """The folders under ``root`` that hold files the scanner reads, with those files.

    Breadth first, folders and files in name order, at most ``MAX_WALK_DEPTH`` levels down,
    never into ``SKIP_DIRS`` nor through a symbolic link to a folder. This is the only walk:
    the scanner reads what it yields and the agent fingerprints it (``machine/health.py``),
    so both always see the same files. A folder or entry that cannot be read is passed over.
    """
    queue: deque[tuple[Path, int]] = deque([(root, 0)])
    while queue:
        folder, depth = queue.popleft()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        known: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                if entry.is_file() and is_known(entry.name):
                    known.append(entry)
                elif (
                    depth < MAX_WALK_DEPTH
                    and entry.is_dir(follow_symlinks=False)
                    and entry.name not in SKIP_DIRS
                ):
                    queue.append((Path(entry.path), depth + 1))
            except OSError:
                continue
        if known:
            yield folder, known


def _folders(root: Path) -> list[tuple[Path, set[str]]]:
    """Folders under root (breadth first, sorted) with the names of the files we read."""
    out: list[tuple[Path, set[str]]] = []
    files = 0
    for folder, entries in walk(root):
        out.append((folder, {e.name for e in entries}))
        files += len(entries)
        if files > MAX_FILES:
            raise LockfileError(root, None, f"more than {MAX_FILES} lockfiles and manifests")
    return out


def scan_path(path: Path) -> ScanResult:
    """Read every lockfile and manifest under ``path`` (a folder, or one file)."""
    if path.is_file():
        folder, names = path.parent, {path.name}
        folders = [(folder, names)]
        if not is_known(path.name):
            raise LockfileError(path, None, "not a lockfile or manifest DevSync knows")
    elif path.is_dir():
        folders = _folders(path)
    elif path.exists():
        raise LockfileError(path, None, "not a regular file")
    else:
        raise LockfileError(path, None, "no such file or folder")
    files: list[Path] = []
    rows: list[ParsedPackage] = []
    for folder, names in folders:
        for reader in _FOLDER_READERS:
            found, parsed = reader(folder, names)
            files.extend(found)
            rows.extend(parsed)
    return ScanResult(tuple(files), tuple(dedupe(rows)))
