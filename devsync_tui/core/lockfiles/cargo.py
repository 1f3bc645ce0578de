"""Cargo: Cargo.lock and Cargo.toml.

In Cargo.lock the workspace's own crates are the ``[[package]]`` entries without a
``source``; what they depend on is direct (``"serde"`` or ``"serde 1.0.193"`` when several
versions are locked, which also says which one the project uses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devsync_tui.core.lockfiles.base import (
    LockfileError,
    ParsedPackage,
    line_of,
    load_toml,
    read_text,
    text_field,
)
from devsync_tui.core.models import PackageKind, PackageManager
from devsync_tui.core.names import crate_key
from devsync_tui.core.versions import satisfies

CARGO = PackageManager.CARGO
_SECTIONS = ("dependencies", "dev-dependencies", "build-dependencies")


def _collect(table: Any, workspace: dict[str, list[str]], out: dict[str, list[str]]) -> None:
    if not isinstance(table, dict):
        return
    for key, value in table.items():
        name, constraint = key, None
        if isinstance(value, str):
            constraint = value
        elif isinstance(value, dict):
            name = text_field(value, "package") or key
            constraint = text_field(value, "version")
            if value.get("workspace") is True:
                constraint = (workspace.get(name) or [""])[0]
            elif constraint is None and ("path" in value or "git" in value):
                continue  # local or git crates have no registry version to compare
        requirements = out.setdefault(name, [])
        if (constraint or "") not in requirements:
            requirements.append(constraint or "")


def cargo_toml_requirements(path: Path) -> dict[str, list[str]]:
    """Crate name → every requirement a Cargo.toml states for it (a crate may be asked for
    at two majors, one of them renamed), over its dependency tables (including
    ``[target.*.*]`` and ``[workspace.dependencies]``)."""
    data = load_toml(path, read_text(path))
    workspace: dict[str, list[str]] = {}
    ws = data.get("workspace")
    if isinstance(ws, dict):
        _collect(ws.get("dependencies"), {}, workspace)
    out: dict[str, list[str]] = {}
    for section in _SECTIONS:
        _collect(data.get(section), workspace, out)
    targets = data.get("target")
    if isinstance(targets, dict):
        for target in targets.values():
            for section in _SECTIONS:
                _collect(target.get(section) if isinstance(target, dict) else None, workspace, out)
    for name, requirements in workspace.items():
        out.setdefault(name, requirements)
    return out


def _requirement_for(version: str, requirements: list[str]) -> str | None:
    """The requirement ``version`` was locked for: the first it satisfies, else the first."""
    for requirement in requirements:
        if requirement and satisfies(CARGO, version, requirement) is True:
            return requirement
    return requirements[0] if requirements else None


def _source_kind(source: Any) -> PackageKind:
    if source is None:
        return PackageKind.WORKSPACE  # no source: a crate of this workspace (or a path crate)
    text = str(source)
    if text.startswith("git+"):
        return PackageKind.GIT
    if text.startswith(("registry+", "sparse+")):
        return PackageKind.REGISTRY
    return PackageKind.PATH


def parse_cargo_lock(
    path: Path, manifest: dict[str, list[str]] | None = None
) -> list[ParsedPackage]:
    """Every crate of a Cargo.lock, one row per (name, version) — two majors of one crate are
    two rows; ``manifest``: the Cargo.toml's name → requirements. The workspace's own crates
    (no ``source``) are rows of kind workspace; what they depend on is direct (``"serde"``,
    or ``"serde 1.0.193"`` when several versions are locked, which says which one)."""
    text = read_text(path)
    data = load_toml(path, text)
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise LockfileError(path, line_of(text, "[[package]]"), "[[package]] should be tables")
    found: list[tuple[str, str, PackageKind]] = []
    direct_versions: dict[str, set[str | None]] = {}
    for entry in packages:
        name, version = text_field(entry, "name"), text_field(entry, "version")
        if name is None or version is None:
            raise LockfileError(
                path, line_of(text, "[[package]]"), "a [[package]] lacks name or version"
            )
        kind = _source_kind(entry.get("source"))
        found.append((name, version, kind))
        if kind is not PackageKind.WORKSPACE:
            continue
        for dep in entry.get("dependencies") or []:
            if isinstance(dep, str):
                dep_name, _, dep_version = dep.partition(" ")
                direct_versions.setdefault(crate_key(dep_name), set()).add(
                    dep_version.split(" ")[0] or None
                )
    constraints = {crate_key(n): c for n, c in (manifest or {}).items()}
    out: list[ParsedPackage] = []
    for name, version, kind in found:
        key = crate_key(name)
        wanted = direct_versions.get(key, set())
        is_direct = kind is not PackageKind.WORKSPACE and (
            version in wanted or None in wanted or (not wanted and key in constraints)
        )
        constraint = _requirement_for(version, constraints.get(key, [])) if is_direct else None
        out.append(ParsedPackage(CARGO, name, version, constraint or None, is_direct, kind))
    return out
