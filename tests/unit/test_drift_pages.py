"""A project's drift from pages of whole packages is its drift from all rows at once: the
Dependencies view and ``devsync drift`` read a big project a page at a time (issue 16)."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from devsync_tui.core.drift import build_matrix, drift_report
from devsync_tui.core.drift_report import merged_report
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager

PROJECT = uuid4()
ENVS = [UUID(int=1), UUID(int=2), UUID(int=3)]
NAMES = ["Foo_Bar", "foo-bar", "JSONStream", "jsonstream", "alpha", "Zeta", "serde_json"]
VERSIONS = [None, "1.0.0", "1.2.0", "2.0.0"]


def _fold(name: str) -> str:
    """What private.package_fold gives for these ASCII names."""
    return re.sub(r"[-_.]+", "-", name).lower()


_rows = st.lists(
    st.builds(
        lambda m, n, e, v, c, s: Dependency(uuid4(), PROJECT, e, m, n, c, v, s),
        st.sampled_from([PackageManager.NPM, PackageManager.PIP, PackageManager.CARGO]),
        st.sampled_from(NAMES),
        st.sampled_from([None, *ENVS]),
        st.sampled_from(VERSIONS),
        st.sampled_from([None, "^1.0.0", ">=2"]),
        st.sampled_from(list(DependencyStatus)),
    ),
    max_size=40,
    unique_by=lambda d: (d.environment_id, d.package_manager, d.package_name, d.resolved_version),
)


def _pages(deps: list[Dependency], per_page: int) -> list[list[Dependency]]:
    """As Backend.dependency_pages cuts them: by manager, in fold order, between folds."""
    runs: dict[tuple[str, str], list[Dependency]] = {}
    for d in deps:
        runs.setdefault((d.package_manager.value, _fold(d.package_name)), []).append(d)
    pages: list[list[Dependency]] = [[]]
    for key in sorted(runs):
        if len(pages[-1]) >= per_page:
            pages.append([])
        pages[-1] += runs[key]
    return [p for p in pages if p]


@settings(max_examples=200)
@given(deps=_rows, per_page=st.integers(1, 8))
def test_drift_of_pages_is_drift_of_the_whole(deps: list[Dependency], per_page: int) -> None:
    names = {env: f"env-{i}" for i, env in enumerate(ENVS)}
    pages = _pages(deps, per_page)
    assert merged_report((drift_report(p, names) for p in pages), len(names)) == drift_report(
        deps, names
    )
    whole = build_matrix(deps, ENVS)
    rows = sorted(
        (row for p in pages for row in build_matrix(p, ENVS).rows),
        key=lambda r: (r.package_manager, r.package_name),
    )
    assert tuple(rows) == whole.rows
