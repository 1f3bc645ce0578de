"""``private.package_fold`` (migration 20261205170000_dependency_pages): the page key of the
Dependencies view. A page may only end between packages, so every two names that
core/names.py counts as one package must have one fold — on any database locale."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devsync_tui.core.models import PackageManager
from devsync_tui.core.names import package_key
from tests.db.helpers import Conn, acting_as, impersonate
from tests.support import demo

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


def test_a_later_page_reads_only_its_rows(su: Conn) -> None:
    # Through the function itself, as a member (the policy applies), with the generic plan a
    # long session ends up with: a page after (fold, id) starts there in the index (migration
    # 20261205171000). Before, under RLS the keyset condition filtered rows instead of
    # bounding the scan: a page of a million-row project read it from its start (~1 s).
    page = "select count(*) from public.dependency_page(%s, 'cargo', %s, %s, %s)"
    with _many_crates(su) as project:
        for _ in range(6):  # a plan is cached after the first calls
            su.execute(page, (project, None, None, 10))
        last = su.execute(
            "select package_fold, id from public.dependency_page(%s, 'cargo', null, null, 2990)"
            ' order by package_fold collate "C" desc, id desc limit 1',
            (project,),
        ).fetchone()
        assert last is not None
        counted, read = _rows_read(su, page, (project, last[0], last[1], 100))
    assert counted == 10
    assert read <= 20, "the page read rows before its start"


@contextlib.contextmanager
def _many_crates(su: Conn) -> Iterator[UUID]:
    """Inside a rolled-back transaction: billing with 3,000 more cargo rows, analysed, read as
    alice (the policy applies) with generic plans (what a long session ends up with)."""
    project = demo.PROJECT_BILLING
    with su.transaction(force_rollback=True):
        su.execute(
            "insert into public.dependencies (project_id, environment_id, package_manager,"
            " package_name, resolved_version, status)"
            " select %s, null, 'cargo', 'crate-' || lpad(n::text, 5, '0'), '1.0.0', 'healthy'"
            " from generate_series(1, 3000) n",
            (project,),
        )
        su.execute("analyze public.dependencies")
        su.execute("set local plan_cache_mode = force_generic_plan")
        impersonate(su.cursor(), demo.ALICE)
        yield project


def _rows_read(su: Conn, query: str, params: tuple[object, ...]) -> tuple[int, int]:
    """``query``'s count(*) and how many dependency rows the database read to answer it."""
    fetched = (
        "select idx_tup_fetch + seq_tup_read from pg_stat_xact_user_tables"
        " where relid = 'public.dependencies'::regclass"
    )
    before = su.execute(fetched).fetchone()
    counted = su.execute(query, params).fetchone()
    after = su.execute(fetched).fetchone()
    assert before is not None
    assert counted is not None
    assert after is not None
    return int(counted[0]), int(after[0]) - int(before[0])


@pytest.mark.parametrize("user", demo.USERS, ids=lambda u: u.username)
def test_a_page_holds_what_the_select_policy_shows(su: Conn, user: demo.DemoUser) -> None:
    # dependency_page is security definer and applies dependencies_select itself (once, before
    # reading): the rows of every page are exactly the rows the policy shows this user.
    for project in demo.PROJECT_NAMES:
        with acting_as(su, user) as cur:
            cur.execute(
                "select id from public.dependencies where project_id = %s order by id", (project,)
            )
            shown = cur.fetchall()
            cur.execute(
                "select p.id from unnest(array['npm', 'pip', 'cargo', 'gem']) m,"
                " public.dependency_page(%s, m, null, null, 50000) p order by p.id",
                (project,),
            )
            assert cur.fetchall() == shown


@pytest.mark.parametrize("user", demo.USERS, ids=lambda u: u.username)
def test_pages_across_managers_hold_what_the_select_policy_shows(
    su: Conn, user: demo.DemoUser
) -> None:
    # dependency_page_next (migration 20261207060000) applies dependencies_select the same way,
    # and walking it from the start, a few rows a page, gives every row once, in order.
    for project in demo.PROJECT_NAMES:
        with acting_as(su, user) as cur:
            cur.execute(
                "select id from public.dependencies where project_id = %s order by id", (project,)
            )
            shown = sorted(str(r[0]) for r in cur.fetchall())
            seen: list[tuple[str, str, object]] = []
            after: tuple[object, object, object] = (None, None, None)
            while True:
                cur.execute(
                    "select package_manager, package_fold, id"
                    " from public.dependency_page_next(%s, %s, %s, %s, 3)",
                    (project, *after),
                )
                page = cur.fetchall()
                seen += page
                if len(page) < 3:
                    break
                after = page[-1]
            assert sorted(str(r[2]) for r in seen) == shown
            keys = [(m, f.encode(), str(i)) for m, f, i in seen]
            assert keys == sorted(keys)  # (manager, fold bytewise, id)


def test_a_page_across_managers_walks_the_index(su: Conn) -> None:
    # The query of private.dependency_page_next after a keyset, planned alone: one range
    # scan of dependencies_project_fold_idx across managers, no sort. (Sorts and sequential
    # scans only discouraged, not impossible: the test database is tiny, and the plan must
    # show that the index can give this order at all.)
    with su.transaction(force_rollback=True):
        su.execute("set local enable_seqscan = off")
        su.execute("set local enable_sort = off")
        plan = "\n".join(
            str(r[0])
            for r in su.execute(
                "explain select * from public.dependencies d"
                " where d.project_id = '00000000-0000-0000-0000-000000000001'"
                ' and (d.package_manager, private.package_fold(d.package_name) collate "C",'
                " d.id) > ('cargo', 'serde' collate \"C\","
                " '00000000-0000-0000-0000-000000000000'::uuid)"
                ' order by d.package_manager, private.package_fold(d.package_name) collate "C",'
                " d.id limit 100"
            ).fetchall()
        )
    assert "dependencies_project_fold_idx" in plan
    assert "Sort" not in plan


def test_a_later_page_across_managers_reads_only_its_rows(su: Conn) -> None:
    # As test_a_later_page_reads_only_its_rows, through dependency_page_next as a member with
    # a generic plan: a page after (manager, fold, id) starts there in the index.
    page = "select count(*) from public.dependency_page_next(%s, %s, %s, %s, %s)"
    with _many_crates(su) as project:
        for _ in range(6):  # a plan is cached after the first calls
            su.execute(page, (project, None, None, None, 10))
        last = su.execute(
            "select package_manager, package_fold, id"
            " from public.dependency_page_next(%s, null, null, null, 2990)"
            ' order by package_manager desc, package_fold collate "C" desc, id desc limit 1',
            (project,),
        ).fetchone()
        assert last is not None
        assert last[0] == "cargo"
        counted, read = _rows_read(su, page, (project, *last, 100))
    assert 10 <= counted <= 100  # the last 10 crates, then billing's other managers
    assert read <= counted + 20, "the page read rows before its start"
