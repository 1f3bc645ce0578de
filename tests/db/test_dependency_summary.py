"""``public.dependency_summary`` (migration 20261206210000): the Dependencies view's team-wide
counts, from SQL. They must be the counts of the drift matrix the client builds of the same rows
(``DriftMatrix.summary``), so the status line says the same before and after the last page."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from devsync_tui.backend import rows, rows_facts
from devsync_tui.core.drift import build_matrix
from devsync_tui.core.drift_facts import accepted_versions
from devsync_tui.core.models import DependencySummary, PackageFacts, PackageManager
from devsync_tui.core.names import package_key
from tests.db.helpers import Conn, Cur, acting_as
from tests.support import demo

S = demo.PROJECT_STOREFRONT
STOREFRONT_ENVS = [demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_CI_RUNNER]
TODAY = date(2026, 12, 6)

_SUMMARY = "select * from public.dependency_summary(%s, %s::uuid[], %s)"


#: Every character Python's str.isspace() knows (what package_key's strip() removes).
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
#: ASCII names (PyPI and crates.io allow nothing else) with separators, capitals and spaces.
_NAMES = st.text(alphabet=st.sampled_from("abcXYZ019-_.@/" + _WHITESPACE), min_size=1, max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES)
def test_the_sql_key_is_the_clients_key(su: Conn, name: str) -> None:
    # private.package_key groups names into packages as core/names.package_key does.
    for manager in PackageManager:
        row = su.execute("select private.package_key(%s, %s)", (manager.value, name)).fetchone()
        assert row == (package_key(manager, name),), (manager, name)


def _sql(cur: Cur, project: UUID, envs: list[UUID], today: date) -> DependencySummary | None:
    """What a client gets: the database's counts, "drifted" finished by the client."""
    with cur.connection.cursor(row_factory=dict_row) as dc:
        found = dc.execute(_SUMMARY, (project, envs, today)).fetchall()
    assert len(found) <= 1
    return rows.dependency_summary_from_row(found[0]) if found else None


def _matrix(cur: Cur, project: UUID, envs: list[UUID], today: date) -> DependencySummary:
    """What the client counts: the matrix of the rows this user reads, with the project's
    accepted risks applied as the Dependencies view applies them."""
    with cur.connection.cursor(row_factory=dict_row) as dc:
        dc.execute("select * from public.dependencies where project_id = %s", (project,))
        deps = [rows.dependency_from_row(r) for r in dc.fetchall()]
        dc.execute("select * from public.project_advisories(%s)", (project,))
        facts = PackageFacts(tuple(rows_facts.version_advisory_from_row(r) for r in dc.fetchall()))
        dc.execute("select * from public.accepted_risks where project_id = %s", (project,))
        risks = [rows_facts.accepted_risk_from_row(r) for r in dc.fetchall()]
    accepted = accepted_versions(deps, facts, risks, today)
    return build_matrix(deps, envs, accepted).summary()


def _envs_of(cur: Cur, project: UUID) -> list[UUID]:
    found = cur.execute(
        "select id from public.environments where project_id = %s order by name", (project,)
    ).fetchall()
    return [UUID(str(r[0])) for r in found]


@pytest.mark.parametrize("user", demo.USERS, ids=lambda u: u.username)
def test_demo_counts_are_the_matrix_counts(su: Conn, user: demo.DemoUser) -> None:
    for project in demo.PROJECT_NAMES:
        with acting_as(su, user) as cur:
            member = cur.execute(
                "select exists (select 1 from private.my_project_ids() m(id) where m.id = %s)",
                (project,),
            ).fetchone()
            envs = _envs_of(cur, project)
            got = _sql(cur, project, envs, TODAY)
            if member == (True,):
                assert got == _matrix(cur, project, envs, TODAY), project
                assert got is not None
                assert got.packages > 0
            else:
                assert got is None, project  # not the team's: nothing, not even zeros


def _insert(
    su: Conn, env: UUID | None, manager: str, name: str, version: str | None, status: str
) -> None:
    su.execute(
        "insert into public.dependencies (project_id, environment_id, package_manager,"
        " package_name, resolved_version, status) values (%s, %s, %s, %s, %s, %s)",
        (S, env, manager, name, version, status),
    )


