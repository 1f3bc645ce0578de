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
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare

CARGO = PackageManager.CARGO
_SECTIONS = ("dependencies", "dev-dependencies", "build-dependencies")


def _collect(table: Any, workspace: dict[str, str], out: dict[str, str]) -> None:
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
                constraint = workspace.get(name)
            elif constraint is None and ("path" in value or "git" in value):
                continue  # local or git crates have no registry version to compare
        out.setdefault(name, constraint or "")


def cargo_toml_constraints(path: Path) -> dict[str, str]:
    """Crate name → requirement over a Cargo.toml's dependency tables (including
    ``[target.*.*]`` and ``[workspace.dependencies]``)."""
    data = load_toml(path, read_text(path))
    workspace: dict[str, str] = {}
    ws = data.get("workspace")
    if isinstance(ws, dict):
        _collect(ws.get("dependencies"), {}, workspace)
    out: dict[str, str] = {}
    for section in _SECTIONS:
        _collect(data.get(section), workspace, out)
    targets = data.get("target")
    if isinstance(targets, dict):
        for target in targets.values():
            for section in _SECTIONS:
                _collect(target.get(section) if isinstance(target, dict) else None, workspace, out)
    for name, constraint in workspace.items():
        out.setdefault(name, constraint)
    return out


def parse_cargo_lock(path: Path, manifest: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every crate of a Cargo.lock; ``manifest``: the Cargo.toml's name → requirement."""
    text = read_text(path)
    data = load_toml(path, text)
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise LockfileError(path, line_of(text, "[[package]]"), "[[package]] should be tables")
    versions: dict[str, list[str]] = {}
    direct_versions: dict[str, str | None] = {}
    for entry in packages:
        name, version = text_field(entry, "name"), text_field(entry, "version")
        if name is None or version is None:
            raise LockfileError(
                path, line_of(text, "[[package]]"), "a [[package]] lacks name or version"
            )
        if entry.get("source") is not None:
            versions.setdefault(name, []).append(version)
            continue
        for dep in entry.get("dependencies") or []:
            if isinstance(dep, str):
                dep_name, _, dep_version = dep.partition(" ")
                direct_versions.setdefault(dep_name, dep_version.split(" ")[0] or None)
    constraints = manifest or {}
    out: list[ParsedPackage] = []
    for name, candidates in versions.items():
        best = direct_versions.get(name)
        if best is None or best not in candidates:
            best = candidates[0]
            for version in candidates[1:]:
                if compare(CARGO, version, best) > 0:
                    best = version
        is_direct = name in direct_versions or name in constraints
        out.append(ParsedPackage(CARGO, name, best, constraints.get(name) or None, is_direct))
    return out
