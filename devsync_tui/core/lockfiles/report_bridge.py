"""The bridge between every-version scans and today's one-row-per-package report.

Exists only until the schema keeps one row per (environment, ecosystem, package, resolved
version): then ``report_dependencies`` takes every version and this module is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

from devsync_tui.core.lockfiles.base import ParsedPackage
from devsync_tui.core.models import PackageKind, PackageManager
from devsync_tui.core.names import package_key
from devsync_tui.core.versions import compare

#: The project's own code and local folders: never reported (as before every version was
#: read); their rows stay in the scan itself (``devsync scan --json``).
_NOT_REPORTED = frozenset({PackageKind.WORKSPACE, PackageKind.PATH, PackageKind.EDITABLE})


def _better(candidate: ParsedPackage, current: ParsedPackage) -> bool:
    """Whether ``candidate`` is the version to report rather than ``current``."""
    if candidate.direct != current.direct:
        return candidate.direct
    if current.version is None or candidate.version is None:
        return current.version is None and candidate.version is not None
    return compare(candidate.manager, candidate.version, current.version) > 0


def one_version_per_name(packages: Sequence[ParsedPackage]) -> list[ParsedPackage]:
    """One row per (manager, package) for the upload, which until the schema keeps every
    version stores a single version per package: the direct (top-level) version, else the
    highest. Workspace, path and editable rows (the project's own code) are left out, as
    they always were. Order: the first row of each package, as scanned.

    Exists only until the schema keeps every version; delete it then (and call
    ``report_dependencies`` with every row).
    """
    chosen: dict[tuple[PackageManager, str], ParsedPackage] = {}
    for package in packages:
        if package.kind in _NOT_REPORTED:
            continue
        key = (package.manager, package_key(package.manager, package.name))
        current = chosen.get(key)
        if current is None or _better(package, current):
            chosen[key] = package
    return list(chosen.values())
