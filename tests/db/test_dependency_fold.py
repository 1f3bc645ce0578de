"""``private.package_fold`` (migration 20261205170000_dependency_pages): the page key of the
Dependencies view. A page may only end between packages, so every two names that
core/names.py counts as one package must have one fold — on any database locale."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devsync_tui.core.models import PackageManager
from devsync_tui.core.names import package_key
from tests.db.helpers import Conn

#: Every character Python's str.isspace() knows (what package_key's strip() removes).
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
#: ASCII names (PyPI and crates.io allow nothing else) with separators, capitals and spaces.
_NAMES = st.text(alphabet=st.sampled_from("abcXYZ019-_." + _WHITESPACE), min_size=1, max_size=12)


def _folds(su: Conn, names: list[str]) -> list[str]:
    rows = su.execute(
        "select private.package_fold(n) from unnest(%s::text[]) with ordinality as t(n, i)"
        " order by i",
        (names,),
    ).fetchall()
    return [str(r[0]) for r in rows]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=_NAMES, b=_NAMES)
def test_one_package_has_one_fold(su: Conn, a: str, b: str) -> None:
    fold_a, fold_b = _folds(su, [a, b])
    for manager in PackageManager:
        if package_key(manager, a) == package_key(manager, b):
            assert fold_a == fold_b, (manager, a, b)


def test_spellings_of_one_package_share_a_fold(su: Conn) -> None:
    pip = ["Foo_Bar", "foo.bar", "foo-bar", "FOO__bar", " foo-bar\u3000"]
    cargo = ["serde_json", "Serde-JSON"]
    npm = ["JSONStream", "jsonstream", "\u2003JSONStream\u00a0"]
    assert len(set(_folds(su, pip))) == 1
    assert len(set(_folds(su, cargo))) == 1
    assert len(set(_folds(su, npm))) == 1  # two npm packages, read together: harmless
    assert _folds(su, ["@Types/Node", "a.b-c_d"]) == ["@types/node", "a-b-c-d"]


def test_the_page_query_walks_the_index(su: Conn) -> None:
    # The query of public.dependency_page, planned alone (a function's inner plan is not
    # shown by EXPLAIN): an index range scan in key order, no sort of the project's rows.
    su.execute("set local enable_seqscan = off")  # the test database is tiny
    plan = "\n".join(
        str(r[0])
        for r in su.execute(
            "explain select * from public.dependencies d"
            " where d.project_id = '00000000-0000-0000-0000-000000000001'"
            " and d.package_manager = 'npm'"
            ' and (private.package_fold(d.package_name) collate "C", d.id)'
            " > ('react' collate \"C\", '00000000-0000-0000-0000-000000000000'::uuid)"
            ' order by private.package_fold(d.package_name) collate "C", d.id limit 100'
        ).fetchall()
    )
    assert "dependencies_project_fold_idx" in plan
    assert "Sort" not in plan
