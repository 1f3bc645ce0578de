"""npm: package-lock.json / npm-shrinkwrap.json (lockfileVersion 1, 2, 3) and package.json.

Every installed copy counts: v2/v3 list each installed folder under ``packages``
(``node_modules/a/node_modules/b`` is a nested copy of ``b``), v1 nests ``dependencies``
inside ``dependencies``. One row per distinct (package, version). A copy installed under an
alias (``"foo": "npm:bar@1"``, a ``node_modules/foo`` entry whose ``name`` is ``bar``) is
recorded under the real package. Workspace folders, links, local files, git checkouts and
tarballs from elsewhere are rows of their kind (``PackageKind``).
"""

from __future__ import annotations

from fnmatch import fnmatch
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
from devsync_tui.core.lockfiles.npm_spec import classify, resolved_kind
from devsync_tui.core.models import PackageKind, PackageManager

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


def manifest_row(name: str, spec: str, version: str | None = None) -> ParsedPackage:
    """The row for one package.json entry (``name`` is what the project installs it as)."""
    read = classify(spec)
    real = read.name or name
    constraint = read.range if read.kind is PackageKind.REGISTRY else spec
    alias = name if real != name else None
    return ParsedPackage(NPM, real, version, constraint or None, True, read.kind, alias)


def parse_package_json(path: Path) -> list[ParsedPackage]:
    """The direct dependencies a package.json asks for (no resolved versions)."""
    text = read_text(path)
    manifest = expect_dict(load_json(path, text), path, text, "package.json")
    for section in _SECTIONS:
        if section in manifest and not isinstance(manifest[section], dict):
            raise LockfileError(
                path, line_of(text, f'"{section}"'), f"{section} should be an object"
            )
    return [manifest_row(name, spec) for name, spec in manifest_constraints(manifest).items()]


def _workspace_patterns(root: dict[str, Any]) -> list[str]:
    workspaces = root.get("workspaces")
    if isinstance(workspaces, dict):  # {"packages": [...]} (Yarn's form, accepted by npm)
        workspaces = workspaces.get("packages")
    if not isinstance(workspaces, list):
        return []
    return [w.strip("./") for w in workspaces if isinstance(w, str)]


def _v2_row(
    key: str, entry: dict[str, Any], folders: dict[str, Any], wanted: dict[str, dict[str, str]]
) -> ParsedPackage | None:
    """The row of one ``packages`` entry (None for entries that name nothing)."""
    if _NM in key:
        cut = key.rindex(_NM)
        parent, installed_as = key[:cut].rstrip("/"), key[cut + len(_NM) :]
    else:  # a folder of the project itself: a workspace member (or a file: dependency)
        parent, installed_as = "", ""
    if entry.get("link") is True:
        target = text_field(entry, "resolved") or ""
        target_entry = folders.get(target)
        target_entry = target_entry if isinstance(target_entry, dict) else {}
        name = text_field(target_entry, "name") or installed_as
        version = text_field(target_entry, "version")
        kind = PackageKind.WORKSPACE if target in wanted else PackageKind.PATH
        spec = wanted.get(parent, {}).get(installed_as)
        return ParsedPackage(NPM, name, version, spec, spec is not None, kind)
    if not installed_as:
        name = text_field(entry, "name") or key.rsplit("/", 1)[-1]
        kind = PackageKind.WORKSPACE if key in wanted else PackageKind.PATH
        return ParsedPackage(NPM, name, text_field(entry, "version"), None, False, kind)
    version = text_field(entry, "version")
    if version is None:
        return None
    name = text_field(entry, "name") or installed_as
    kind = resolved_kind(text_field(entry, "resolved"), name)
    spec = wanted.get(parent, {}).get(installed_as)
    constraint = None
    if spec is not None:
        read = classify(spec)
        constraint = read.range if read.kind is PackageKind.REGISTRY else spec
        if read.kind is not PackageKind.REGISTRY and kind is PackageKind.REGISTRY:
            kind = read.kind
    alias = installed_as if name != installed_as else None
    return ParsedPackage(NPM, name, version, constraint or None, spec is not None, kind, alias)