def _advisory(su: Conn, name: str, version: str, advisory: str, aliases: list[str]) -> None:
    su.execute(
        "insert into public.package_advisory_checks (team_id, package_manager, package_name,"
        " version, checked_at) values (%s, 'npm', %s, %s, now()) on conflict do nothing",
        (demo.TEAM_ACME, name, version),
    )
    su.execute(
        "insert into public.package_advisories (team_id, package_manager, package_name,"
        " version, advisory_id, aliases) values (%s, 'npm', %s, %s, %s, %s)",
        (demo.TEAM_ACME, name, version, advisory, aliases),
    )


def _tricky_project(su: Conn) -> None:
    """storefront's rows replaced by the cases where a count could go wrong."""
    bob, staging, ci = STOREFRONT_ENVS
    su.execute("delete from public.dependencies where project_id = %s", (S,))
    su.execute("delete from public.accepted_risks where project_id = %s", (S,))
    # One pip package under three spellings (PEP 503), in the baseline and two environments:
    # one package, missing on ci.
    _insert(su, None, "pip", "Foo_Bar", "1.0", "healthy")
    _insert(su, bob, "pip", "foo.bar", "1.0", "healthy")
    _insert(su, staging, "pip", " foo-bar ", "1.0.0", "healthy")
    # npm compares names exactly: two packages, neither in the baseline (never missing).
    _insert(su, bob, "npm", "JSONStream", "1.3.5", "healthy")
    _insert(su, staging, "npm", "jsonstream", "1.3.5", "healthy")
    # cargo ignores case and - / _: one package, everywhere.
    for env, name in ((None, "serde_json"), (bob, "Serde-JSON"), (staging, "serde-json")):
        _insert(su, env, "cargo", name, "1.0.0", "healthy")
    _insert(su, ci, "cargo", "SERDE_json", "1.0.0", "healthy")
    # Vulnerable versions: every advisory accepted (by id, by alias) / one not accepted /
    # the accepted one expired / none known / no version at all.
    _advisory(su, "left-pad", "1.0.0", "GHSA-aaaa-aaaa-aaaa", ["CVE-2026-0001"])
    _insert(su, bob, "npm", "left-pad", "1.0.0", "vulnerable")
    _advisory(su, "lodash", "4.17.0", "GHSA-bbbb-bbbb-bbbb", [])
    _advisory(su, "lodash", "4.17.0", "GHSA-cccc-cccc-cccc", ["CVE-2026-0002"])
    _insert(su, None, "npm", "lodash", "4.17.0", "vulnerable")
    _insert(su, bob, "npm", "lodash", "4.17.0", "vulnerable")
    _advisory(su, "minimist", "0.0.8", "GHSA-dddd-dddd-dddd", [])
    _insert(su, staging, "npm", "minimist", "0.0.8", "vulnerable")
    _insert(su, ci, "npm", "no-advisory", "2.0.0", "vulnerable")
    _insert(su, ci, "npm", "unversioned", None, "vulnerable")
    su.execute(
        "insert into public.accepted_risks (project_id, advisory_id, reason, until) values"
        " (%s, 'CVE-2026-0001', 'test', '2026-12-31'),"  # left-pad by alias: accepted
        " (%s, 'GHSA-bbbb-bbbb-bbbb', 'test', '2026-12-31'),"  # lodash: only one of two
        " (%s, 'GHSA-dddd-dddd-dddd', 'test', '2026-12-06')",  # minimist: last day today
        (S, S, S),
    )


