"""pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x.

Every ``packages`` key is one locked package at one version: ``/name/1.2.3`` (v5),
``/name@1.2.3`` (v6), ``name@1.2.3`` (v9). Peer suffixes (``_react@18.2.0`` in v5,
``(react@18.2.0)`` since v6) tell installed variants of one version apart and are not part of
it. Keys that are not a registry version (git, tarball, directory) carry ``name`` and
``version`` fields and a ``resolution`` saying which kind they are. Direct dependencies come
from the importers (``importers`` in monorepos and v9, top-level sections before). pnpm 10
may write two YAML documents (its own install first, then the project's): the project's is
the last one. An importer's local package may carry a peer suffix (``file:dir(react@18.2.0)``)
and, in v9, the real package's name when installed under another (``'@acme/real@file:dir'``):
it is the ``packages`` entry's path row, named after the real package.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from devsync_tui.core.lockfiles.base import (
    LockfileError,
    ParsedPackage,
    expect_dict,
    line_of,
    load_yaml_documents,
    read_text,
    text_field,
)
from devsync_tui.core.lockfiles.npm_spec import classify, split_name
from devsync_tui.core.models import PackageKind, PackageManager

NPM = PackageManager.NPM
_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_PEER_SUFFIX_RE = re.compile(r"[(_].*$")


def _registry_key(key: str, major: int) -> tuple[str, str] | None:
    """(name, version) of a registry key, None for git/tarball/directory keys."""
    if major < 9:
        if not key.startswith("/"):
            return None  # github.com/…, file:…, registry.example.com/…: not a registry key
        key = key[1:]
    if major < 6:
        name, _, version = key.rpartition("/")
    else:
        name, version = split_name(key)
    version = _PEER_SUFFIX_RE.sub("", version)
    if not name or not version[:1].isdigit() or ":" in version or "/" in version:
        return None
    return name, version


def _resolution_kind(entry: dict[str, Any]) -> PackageKind:
    resolution = entry.get("resolution")
    if not isinstance(resolution, dict):
        return PackageKind.REGISTRY
    if resolution.get("type") == "git" or "commit" in resolution:
        return PackageKind.GIT
    if resolution.get("type") == "directory" or "directory" in resolution:
        return PackageKind.PATH
    tarball = resolution.get("tarball")
    if isinstance(tarball, str):
        return PackageKind.PATH if tarball.startswith("file:") else PackageKind.URL
    return PackageKind.REGISTRY


def _package_rows(packages: dict[str, Any], major: int) -> dict[str, ParsedPackage]:
    """Lookup key → row: ``name@version`` for registry packages (whatever the lockfile
    version), the key itself for the others."""
    rows: dict[str, ParsedPackage] = {}
    for raw_key, entry in packages.items():
        key = str(raw_key)
        entry = entry if isinstance(entry, dict) else {}
        parsed = _registry_key(key, major)
        kind = _resolution_kind(entry)
        if parsed is not None and kind is not PackageKind.PATH and kind is not PackageKind.GIT:
            name, version = parsed
            if kind is PackageKind.URL and "integrity" in (entry.get("resolution") or {}):
                kind = PackageKind.REGISTRY  # a registry other than the default one
            lookup = f"{name}@{version}"
        else:
            name = text_field(entry, "name") or (split_name(key)[0] if major >= 9 else "")
            raw_version = entry.get("version")
            version = str(raw_version) if isinstance(raw_version, str | int | float) else ""
            if kind is PackageKind.REGISTRY:
                kind = PackageKind.URL
            lookup = key
        if name:
            rows.setdefault(lookup, ParsedPackage(NPM, name, version or None, None, False, kind))
    return rows


def _without_peers(ref: str) -> str:
    """``ref`` without its trailing peer suffixes: ``file:dir(react@18.2.0)(b@1.0.0)`` is
    ``file:dir``. Groups nest (``(webpack@5.90.0(@swc/core@1.6.13))``); an unbalanced ``)``
    ends the stripping. Linear in the length of ``ref``."""
    end = len(ref)
    while end and ref[end - 1] == ")":
        depth = 0
        index = end - 1
        while index >= 0:
            if ref[index] == ")":
                depth += 1
            elif ref[index] == "(":
                depth -= 1
                if depth == 0:
                    break
            index -= 1
        if index < 0:
            break
        end = index
    return ref[:end]


def _v9_alias(name: str, ref: str) -> tuple[str, str]:
    """(real name, its ref) of a v9 importer's ``name: ref``. pnpm writes ``real@<ref>`` when
    the package is installed under another name (``bar@1.2.3(peer)``,
    ``@acme/real@file:dir``): an ``@`` that comes before any ``:`` and ``(``, or a ref opening
    with a scope. Any other ref (``1.2.3(react@18.2.0)``, ``file:dir``, a URL) is ``name``'s."""
    at = ref.find("@", 1)
    if at > 0:
        colon, paren = ref.find(":"), ref.find("(")
        if ref.startswith("@") or ((colon < 0 or at < colon) and (paren < 0 or at < paren)):
            return ref[:at], ref[at + 1 :]
    return name, ref


def _importer_target(name: str, ref: str, major: int) -> tuple[str, str, tuple[str, ...]]:
    """(real name, ref without the real name, lookup keys in ``_package_rows`` to try in
    order) of an importer's ``name: ref``. ``file:`` and tarball keys carry no peer suffix
    in v9 (its ``snapshots`` do) and carry it in v5/v6: both are tried."""
    if major >= 9:
        name, ref = _v9_alias(name, ref)
    if ref[:1].isdigit():
        return name, ref, (f"{name}@{_PEER_SUFFIX_RE.sub('', ref)}",)
    if major < 9 and ref.startswith("/"):  # v5/v6 alias: /bar/1.2.3, /bar@1.2.3(peer)
        parsed = _registry_key(ref, major)
        if parsed is not None:
            return parsed[0], ref, (f"{parsed[0]}@{parsed[1]}",)
    prefix = f"{name}@" if major >= 9 else ""
    return name, ref, (f"{prefix}{ref}", f"{prefix}{_without_peers(ref)}")


def _importer_rows(
    importers: dict[str, dict[str, Any]], rows: dict[str, ParsedPackage], major: int
) -> list[ParsedPackage]:
    """The direct rows: each importer's dependencies, marked direct with their specifier."""
    out: list[ParsedPackage] = []
    for importer_path, importer in importers.items():
        specifiers = importer.get("specifiers")
        specifiers = specifiers if isinstance(specifiers, dict) else {}
        for section in _SECTIONS:
            entries = importer.get(section)
            for name, value in (entries if isinstance(entries, dict) else {}).items():
                if isinstance(value, dict):  # v6+: {specifier, version}
                    raw_ref, spec = value.get("version"), value.get("specifier")
                else:  # v5: bare version, specifier in a separate map
                    raw_ref, spec = value, specifiers.get(name)
                if not isinstance(raw_ref, str | int | float):
                    continue
                out.append(
                    _direct_row(
                        str(name), str(raw_ref), spec, importer_path, importers, rows, major
                    )
                )
    return out


def _direct_row(
    name: str,
    ref: str,
    spec: Any,
    importer_path: str,
    importers: dict[str, dict[str, Any]],
    rows: dict[str, ParsedPackage],
    major: int,
) -> ParsedPackage:
    spec = spec if isinstance(spec, str) else None
    read = classify(spec) if spec is not None else None
    constraint = read.range if read is not None and read.kind is PackageKind.REGISTRY else spec
    real, own, keys = _importer_target(name, ref, major)
    alias = name if real != name else None
    if own.startswith("link:"):
        target = _normal_join(importer_path, _without_peers(own)[len("link:") :])
        kind = PackageKind.WORKSPACE if target in importers else PackageKind.PATH
        return ParsedPackage(NPM, real, None, constraint or None, True, kind, alias)
    row = next((rows[key] for key in keys if key in rows), None)
    if row is None:
        if own[:1].isdigit():
            version = _PEER_SUFFIX_RE.sub("", own) or None
            return ParsedPackage(NPM, real, version, constraint or None, True, alias=alias)
        # file:, a URL, git+…: never a registry package, even when its entry is missing
        kind = classify(_without_peers(own)).kind if ":" in own else PackageKind.REGISTRY
        return ParsedPackage(NPM, real, None, constraint or None, True, kind, alias)
    alias = name if row.name != name else None  # v5/v6 name a local package in its entry
    return ParsedPackage(
        NPM, row.name, row.version, constraint or None, True, row.kind, alias or row.alias
    )


def _normal_join(base: str, relative: str) -> str:
    parts: list[str] = [] if base in ("", ".") else base.split("/")
    for part in relative.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts) or "."


def parse_pnpm_lock(path: Path) -> list[ParsedPackage]:
    """Every package of a pnpm-lock.yaml, one row per distinct (package, version)."""
    text = read_text(path)
    documents = [d for d in load_yaml_documents(path, text) if d is not None]
    data = expect_dict(documents[-1] if documents else None, path, text, "the lockfile")
    raw_version = str(data.get("lockfileVersion", "")).strip("'\"")
    try:
        major = int(float(raw_version))
    except ValueError:
        raise LockfileError(
            path, line_of(text, "lockfileVersion"), "unsupported lockfileVersion (5, 6 or 9)"
        ) from None
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise LockfileError(path, line_of(text, "packages:"), "packages should be a mapping")
    rows = _package_rows(packages, major)
    raw_importers = data.get("importers")
    if isinstance(raw_importers, dict):
        importers = {str(k): v for k, v in raw_importers.items() if isinstance(v, dict)}
    else:
        importers = {".": data}
    return [*_importer_rows(importers, rows, major), *rows.values()]
