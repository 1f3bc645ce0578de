"""The part of the "drifted" count only the client can decide (the database's
``dependency_summary`` settles the rest: migration 20261207030000).

For a package in the baseline and in every environment shown, with every row healthy, a cell
is MATCHES, DIFFERS or VIOLATES by the ecosystem's version grammar (``core.versions``), and
depends only on the environment's set of (version, constraint) and the baseline's. The
database sends, per such package, its manager, the baseline's set and the distinct sets the
environments have; the package drifted when the matrix ``core.drift.build_matrix`` builds of
those sets, one column each, has a row worse than MATCHES — the matrix's own rule, so the
count is the one the whole matrix gives once every page has been read.
"""

from __future__ import annotations

from uuid import UUID

from devsync_tui.core.drift import build_matrix
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager

_NO_ID = UUID(int=0)
#: The name every package's rows get: one package per matrix, so any name does.
_NAME = "package"


class UndecidedError(ValueError):
    """The database's ``undecided`` is not what migration 20261207030000 sends."""


def undecided_drifted(undecided: object) -> int:
    """How many of the packages in ``dependency_summary``'s ``undecided`` drifted: a JSON
    array of ``[manager, baseline set, [environment set, …]]``, each set an array of
    ``[version, constraint]`` (either may be null). Raises ``UndecidedError`` on any other
    shape or an unknown manager."""
    if not isinstance(undecided, list):
        raise UndecidedError("undecided is not an array")
    return sum(1 for package in undecided if _drifted(package))


def _drifted(package: object) -> bool:
    if not isinstance(package, list) or len(package) != 3:
        raise UndecidedError("a package is not [manager, baseline, sets]")
    manager_name, baseline, sets = package
    try:
        manager = PackageManager(manager_name)
    except ValueError:
        raise UndecidedError(f"unknown package manager {manager_name!r}") from None
    if not isinstance(sets, list):
        raise UndecidedError("a package's sets are not an array")
    columns = [UUID(int=i + 1) for i in range(len(sets))]
    rows = _rows(manager, None, baseline)
    for column, versions in zip(columns, sets, strict=True):
        rows += _rows(manager, column, versions)
    (row,) = build_matrix(rows, columns).rows
    return row.worst > 0


def _rows(manager: PackageManager, place: UUID | None, versions: object) -> list[Dependency]:
    if not isinstance(versions, list) or not versions:
        raise UndecidedError("a set of versions is not a non-empty array")
    return [_row(manager, place, pair) for pair in versions]


def _row(manager: PackageManager, place: UUID | None, pair: object) -> Dependency:
    if not (isinstance(pair, list) and len(pair) == 2 and all(_text(v) for v in pair)):
        raise UndecidedError("a version is not [version, constraint]")
    version, constraint = pair
    return Dependency(
        _NO_ID, _NO_ID, place, manager, _NAME, constraint, version, DependencyStatus.HEALTHY
    )


def _text(value: object) -> bool:
    return value is None or isinstance(value, str)
