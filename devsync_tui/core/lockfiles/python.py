"""Python lockfiles (poetry.lock, uv.lock, Pipfile.lock) and manifests (pyproject.toml's
``[project]``, ``[dependency-groups]`` and ``[tool.poetry]``; Pipfile).

Names are compared in PEP 503 normal form (``Foo_Bar`` = ``foo-bar``). Lockfiles do not say
what the project asks for itself, so their rows are direct when the manifest beside them (or,
for uv, the project's own entry) names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from devsync_tui.core.lockfiles.base import (
    LockfileError,
    ParsedPackage,
    line_of,
    load_json,
    load_toml,
    read_text,
    text_field,
)
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare

PIP = PackageManager.PIP


def _pep508(path: Path, text: str, spec: Any, out: dict[str, str]) -> None:
    if not isinstance(spec, str):
        return  # {include-group = ...} and other tables name no package
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise LockfileError(
            path, line_of(text, spec), f"invalid requirement {spec!r}: {exc}"
        ) from exc
    out.setdefault(canonicalize_name(requirement.name), str(requirement.specifier))


def _poetry_table(deps: Any, out: dict[str, str]) -> None:
    if not isinstance(deps, dict):
        return
    for name, value in deps.items():
        if name.lower() == "python":
            continue
        if isinstance(value, list):  # multiple-constraint dependencies: the first applies
            value = value[0] if value else None
        constraint = value if isinstance(value, str) else None
        if isinstance(value, dict):
            constraint = text_field(value, "version")
        out.setdefault(canonicalize_name(name), constraint or "")


def pyproject_constraints(path: Path) -> dict[str, str]:
    """Normalized name → constraint ('' = any) over every dependency list of a pyproject."""
    text = read_text(path)
    data = load_toml(path, text)
    out: dict[str, str] = {}
    project = data.get("project")
    if isinstance(project, dict):
        for spec in project.get("dependencies") or []:
            _pep508(path, text, spec, out)
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for specs in optional.values():
                for spec in specs if isinstance(specs, list) else []:
                    _pep508(path, text, spec, out)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for specs in groups.values():
            for spec in specs if isinstance(specs, list) else []:
                _pep508(path, text, spec, out)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        _poetry_table(poetry.get("dependencies"), out)
        _poetry_table(poetry.get("dev-dependencies"), out)
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, dict):
            for group in poetry_groups.values():
                if isinstance(group, dict):
                    _poetry_table(group.get("dependencies"), out)
    return out


def pipfile_constraints(path: Path) -> dict[str, str]:
    """Normalized name → constraint from a Pipfile's [packages] and [dev-packages]."""
    data = load_toml(path, read_text(path))
    out: dict[str, str] = {}
    for section in ("packages", "dev-packages"):
        _poetry_table(data.get(section), out)
    return {name: ("" if c == "*" else c) for name, c in out.items()}


def _rows(versions: dict[str, list[str]], direct: dict[str, str]) -> list[ParsedPackage]:
    out: list[ParsedPackage] = []
    for name, candidates in versions.items():
        best = candidates[0]
        for version in candidates[1:]:
            if compare(PIP, version, best) > 0:
                best = version
        constraint = direct.get(name)
        out.append(ParsedPackage(PIP, name, best, constraint or None, name in direct))
    for name, constraint in direct.items():
        if name not in versions:
            out.append(ParsedPackage(PIP, name, None, constraint or None, True))
    return out


def _toml_packages(path: Path, text: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise LockfileError(path, line_of(text, "[[package]]"), "[[package]] should be tables")
    for entry in packages:
        if not isinstance(entry.get("name"), str):
            raise LockfileError(path, line_of(text, "[[package]]"), "a [[package]] has no name")
    return packages


def parse_poetry_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a poetry.lock; ``direct``: the pyproject's name → constraint."""
    text = read_text(path)
    versions: dict[str, list[str]] = {}
    for entry in _toml_packages(path, text, load_toml(path, text)):
        version = text_field(entry, "version")
        if version is not None:
            versions.setdefault(canonicalize_name(entry["name"]), []).append(version)
    return _rows(versions, direct or {})


def parse_uv_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a uv.lock. The workspace's own packages (editable/virtual sources) are
    left out; what they depend on is direct, with the specifier of their requires-dist."""
    text = read_text(path)
    wanted = dict(direct or {})
    versions: dict[str, list[str]] = {}
    for entry in _toml_packages(path, text, load_toml(path, text)):
        source = entry.get("source")
        if isinstance(source, dict) and ("editable" in source or "virtual" in source):
            metadata = entry.get("metadata")
            requires = metadata.get("requires-dist") if isinstance(metadata, dict) else None
            for dep in requires if isinstance(requires, list) else []:
                if isinstance(dep, dict) and isinstance(dep.get("name"), str):
                    spec = dep.get("specifier")
                    key = canonicalize_name(dep["name"])
                    wanted.setdefault(key, spec if isinstance(spec, str) else "")
            continue
        version = text_field(entry, "version")
        if version is not None:
            versions.setdefault(canonicalize_name(entry["name"]), []).append(version)
    return _rows(versions, wanted)


def parse_pipfile_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a Pipfile.lock (default and develop); ``direct`` from the Pipfile."""
    text = read_text(path)
    data = load_json(path, text)
    if not isinstance(data, dict):
        raise LockfileError(path, 1, "Pipfile.lock should be a JSON object")
    versions: dict[str, list[str]] = {}
    for section in ("default", "develop"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise LockfileError(
                path, line_of(text, f'"{section}"'), f"{section} should be an object"
            )
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise LockfileError(
                    path, line_of(text, f'"{name}"'), f"entry {name!r} should be an object"
                )
            pin = text_field(entry, "version")
            if pin is not None:
                versions.setdefault(canonicalize_name(name), []).append(pin.lstrip("="))
    return _rows(versions, direct or {})
