"""Rows from several files (or several places in one file) merged into one row per
(manager, package, version): every distinct version stays, duplicates of one version become
one row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from devsync_tui.core.lockfiles.base import ParsedPackage
from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare


def _markers(a: str | None, b: str | None) -> str | None:
    """The marker under which either row applies (None = always)."""
    if a is None or b is None:
        return None
    if a == b or f"({b})" in a:
        return a
    first = a if a.startswith("(") and a.endswith(")") and " or " in a else f"({a})"
    return f"{first} or ({b})"


def _merge(kept: ParsedPackage, other: ParsedPackage) -> ParsedPackage:
    """One row for two of the same version: the first file's naming and kind win; direct if
    either is; the direct row's constraint, else the first one known."""
    constraint = kept.constraint
    if other.direct and not kept.direct and other.constraint:
        constraint = other.constraint
    platforms = kept.platforms + tuple(p for p in other.platforms if p not in kept.platforms)
    return replace(
        kept,
        version=kept.version or other.version,
        constraint=constraint or other.constraint,
        direct=kept.direct or other.direct,
        alias=kept.alias or other.alias,
        marker=_markers(kept.marker, other.marker),
        platforms=platforms,
    )


def merge_versions(packages: Iterable[ParsedPackage]) -> list[ParsedPackage]:
    """One row per (manager, name key, version), in first-seen order.

    A row without a version (a manifest's requirement) for a package that also has versioned
    rows is folded into them: its constraint and ``direct`` go to the direct versioned rows,
    or, when none is direct, to the highest version."""
    rows: dict[tuple[PackageManager, str, str | None], ParsedPackage] = {}
    for package in packages:
        if not package.name.strip():
            continue  # an empty key in a manifest names no package
        key = package.key
        current = rows.get(key)
        rows[key] = package if current is None else _merge(current, package)
    versioned: dict[tuple[PackageManager, str], list[tuple[PackageManager, str, str | None]]] = {}
    for key in rows:
        if key[2] is not None:
            versioned.setdefault((key[0], key[1]), []).append(key)
    for key in [k for k in rows if k[2] is None]:
        targets = versioned.get((key[0], key[1]))
        if not targets:
            continue
        loose = rows.pop(key)
        direct = [k for k in targets if rows[k].direct]
        if not direct:
            highest = targets[0]
            for candidate in targets[1:]:
                if compare(key[0], candidate[2] or "", highest[2] or "") > 0:
                    highest = candidate
            direct = [highest]
        for target in direct:
            row = rows[target]
            rows[target] = replace(
                row,
                constraint=row.constraint or loose.constraint,
                direct=row.direct or loose.direct,
            )
    return list(rows.values())
