"""npm: package-lock.json / npm-shrinkwrap.json (lockfileVersion 1, 2, 3) and package.json.

v2/v3 list every installed folder under ``packages`` (``node_modules/a/node_modules/b``);
the root entry ``""`` repeats the manifest's dependency sections, which makes those packages
direct. v1 nests ``dependencies`` inside ``dependencies``. A package installed at several
places keeps the version at the top of ``node_modules`` (the one the project itself gets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devsync_tui.core.lockfiles.base import (
    MAX_DEPTH,
    LockfileError,
    ParsedPackage,
    expect_dict,
    line_of,
    load_json,
    read_text,
    text_field,
)
from devsync_tui.core.models import PackageManager

NPM = PackageManager.NPM
_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_NM = "node_modules/"


def manifest_constraints(manifest: dict[str, Any]) -> dict[str, str]:
    """Name → constraint over a package.json's dependency sections (the first section that
    names a package wins: dependencies before dev, optional, peer)."""
    out: dict[str, str] = {}
    for section in _SECTIONS:
        entries = manifest.get(section)
        if not isinstance(entries, dict):
            continue
        for name, constraint in entries.items():
            if isinstance(name, str) and isinstance(constraint, str):
                out.setdefault(name, constraint)
    return out


def parse_package_json(path: Path) -> list[ParsedPackage]:
    """The direct dependencies a package.json asks for (no resolved versions)."""
    text = read_text(path)
    manifest = expect_dict(load_json(path, text), path, text, "package.json")
    for section in _SECTIONS:
        if section in manifest and not isinstance(manifest[section], dict):
            raise LockfileError(
                path, line_of(text, f'"{section}"'), f"{section} should be an object"
            )
    return [
        ParsedPackage(NPM, name, None, constraint, True)
        for name, constraint in manifest_constraints(manifest).items()
    ]


def _v2_packages(
    path: Path, text: str, packages: dict[str, Any], direct: dict[str, str]
) -> list[ParsedPackage]:
    # Shallowest install path first: "node_modules/x" beats "node_modules/y/node_modules/x".
    best: dict[str, tuple[int, str]] = {}
    for key, entry in packages.items():
        if not key or not isinstance(key, str):
            continue
        if not isinstance(entry, dict):
            raise LockfileError(
                path, line_of(text, f'"{key}"'), f"entry {key!r} should be an object"
            )
        if entry.get("link") is True or _NM not in key:
            continue  # workspace folders and links to them are the project's own code
        name = key[key.rindex(_NM) + len(_NM) :]
        version = text_field(entry, "version")
        if not name or version is None:
            continue
        depth = key.count(_NM)
        if name not in best or depth < best[name][0]:
            best[name] = (depth, version)
    return [
        ParsedPackage(NPM, name, version, direct.get(name), name in direct)
        for name, (_depth, version) in best.items()
    ]


def _v1_packages(
    path: Path, text: str, dependencies: dict[str, Any], direct: dict[str, str]
) -> list[ParsedPackage]:
    best: dict[str, tuple[int, str]] = {}
    stack: list[tuple[dict[str, Any], int]] = [(dependencies, 1)]
    while stack:
        level, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise LockfileError(path, None, f"dependencies nested deeper than {MAX_DEPTH} levels")
        for name, entry in level.items():
            if not isinstance(entry, dict):
                raise LockfileError(
                    path, line_of(text, f'"{name}"'), f"entry {name!r} should be an object"
                )
            version = text_field(entry, "version")
            if version is not None and (name not in best or depth < best[name][0]):
                best[name] = (depth, version)
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                stack.append((nested, depth + 1))
    return [
        ParsedPackage(NPM, name, version, direct.get(name), name in direct)
        for name, (_depth, version) in best.items()
    ]


def parse_package_lock(path: Path, manifest: dict[str, Any] | None = None) -> list[ParsedPackage]:
    """Every package of a package-lock.json or npm-shrinkwrap.json, one row per name.

    ``manifest`` (the package.json beside it, if any) decides which packages are direct for
    v1 files, which do not record it themselves."""
    text = read_text(path)
    lock = expect_dict(load_json(path, text), path, text, "the lockfile")
    version = lock.get("lockfileVersion", 1)
    if version not in (1, 2, 3):
        raise LockfileError(
            path, line_of(text, '"lockfileVersion"'), f"unsupported lockfileVersion {version!r}"
        )
    packages = lock.get("packages")
    if version >= 2 and isinstance(packages, dict):
        root = packages.get("", {})
        direct = manifest_constraints(root if isinstance(root, dict) else {})
        if not direct and manifest:
            direct = manifest_constraints(manifest)
        return _v2_packages(path, text, packages, direct)
    if version >= 2 and packages is not None:
        raise LockfileError(path, line_of(text, '"packages"'), "packages should be an object")
    dependencies = lock.get("dependencies", {})
    if not isinstance(dependencies, dict):
        raise LockfileError(
            path, line_of(text, '"dependencies"'), "dependencies should be an object"
        )
    direct = manifest_constraints(manifest or {})
    return _v1_packages(path, text, dependencies, direct)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The package.json beside a lockfile, if there is a readable one."""
    if not path.is_file():
        return None
    text = read_text(path)
    data = load_json(path, text)
    return data if isinstance(data, dict) else None
