"""A large workspace for benchmarks: ``devsync local demo --size large``.

Adds project "monolith" to the demo team Acme with 200 environments, 500 packages each plus
the baseline (100,500 dependency rows), 10,000 configurations and 1,000,000 health points.
It is written with set-based SQL as the database superuser, with triggers off for the bulk
insert (``session_replication_role = replica``): the point is volume for measurements, not a
history of how it got there. The health roll-up's triggers fire all the same (ENABLE ALWAYS,
migration ...20261205180000_health_rollup): health_sparklines reads the sums they keep. Takes
well under a minute on a 2-core machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

PROJECT_NAME = "monolith"


@dataclass(frozen=True, slots=True)
class Size:
    environments: int
    packages: int
    configurations_per_env: int
    project_defaults: int
    health_points_per_metric: int


SIZES: dict[str, Size] = {
    "small": Size(10, 50, 5, 20, 288),
    "large": Size(200, 500, 49, 200, 1250),
}

_SQL = """
with team as (select id from public.teams where slug = 'acme')
insert into public.projects (team_id, name, description)
select team.id, %(name)s, 'Generated for benchmarks' from team
returning id
"""


def _remove_previous(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Delete an earlier benchmark project completely, with triggers and foreign keys on: with
    ``session_replication_role = replica`` a delete does not cascade, and left its 200
    machines and million health points behind. The two big tables go first, in bulk; the
    cascade takes the rest (whatever tables refer to projects and environments)."""
    old = [
        row[0]
        for row in conn.execute(
            "select p.id from public.projects p join public.teams t on t.id = p.team_id "
            "where t.slug = 'acme' and p.name = %s",
            (PROJECT_NAME,),
        ).fetchall()
    ]
    if not old:
        return
    conn.execute(
        "delete from public.health_checks where environment_id in "
        "(select id from public.environments where project_id = any(%s))",
        (old,),
    )
    conn.execute("delete from public.dependencies where project_id = any(%s)", (old,))
    conn.execute("delete from public.projects where id = any(%s)", (old,))


def generate(
    conninfo: str, size: str = "large", progress: Callable[[str], None] | None = None
) -> dict[str, float]:
    """Create (or re-create) the benchmark project; returns seconds per step."""
    spec = SIZES[size]
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute("set local statement_timeout = 0")
        t0 = time.perf_counter()
        _remove_previous(conn)
        # From here on triggers (and so foreign keys) are off: bulk inserts only.
        conn.execute("set session_replication_role = replica")
        row = conn.execute(_SQL, {"name": PROJECT_NAME}).fetchone()
        if row is None:
            raise RuntimeError("the demo team 'acme' is missing: run `devsync local reset` first")
        project_id = row[0]
        say(f"environments ({spec.environments})")
        conn.execute(
            """
            insert into public.environments (project_id, user_id, name, status, last_sync_at)
            select %(p)s,
                   (array(select user_id from public.team_members tm join public.teams t
                          on t.id = tm.team_id where t.slug = 'acme' and tm.role <> 'viewer'
                          order by user_id))[1 + (g %% 3)],
                   'machine-' || lpad(g::text, 3, '0'),
                   (array['active','offline','syncing','error'])[1 + (g %% 4)],
                   now() - make_interval(mins => g)
            from generate_series(1, %(n)s) g
            """,
            {"p": project_id, "n": spec.environments},
        )
        timings["environments"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say(f"dependencies ({(spec.environments + 1) * spec.packages})")
        conn.execute(
            """
            insert into public.dependencies
              (project_id, environment_id, package_manager, package_name,
               version_constraint, resolved_version, status)
            select %(p)s, e.id,
                   case when pk %% 2 = 0 then 'npm' else 'pip' end,
                   'pkg-' || lpad(pk::text, 4, '0'),
                   case when pk %% 2 = 0 then '^' || (pk %% 7) || '.0.0'
                        else '>=' || (pk %% 7) || '.0' end,
                   case when e.id is null then (pk %% 7) || '.' || (pk %% 5) || '.0'
                        when (hashint4(pk * 7919 + e.n) & 1023) < 40
                          then ((pk %% 7) + 1) || '.0.0'
                        when (hashint4(pk * 104729 + e.n) & 1023) < 80
                          then (pk %% 7) || '.' || (pk %% 5) || '.1'
                        else (pk %% 7) || '.' || (pk %% 5) || '.0' end,
                   case when (hashint4(pk + e.n * 31) & 1023) < 10 then 'vulnerable'
                        when (hashint4(pk + e.n * 17) & 1023) < 60 then 'outdated'
                        else 'healthy' end
            from generate_series(1, %(k)s) pk
            cross join (select id, (row_number() over (order by name))::int as n
                        from public.environments where project_id = %(p)s
                        union all select null, 0) e
            """,
            {"p": project_id, "k": spec.packages},
        )
        timings["dependencies"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say("configurations")
        conn.execute(
            """
            insert into public.configurations
              (project_id, environment_id, key, value, is_secret, type, version)
            select %(p)s, null, 'SETTING_' || lpad(g::text, 4, '0'), 'default-' || g,
                   false, 'env_var', 1
            from generate_series(1, %(d)s) g
            """,
            {"p": project_id, "d": spec.project_defaults},
        )
        conn.execute(
            """
            insert into public.configurations
              (project_id, environment_id, key, value, is_secret, type, version)
            select %(p)s, e.id, 'SETTING_' || lpad(g::text, 4, '0'), 'override-' || g,
                   false, 'env_var', 1
            from public.environments e cross join generate_series(1, %(c)s) g
            where e.project_id = %(p)s
            """,
            {"p": project_id, "c": spec.configurations_per_env},
        )
        timings["configurations"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        say(f"health points ({spec.environments * 4 * spec.health_points_per_metric})")
        conn.execute(
            """
            insert into public.health_checks (environment_id, metric_type, value, recorded_at)
            select e.id, m.metric,
                   case when m.metric = 'ping'
                        then jsonb_build_object('ms', round((5 + 20 * random())::numeric, 1))
                        else jsonb_build_object(
                          'percent', round((30 + 30 * sin(i / 40.0) + 10 * random())::numeric, 1))
                   end,
                   date_trunc('minute', now()) - make_interval(secs => i * 69)
            from public.environments e
            cross join (values ('cpu'), ('memory'), ('disk'), ('ping')) m(metric)
            cross join generate_series(0, %(h)s - 1) i
            where e.project_id = %(p)s
            """,
            {"p": project_id, "h": spec.health_points_per_metric},
        )
        timings["health_checks"] = time.perf_counter() - t0
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        t0 = time.perf_counter()
        # health_checks and its roll-up are vacuumed too, as autovacuum would within a minute
        # (migrations ...190000, ...20261206061000): health_sparklines reads them by index-only
        # scans once pages are all-visible.
        conn.execute("vacuum (analyze) public.health_checks")
        conn.execute("vacuum (analyze) public.health_rollup")
        for table in ("dependencies", "configurations", "environments"):
            conn.execute(f"analyze public.{table}")
        timings["analyze"] = time.perf_counter() - t0
    return timings