def test_counts_follow_the_name_version_and_risk_rules(su: Conn) -> None:
    with su.transaction(force_rollback=True):
        _tricky_project(su)
        with acting_as(su, demo.ALICE) as cur:
            today = _sql(cur, S, STOREFRONT_ENVS, TODAY)
            # Packages: foo-bar, JSONStream, jsonstream, serde-json, left-pad, lodash,
            # minimist, no-advisory, unversioned. Vulnerable: lodash (one advisory not
            # accepted), no-advisory (none known), unversioned; left-pad and minimist are
            # accepted. Missing: foo-bar (ci lacks it), lodash (staging and ci lack it).
            # Drifted: all but serde-json (1.0.0 in the baseline and on every machine).
            assert today == DependencySummary(packages=9, vulnerable=3, missing=2, drifted=8)
            assert today == _matrix(cur, S, STOREFRONT_ENVS, TODAY)
            # The day after minimist's risk ran out, it is vulnerable again.
            later = date(2026, 12, 7)
            assert _sql(cur, S, STOREFRONT_ENVS, later) == DependencySummary(9, 4, 2, 8)
            assert _matrix(cur, S, STOREFRONT_ENVS, later) == DependencySummary(9, 4, 2, 8)
            # Only bob's column: what the other environments alone have is not counted, and
            # nothing of the baseline is missing on bob's laptop.
            only_bob = _sql(cur, S, [demo.ENV_BOB_LAPTOP], TODAY)
            assert only_bob == _matrix(cur, S, [demo.ENV_BOB_LAPTOP], TODAY)
            # Drifted there: JSONStream and left-pad (not in the baseline), lodash.
            assert only_bob == DependencySummary(packages=5, vulnerable=1, missing=0, drifted=3)
            # No environment shown: the baseline alone, nothing missing anywhere.
            assert _sql(cur, S, [], TODAY) == DependencySummary(3, 1, 0, 1)


def test_a_project_without_dependencies_counts_zero(su: Conn) -> None:
    with su.transaction(force_rollback=True):
        su.execute("delete from public.dependencies where project_id = %s", (S,))
        with acting_as(su, demo.ALICE) as cur:
            assert _sql(cur, S, STOREFRONT_ENVS, TODAY) == DependencySummary(0, 0, 0, 0)


def test_an_unknown_project_has_no_summary(su: Conn) -> None:
    with acting_as(su, demo.ALICE) as cur:
        unknown = UUID("00000000-0000-4000-c000-0000000000ff")
        assert _sql(cur, unknown, [], TODAY) is None


def _put(
    su: Conn,
    env: UUID | None,
    manager: str,
    name: str,
    version: str | None,
    want: str | None = None,
) -> None:
    su.execute(
        "insert into public.dependencies (project_id, environment_id, package_manager,"
        " package_name, resolved_version, version_constraint) values (%s, %s, %s, %s, %s, %s)",
        (S, env, manager, name, version, want),
    )


