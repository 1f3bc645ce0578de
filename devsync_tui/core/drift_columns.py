"""A drift matrix with some environments' columns built again, the rest kept (issue 16).

When a machine reports its dependencies, only its column of the Dependencies view changes: the
view reads that environment's rows and the baseline (a few thousand rows), builds a matrix of
just those columns (``build_matrix`` over the baseline and the changed environments) and puts
its cells in place — instead of reading the whole project again (a million rows in a team of
500 machines).

A cell depends only on its environment's rows of the package, the baseline's rows of it and
the accepted versions; a row's ``worst`` on its cells and baseline. So the result equals
``build_matrix`` of every row, as long as the baseline (and what is accepted) is the one the
kept matrix was built with. Where that cannot be known from the two matrices — a baseline cell
or spelling differs, or the name a row shows came from a changed column that no longer has the
package — :func:`replace_columns` returns None and the caller reads everything again.
"""

from __future__ import annotations

from collections.abc import Sequence

from devsync_tui.core.drift import DriftCell, DriftMatrix, DriftRow, DriftState
from devsync_tui.core.models import PackageManager
from devsync_tui.core.names import package_key

__all__ = ["replace_columns"]

_Key = tuple[PackageManager, str]


def _key(row: DriftRow) -> _Key:
    return (row.package_manager, package_key(row.package_manager, row.package_name))


def _present(cells: Sequence[DriftCell | None]) -> int | None:
    """The first column holding the package (MISSING cells do not hold it)."""
    return next(
        (i for i, c in enumerate(cells) if c is not None and c.state is not DriftState.MISSING),
        None,
    )


def _worst(baseline: DriftCell | None, cells: Sequence[DriftCell | None]) -> DriftState:
    worst = baseline.state if baseline is not None else DriftState.MATCHES
    for cell in cells:
        if cell is not None and cell.state > worst:
            worst = cell.state
    return worst


def replace_columns(matrix: DriftMatrix, part: DriftMatrix) -> DriftMatrix | None:
    """``matrix`` with the columns of ``part.environment_ids`` taken from ``part``, which was
    built from the baseline's rows and those environments' rows only; None when the result
    cannot be known to equal a build of every row (the baseline moved: read everything)."""
    columns = [matrix.environment_ids.index(env) for env in part.environment_ids]
    if columns != sorted(columns):
        raise ValueError("the part's environments must be in the matrix's column order")
    changed = set(columns)
    fresh = {_key(row): row for row in part.rows}
    rows: list[DriftRow] = []
    for row in matrix.rows:
        new = fresh.pop(_key(row), None)
        if new is not None and new.baseline != row.baseline:
            return None
        if row.baseline is not None and (new is None or new.package_name != row.package_name):
            return None
        cells: list[DriftCell | None] = list(row.cells)
        for j, column in enumerate(columns):
            cells[column] = new.cells[j] if new is not None else None
        first = _present(cells)
        if row.baseline is None and first is None:
            continue  # no machine runs it any more
        name = row.package_name
        if row.baseline is None:
            before = _present(row.cells)
            if first in changed:
                assert new is not None  # the package is in a changed column
                name = new.package_name
            elif before in changed:
                return None  # the name came from a column that no longer has the package
        rows.append(_row(row.package_manager, name, row.baseline, cells))
    width = len(matrix.environment_ids)
    for new in fresh.values():
        if new.baseline is not None:
            return None  # a baseline package the kept matrix does not have
        added: list[DriftCell | None] = [None] * width
        for j, column in enumerate(columns):
            added[column] = new.cells[j]
        rows.append(_row(new.package_manager, new.package_name, None, added))
    rows.sort(key=lambda r: (r.package_manager, r.package_name))
    return DriftMatrix(matrix.environment_ids, tuple(rows))


def _row(
    manager: PackageManager,
    name: str,
    baseline: DriftCell | None,
    cells: Sequence[DriftCell | None],
) -> DriftRow:
    return DriftRow(manager, name, baseline, tuple(cells), _worst(baseline, cells))
