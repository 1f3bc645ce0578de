"""Python lockfiles (poetry.lock, uv.lock, Pipfile.lock) and manifests (pyproject.toml's
``[project]``, ``[dependency-groups]`` and ``[tool.poetry]``; Pipfile).

Names are compared in PEP 503 normal form (``Foo_Bar`` = ``foo-bar``). Lockfiles do not say
what the project asks for itself, so their rows are direct when the manifest beside them (or,
for uv, the project's own entry) names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
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
from devsync_tui.core.models import PackageKind, PackageManager

PIP = PackageManager.PIP


def _pep508(path: Path, text: str, spec: Any, out: dict[str, str]) -> None:
    if not isinstance(spec, str):
        return  # {include-group = ...} and other tables name no package
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise LockfileError(
            path, line_of(text, spec), "invalid requirement (PEP 508) in a dependency list"
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


def _rows(
    found: list[tuple[str, str | None, PackageKind, str | None]], direct: dict[str, str]
) -> list[ParsedPackage]:
    """Rows for (name, version, kind, marker) tuples: every distinct version is a row; a
    manifest requirement marks the package direct (each of its versions: a lockfile does not
    say which one the project asks for when markers split it)."""
    out: list[ParsedPackage] = []
    for name, version, kind, marker in found:
        constraint = direct.get(name)
        out.append(
            ParsedPackage(
                PIP, name, version, constraint or None, name in direct, kind, marker=marker
            )
        )
    locked = {name for name, _v, _k, _m in found}
    for name, constraint in direct.items():
        if name not in locked:
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


_POETRY_KINDS = {
    "git": PackageKind.GIT,
    "directory": PackageKind.PATH,
    "file": PackageKind.PATH,
    "url": PackageKind.URL,
}


def parse_poetry_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a poetry.lock, one row per (name, version); ``direct``: the
    pyproject's name → constraint. Git, directory, file and URL sources are rows of their
    kind (a directory installed with ``develop = true`` is editable)."""
    text = read_text(path)
    found: list[tuple[str, str | None, PackageKind, str | None]] = []
    for entry in _toml_packages(path, text, load_toml(path, text)):
        source = entry.get("source")
        kind = PackageKind.REGISTRY
        if isinstance(source, dict):
            kind = _POETRY_KINDS.get(str(source.get("type")), PackageKind.REGISTRY)
            if kind is PackageKind.PATH and entry.get("develop") is True:
                kind = PackageKind.EDITABLE
        found.append((canonicalize_name(entry["name"]), text_field(entry, "version"), kind, None))
    return _rows(found, direct or {})


def _uv_kind(source: Any) -> PackageKind:
    if not isinstance(source, dict):
        return PackageKind.REGISTRY
    if "editable" in source:
        return PackageKind.EDITABLE
    if "virtual" in source:
        return PackageKind.WORKSPACE
    if "directory" in source or "path" in source:
        return PackageKind.PATH
    if "git" in source:
        return PackageKind.GIT
    if "url" in source:
        return PackageKind.URL
    return PackageKind.REGISTRY


def normal_marker(text: str | None) -> str | None:
    """A PEP 508 marker as ``packaging`` writes it (double quotes, single spaces), so that
    the same marker from two files compares equal; kept as given if it does not parse."""
    if not text:
        return None
    try:
        return str(Marker(text))
    except InvalidMarker:
        return text


def _uv_marker(entry: dict[str, Any]) -> str | None:
    markers = entry.get("resolution-markers")
    if not isinstance(markers, list):
        return None
    texts = [normal_marker(m) or "" for m in markers if isinstance(m, str) and m]
    if len(texts) == 1:
        return texts[0]
    return " or ".join(f"({m})" for m in texts) or None


def parse_uv_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a uv.lock, one row per (name, version), with the resolution markers
    of forked versions. The workspace's own packages (editable/virtual sources) are rows of
    their kind; what they depend on is direct, with the specifier of their requires-dist."""
    text = read_text(path)
    wanted = dict(direct or {})
    found: list[tuple[str, str | None, PackageKind, str | None]] = []
    for entry in _toml_packages(path, text, load_toml(path, text)):
        kind = _uv_kind(entry.get("source"))
        if kind is PackageKind.EDITABLE or kind is PackageKind.WORKSPACE:
            metadata = entry.get("metadata")
            requires = metadata.get("requires-dist") if isinstance(metadata, dict) else None
            for dep in requires if isinstance(requires, list) else []:
                if isinstance(dep, dict) and isinstance(dep.get("name"), str):
                    spec = dep.get("specifier")
                    key = canonicalize_name(dep["name"])
                    wanted.setdefault(key, spec if isinstance(spec, str) else "")
        name = canonicalize_name(entry["name"])
        found.append((name, text_field(entry, "version"), kind, _uv_marker(entry)))
    return _rows(found, wanted)


def _pipfile_kind(entry: dict[str, Any]) -> PackageKind:
    if entry.get("editable") is True:
        return PackageKind.EDITABLE
    if any(vcs in entry for vcs in ("git", "hg", "svn", "bzr")):
        return PackageKind.GIT
    if "path" in entry:
        return PackageKind.PATH
    if "file" in entry:
        return PackageKind.URL
    return PackageKind.REGISTRY


def parse_pipfile_lock(path: Path, direct: dict[str, str] | None = None) -> list[ParsedPackage]:
    """Every package of a Pipfile.lock (default and develop, one row per (name, version),
    with its markers); ``direct`` from the Pipfile."""
    text = read_text(path)
    data = load_json(path, text)
    if not isinstance(data, dict):
        raise LockfileError(path, 1, "Pipfile.lock should be a JSON object")
    found: list[tuple[str, str | None, PackageKind, str | None]] = []
    for section in ("default", "develop"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise LockfileError(
                path, line_of(text, f'"{section}"'), f"{section} should be an object"
            )
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise LockfileError(
                    path, line_of(text, f'"{name}"'), "a package entry should be an object"
                )
            pin = text_field(entry, "version")
            version = pin.lstrip("=") if pin is not None else None
            kind = _pipfile_kind(entry)
            if version is None and kind is PackageKind.REGISTRY:
                continue  # names no version and no other source: nothing installed
            marker = normal_marker(text_field(entry, "markers"))
            found.append((canonicalize_name(name), version, kind, marker))
    return _rows(found, direct or {})