def test_drifted_where_only_the_version_grammar_can_tell(su: Conn) -> None:
    # Packages in the baseline and on every machine, all healthy: the database sends their
    # sets and the client decides (core.drift_summary). Each case is one package.
    everywhere = [None, *STOREFRONT_ENVS]
    with su.transaction(force_rollback=True):
        su.execute("delete from public.dependencies where project_id = %s", (S,))
        # pip: 2.0 is 2.0.0 (PEP 440), within >=2: matches.
        for env, version in zip(everywhere, ["2.0", "2.0.0", "2.0", "2.0"], strict=True):
            _put(su, env, "pip", "requests", version, ">=2")
        # One pip package under four spellings, the same version everywhere: matches.
        for env, name in zip(
            everywhere, ["Two_Names", "two-names", "two.names", "TWO_NAMES"], strict=True
        ):
            _put(su, env, "pip", name, "1.0")
        # npm: two copies in the baseline and on every machine: matches.
        for env in everywhere:
            _put(su, env, "npm", "pair", "1.0.0")
            _put(su, env, "npm", "pair", "2.0.0")
        # npm: the baseline has two copies, the machines one of them: differs.
        _put(su, None, "npm", "lacking", "2.0.0")
        for env in everywhere:
            _put(su, env, "npm", "lacking", "1.0.0")
        # npm: bob's laptop has an extra copy: differs.
        _put(su, demo.ENV_BOB_LAPTOP, "npm", "copies", "2.0.0")
        for env in everywhere:
            _put(su, env, "npm", "copies", "1.0.0")
        # cargo: the baseline's own version breaks its constraint: violates.
        for env in everywhere:
            _put(su, env, "cargo", "strict", "2.0.0", "^1")
        # npm: no constraint in the baseline, the machines' own one broken: violates.
        _put(su, None, "npm", "own-rule", "1.0.0")
        for env in STOREFRONT_ENVS:
            _put(su, env, "npm", "own-rule", "1.0.0", "^2.0.0")
        # npm: the baseline names it without a version (a manifest only): any version matches.
        _put(su, None, "npm", "unpinned", None, "*")
        for env in STOREFRONT_ENVS:
            _put(su, env, "npm", "unpinned", "3.1.4")
        # npm: one machine a patch ahead: differs.
        for env, version in zip(everywhere, ["1.2.3", "1.2.3", "1.2.4", "1.2.3"], strict=True):
            _put(su, env, "npm", "ahead", version, "^1.2.0")
        # npm: no constraint in the baseline, each machine its own, all kept: matches; the
        # same with one machine breaking its own: violates.
        for name, last in (("own-rules", "^1.0.0"), ("own-rules-broken", "^3.0.0")):
            _put(su, None, "npm", name, "1.5.0")
            for env, want in zip(STOREFRONT_ENVS, ["^1.0.0", ">=1.2", last], strict=True):
                _put(su, env, "npm", name, "1.5.0", want)
        with acting_as(su, demo.ALICE) as cur:
            got = _sql(cur, S, STOREFRONT_ENVS, TODAY)
            assert got == _matrix(cur, S, STOREFRONT_ENVS, TODAY)
            # Drifted: lacking, copies, strict, own-rule, ahead, own-rules-broken. Not:
            # requests, two-names, pair, unpinned, own-rules.
            assert got == DependencySummary(packages=11, vulnerable=0, missing=0, drifted=6)
            # staging and the CI runner only: bob's extra copy is not shown.
            two = [demo.ENV_STAGING, demo.ENV_CI_RUNNER]
            assert _sql(cur, S, two, TODAY) == _matrix(cur, S, two, TODAY)
            assert _sql(cur, S, two, TODAY) == DependencySummary(11, 0, 0, 5)


_MANAGERS = st.sampled_from(["pip", "npm"])
_SPELLINGS = st.sampled_from(["Foo_Bar", "foo-bar", "left-pad", "Left-Pad"])
_VERSIONS = st.sampled_from([None, "1.0", "1.0.0", "1.2.0", "2.0.0"])
_WANTS = st.sampled_from([None, None, "^1.0.0", ">=1.1", "*"])
_STATUSES = st.sampled_from(["healthy", "healthy", "healthy", "outdated", "vulnerable"])
_PLACES = st.sampled_from([None, *STOREFRONT_ENVS])
_ROWS = st.lists(
    st.tuples(_PLACES, _MANAGERS, _SPELLINGS, _VERSIONS, _WANTS, _STATUSES),
    max_size=14,
    unique_by=lambda r: (r[0], r[1], r[2], r[3]),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(found=_ROWS, shown=st.lists(st.sampled_from(STOREFRONT_ENVS), unique=True))
def test_any_project_counts_as_its_matrix(
    su: Conn,
    found: list[tuple[UUID | None, str, str, str | None, str | None, str]],
    shown: list[UUID],
) -> None:
    # Every count, "drifted" above all, is the matrix's for any rows: spellings, copies,
    # versions without a number, constraints in the baseline or not, statuses.
    with su.transaction(force_rollback=True):
        su.execute("delete from public.dependencies where project_id = %s", (S,))
        for env, manager, name, version, want, status in found:
            su.execute(
                "insert into public.dependencies (project_id, environment_id, package_manager,"
                " package_name, resolved_version, version_constraint, status)"
                " values (%s, %s, %s, %s, %s, %s, %s)",
                (S, env, manager, name, version, want, status),
            )
        with acting_as(su, demo.ALICE) as cur:
            assert _sql(cur, S, shown, TODAY) == _matrix(cur, S, shown, TODAY)
