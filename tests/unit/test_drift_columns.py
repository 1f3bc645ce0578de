"""A machine's report rebuilds only its column of the Dependencies view: the kept matrix with
the changed columns built again equals the matrix of every row (issue 16)."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from devsync_tui.core.drift import DriftMatrix, build_matrix
from devsync_tui.core.drift_columns import replace_columns
from devsync_tui.core.models import Dependency, DependencyStatus, PackageManager

PROJECT = uuid4()
ENVS = [UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4)]
SPELLINGS = ["Foo_Bar", "foo-bar", "JSONStream", "jsonstream", "alpha", "Zeta", "serde_json"]
HEALTHY = DependencyStatus.HEALTHY
ONE_SPELLING = ["foo-bar", "jsonstream", "alpha", "zeta", "serde-json"]


def _rows(names: list[str], places: list[UUID | None]) -> st.SearchStrategy[list[Dependency]]:
    return st.lists(
        st.builds(
            lambda m, n, e, v, c, s: Dependency(uuid4(), PROJECT, e, m, n, c, v, s),
            st.sampled_from([PackageManager.NPM, PackageManager.PIP, PackageManager.CARGO]),
            st.sampled_from(names),
            st.sampled_from(places),
            st.sampled_from([None, "1.0.0", "1.2.0", "2.0.0"]),
            st.sampled_from([None, "^1.0.0", ">=2"]),
            st.sampled_from(list(DependencyStatus)),
        ),
        max_size=30,
        unique_by=lambda d: (
            d.environment_id,
            d.package_manager,
            d.package_name,
            d.resolved_version,
        ),
    )


def _scenario(
    names: list[str],
) -> st.SearchStrategy[tuple[list[Dependency], list[Dependency], list[UUID]]]:
    """(rows before, rows after, changed environments): only the changed environments' rows
    differ; the baseline is the same."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[list[Dependency], list[Dependency], list[UUID]]:
        before = draw(_rows(names, [None, *ENVS]))
        changed = draw(st.lists(st.sampled_from(ENVS), min_size=1, max_size=3, unique=True))
        theirs = draw(_rows(names, list(changed)))
        after = [d for d in before if d.environment_id not in changed] + theirs
        return before, after, [e for e in ENVS if e in changed]

    return build()


def _part(after: list[Dependency], changed: list[UUID]):  # type: ignore[no-untyped-def]
    """What the view reads on a change: the baseline and the changed environments' rows."""
    mine = [d for d in after if d.environment_id is None or d.environment_id in changed]
    return build_matrix(mine, changed)


@settings(max_examples=400)
@given(case=_scenario(SPELLINGS))
def test_replaced_columns_equal_the_whole_build_or_ask_for_it(case) -> None:  # type: ignore[no-untyped-def]
    before, after, changed = case
    result = replace_columns(build_matrix(before, ENVS), _part(after, changed))
    if result is not None:
        assert result == build_matrix(after, ENVS)


def _first(cells) -> int | None:  # type: ignore[no-untyped-def]
    return next((i for i, c in enumerate(cells) if c is not None), None)


def _name_unknown(before: DriftMatrix, after: DriftMatrix, changed: list[UUID]) -> bool:
    """A package outside the baseline whose shown spelling came from a changed column that
    dropped it, while an unchanged column still has it (its spelling was never read)."""
    columns = {ENVS.index(e) for e in changed}
    now = {(r.package_manager, r.package_name): r for r in after.rows}
    for row in before.rows:
        later = now.get((row.package_manager, row.package_name))
        if (
            row.baseline is None
            and later is not None
            and _first(row.cells) in columns
            and _first(later.cells) not in columns
        ):
            return True
    return False


@settings(max_examples=400)
@given(case=_scenario(ONE_SPELLING))
def test_with_one_spelling_per_package_the_whole_read_is_rare(case) -> None:  # type: ignore[no-untyped-def]
    before, after, changed = case
    kept, whole = build_matrix(before, ENVS), build_matrix(after, ENVS)
    result = replace_columns(kept, _part(after, changed))
    if result is None:
        assert _name_unknown(kept, whole, changed)
    else:
        assert result == whole


def test_a_moved_baseline_asks_for_the_whole_read() -> None:
    env = ENVS[0]
    base = Dependency(
        uuid4(), PROJECT, None, PackageManager.NPM, "left-pad", "^1.0.0", "1.0.0", HEALTHY
    )
    mine = Dependency(
        uuid4(), PROJECT, env, PackageManager.NPM, "left-pad", "^1.0.0", "1.0.0", HEALTHY
    )
    moved = Dependency(
        uuid4(), PROJECT, None, PackageManager.NPM, "left-pad", "^2.0.0", "2.0.0", HEALTHY
    )
    kept = build_matrix([base, mine], ENVS)
    assert replace_columns(kept, build_matrix([moved, mine], [env])) is None
    assert replace_columns(kept, build_matrix([base, mine], [env])) == kept


def test_a_package_no_machine_runs_any_more_leaves_the_view() -> None:
    env = ENVS[1]
    gone = Dependency(
        uuid4(), PROJECT, env, PackageManager.PIP, "requests", None, "2.32.0", HEALTHY
    )
    kept = build_matrix([gone], ENVS)
    assert len(kept.rows) == 1
    result = replace_columns(kept, build_matrix([], [env]))
    assert result is not None
    assert result.rows == ()
