"""Find the lockfiles and manifests under a path and read them into one package list.

In each folder a lockfile is read together with the manifest beside it (which makes packages
direct and gives their constraints); a manifest without a lockfile contributes its direct
packages with no resolved version. Folders of installed or built code (node_modules, .venv,
target, ...) are not searched. Folders nearer the top win when two name the same package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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


def _folders(root: Path) -> list[tuple[Path, set[str]]]:
    """Folders under root (breadth first, sorted) with the names of the files we read."""
    out: list[tuple[Path, set[str]]] = []
    queue: list[tuple[Path, int]] = [(root, 0)]
    while queue:
        folder, depth = queue.pop(0)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        names = {
            e.name
            for e in entries
            if e.is_file() and (e.name in KNOWN_NAMES or _is_requirements(e.name))
        }
        if names:
            out.append((folder, names))
        if depth < MAX_WALK_DEPTH:
            queue.extend(
                (Path(e.path), depth + 1)
                for e in entries
                if e.is_dir(follow_symlinks=False) and e.name not in SKIP_DIRS
            )
        if sum(len(n) for _f, n in out) > MAX_FILES:
            raise LockfileError(root, None, f"more than {MAX_FILES} lockfiles and manifests")
    return out


def scan_path(path: Path) -> ScanResult:
    """Read every lockfile and manifest under ``path`` (a folder, or one file)."""
    if path.is_file():
        folder, names = path.parent, {path.name}
        folders = [(folder, names)]
        if path.name not in KNOWN_NAMES and not _is_requirements(path.name):
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