def _v2_packages(
    path: Path, text: str, packages: dict[str, Any], manifest: dict[str, Any] | None
) -> list[ParsedPackage]:
    root = packages.get("")
    root = root if isinstance(root, dict) else {}
    patterns = _workspace_patterns(root) or _workspace_patterns(manifest or {})
    # What each project folder asks for: the root ("") and every workspace member. A copy
    # at <folder>/node_modules/<name> is that folder's direct dependency.
    wanted: dict[str, dict[str, str]] = {
        "": manifest_constraints(root) or manifest_constraints(manifest or {})
    }
    for key, entry in packages.items():
        if not isinstance(key, str):
            continue
        if not isinstance(entry, dict):
            raise LockfileError(path, line_of(text, f'"{key}"'), "an entry should be an object")
        if key and _NM not in key and any(fnmatch(key, p) for p in patterns):
            wanted[key] = manifest_constraints(entry)
    out: list[ParsedPackage] = []
    for key, entry in packages.items():
        if not key or not isinstance(key, str):
            continue
        row = _v2_row(key, entry, packages, wanted)
        if row is not None and row.name:
            out.append(row)
    return out


def _v1_row(name: str, entry: dict[str, Any], top: bool, direct: dict[str, str]) -> ParsedPackage:
    version = text_field(entry, "version") or ""
    real, kind, alias = name, PackageKind.REGISTRY, None
    if version.startswith("npm:"):  # an alias: "foo": {"version": "npm:bar@1.2.3"}
        read = classify(version)
        real, version, alias = read.name or name, read.range, name
    elif not version[:1].isdigit():
        kind = classify(version).kind
        if kind is PackageKind.REGISTRY:
            kind = resolved_kind(text_field(entry, "resolved"), real)
    else:
        kind = resolved_kind(text_field(entry, "resolved"), real)
    spec = direct.get(name) if top else None
    constraint = None
    if spec is not None:
        read = classify(spec)
        constraint = read.range if read.kind is PackageKind.REGISTRY else spec
    return ParsedPackage(
        NPM, real, version or None, constraint or None, spec is not None, kind, alias
    )


def _v1_packages(
    path: Path, text: str, dependencies: dict[str, Any], direct: dict[str, str]
) -> list[ParsedPackage]:
    out: list[ParsedPackage] = []
    stack: list[tuple[dict[str, Any], int]] = [(dependencies, 1)]
    while stack:
        level, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise LockfileError(path, None, f"dependencies nested deeper than {MAX_DEPTH} levels")
        for name, entry in level.items():
            if not isinstance(entry, dict):
                raise LockfileError(
                    path, line_of(text, f'"{name}"'), "a dependency entry should be an object"
                )
            if isinstance(entry.get("version"), str):
                out.append(_v1_row(name, entry, depth == 1, direct))
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                stack.append((nested, depth + 1))
    return out


def parse_package_lock(path: Path, manifest: dict[str, Any] | None = None) -> list[ParsedPackage]:
    """Every installed copy of every package of a package-lock.json or npm-shrinkwrap.json.

    ``manifest`` (the package.json beside it, if any) decides which packages are direct for
    v1 files, which do not record it themselves."""
    text = read_text(path)
    lock = expect_dict(load_json(path, text), path, text, "the lockfile")
    version = lock.get("lockfileVersion", 1)
    if version not in (1, 2, 3):
        raise LockfileError(
            path, line_of(text, '"lockfileVersion"'), "unsupported lockfileVersion (1, 2 or 3)"
        )
    packages = lock.get("packages")
    if version >= 2 and isinstance(packages, dict):
        return _v2_packages(path, text, packages, manifest)
    if version >= 2 and packages is not None:
        raise LockfileError(path, line_of(text, '"packages"'), "packages should be an object")
    dependencies = lock.get("dependencies", {})
    if not isinstance(dependencies, dict):
        raise LockfileError(
            path, line_of(text, '"dependencies"'), "dependencies should be an object"
        )
    return _v1_packages(path, text, dependencies, manifest_constraints(manifest or {}))


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The package.json beside a lockfile, if there is a readable one."""
    if not path.is_file():
        return None
    text = read_text(path)
    data = load_json(path, text)
    return data if isinstance(data, dict) else None
