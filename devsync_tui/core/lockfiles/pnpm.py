"""pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x.

Direct dependencies come from the importers (``importers`` in monorepos and v9, the top-level
``dependencies``/``specifiers`` before that); every other package from the ``packages`` keys
(``/name/1.2.3`` in v5, ``/name@1.2.3`` in v6, ``name@1.2.3`` in v9). Peer suffixes such as
``(react@18.2.0)`` or ``_react@18.2.0`` are not part of the version.
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
    load_yaml,
    read_text,
)
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare

NPM = PackageManager.NPM
_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_PEER_SUFFIX_RE = re.compile(r"[(_].*$")


def _clean_version(raw: Any) -> str | None:
    if not isinstance(raw, str | int | float):
        return None
    text = str(raw)
    if text.startswith(("link:", "file:", "workspace:")):
        return None
    return _PEER_SUFFIX_RE.sub("", text.lstrip("/")) or None


def _package_key(key: str, major: int) -> tuple[str, str] | None:
    """(name, version) from a ``packages`` key, or None for non-registry entries."""
    key = key.lstrip("/")
    if major < 6:
        name, _, version = key.rpartition("/")
    else:
        key = key.split("(", 1)[0]
        at = key.find("@", 1)
        name, version = (key[:at], key[at + 1 :]) if at > 0 else ("", "")
    version = _PEER_SUFFIX_RE.sub("", version)
    if not name or not version or ":" in version or "/" in version:
        return None
    return name, version


def _importer_deps(
    importer: dict[str, Any], specifiers: dict[str, Any]
) -> dict[str, tuple[str | None, str | None]]:
    """name → (version, specifier) from one importer."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for section in _SECTIONS:
        entries = importer.get(section)
        if not isinstance(entries, dict):
            continue
        for name, value in entries.items():
            if isinstance(value, dict):  # v6+: {specifier, version}
                version, spec = _clean_version(value.get("version")), value.get("specifier")
            else:  # v5: bare version, specifier in a separate map
                version, spec = _clean_version(value), specifiers.get(name)
            out.setdefault(str(name), (version, spec if isinstance(spec, str) else None))
    return out


def parse_pnpm_lock(path: Path) -> list[ParsedPackage]:
    """Every package of a pnpm-lock.yaml, one row per name (direct version first, else the
    highest locked version)."""
    text = read_text(path)
    data = expect_dict(load_yaml(path, text), path, text, "the lockfile")
    raw_version = str(data.get("lockfileVersion", "")).strip("'\"")
    try:
        major = int(float(raw_version))
    except ValueError:
        raise LockfileError(
            path, line_of(text, "lockfileVersion"), f"unsupported lockfileVersion {raw_version!r}"
        ) from None
    importers = data.get("importers")
    if isinstance(importers, dict):
        importer_list = [v for v in importers.values() if isinstance(v, dict)]
    else:
        importer_list = [data]
    direct: dict[str, tuple[str | None, str | None]] = {}
    for importer in importer_list:
        specifiers = importer.get("specifiers")
        for name, pair in _importer_deps(
            importer, specifiers if isinstance(specifiers, dict) else {}
        ).items():
            direct.setdefault(name, pair)
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise LockfileError(path, line_of(text, "packages:"), "packages should be a mapping")
    highest: dict[str, str] = {}
    for key in packages:
        parsed = _package_key(str(key), major)
        if parsed is None:
            continue
        name, version = parsed
        if name not in highest or compare(NPM, version, highest[name]) > 0:
            highest[name] = version
    out = [
        ParsedPackage(NPM, name, version or highest.get(name), spec, True)
        for name, (version, spec) in direct.items()
    ]
    out.extend(
        ParsedPackage(NPM, name, version, None, False)
        for name, version in highest.items()
        if name not in direct
    )
    return out
