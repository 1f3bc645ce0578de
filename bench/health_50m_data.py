"""A reusable database of 500 machines × 2,000 packages and 50,000,000 health points (bench only).

Never used by the tests or CI: generating it takes tens of minutes and ~15 GB of disk.

What it holds (issue 16: "a generated team of 500 machines × 2,000 packages (1M rows) and 50M
health points"): the demo workspace (alice, bob, team Acme), and project "monolith" of
``bench_drift_million.generate`` (500 environments, 2,000 npm packages each plus a baseline:
1,002,000 dependency rows), plus health points: each machine reports cpu, memory, disk and ping
every 60 s (the agent's default ``interval``) for 25,000 minutes (~17.4 days) —
500 × 4 × 25,000 = 50,000,000 points. That is a team keeping ~2.5 weeks of raw points
(``rollup_health_checks(p_keep => '18 days')``); with the default 7-day retention the same
volume would be a week of minutes plus ~1.7 years of hourly points. Each machine reports at its
own second of the minute. The newest point is at ``anchor`` (stored in ``bench.health_50m``):
the benches freeze DevSync's clock just after it, so the database keeps working as "today" on
any later day.

How (chosen for 2 shared cores and the disk budget; COPY and a roll-up filled after were not
timed): the points go in by ``INSERT … SELECT generate_series`` in chunks of 2,000,000 rows
(1,000 minutes of all 2,000 series), one transaction each, oldest first, with progress printed.
Before the first chunk the four indexes of ``health_checks`` (primary key, the unique series
key, recorded_at, the series/number index of migration …190000) are dropped, their definitions
kept in ``bench.health_50m_indexes``; after the last they are built again from those definitions
(sorted builds: ~90 % full pages; point-by-point inserts split pages in the middle of the series
indexes and may leave them emptier — reads may be a little faster than on a table grown by
reports; said in bench/README.md). The roll-up's triggers stay on (ENABLE ALWAYS, statement
level with transition tables): each chunk adds its cells' sums to ``health_rollup`` as an
agent's report does. At the end the roll-up of a sample of machines is recomputed from the
points and compared (count and sum per cell, equal or the run fails), and the table is vacuumed
and analyzed.

Reuse: the data dir is ``/work/bench-data/health-50m`` (``DEVSYNC_DATA_DIR``; override with
``--data-dir``). A finished database is detected by ``bench.health_50m.done`` and reused as is;
an interrupted run resumes at its next chunk. Delete the directory to start over.

Usage: python bench/health_50m_data.py [--data-dir DIR]  (prints the server URL at the end)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

DEFAULT_DIR = Path("/work/bench-data/health-50m")
ENVIRONMENTS = 500
PACKAGES = 2000
MINUTES = 25_000
METRICS = ("cpu", "memory", "disk", "ping")
CHUNK_MINUTES = 1_000  # 500 × 4 × 1,000 = 2,000,000 rows per transaction
SAMPLE_MACHINES = 5

_META = """
create schema if not exists bench;
create table if not exists bench.health_50m (
  anchor timestamptz not null,
  minutes_done integer not null default 0,
  indexes_built boolean not null default false,
  done boolean not null default false,
  seconds double precision not null default 0
);
create table if not exists bench.health_50m_indexes (name text primary key, definition text)
"""

_POINTS = """
insert into public.health_checks (environment_id, metric_type, value, recorded_at)
select e.id, m.metric,
       case when m.metric = 'ping'
            then jsonb_build_object('ms', round((5 + 20 * random())::numeric, 1))
            else jsonb_build_object(
              'percent', round((30 + 30 * sin((i + e.n) / 40.0) + 10 * random())::numeric, 1))
       end,
       %(anchor)s::timestamptz - make_interval(secs => i * 60 + e.n %% 60)
from generate_series(%(hi)s, %(lo)s, -1) i
cross join (select id, (row_number() over (order by name))::int as n
            from public.environments where project_id = %(project)s) e
cross join (values ('cpu'), ('memory'), ('disk'), ('ping')) m(metric)
"""

_ROLLUP_CHECK = """
with env as (
  select id from public.environments where project_id = %(project)s order by name limit %(k)s
),
points as (
  select c.environment_id, c.metric_type,
         date_bin('12 minutes', c.recorded_at, timestamptz '1970-01-01 00:00:00+00') as cell,
         count(*) as n,
         sum(coalesce((c.value ->> 'percent')::float8, (c.value ->> 'ms')::float8)) as s
  from public.health_checks c join env on env.id = c.environment_id
  group by 1, 2, 3
),
kept as (
  select r.environment_id, r.metric_type, r.bucket_start as cell, r.n, r.sum as s
  from public.health_rollup r join env on env.id = r.environment_id
)
select (select count(*) from points), (select count(*) from kept),
       (select count(*) from points p full join kept k
          on (k.environment_id, k.metric_type, k.cell) = (p.environment_id, p.metric_type, p.cell)
        where p.n is distinct from k.n or abs(p.s - k.s) > 1e-6 * greatest(1, abs(p.s))
           or p.s is null or k.s is null)
"""


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def _use(data_dir: Path) -> str:
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    return local.ensure_running()


def prepare(data_dir: Path = DEFAULT_DIR) -> str:
    """The URL of the (started) 50M database, generating or finishing it first if needed."""
    from bench_drift_million import PROJECT
    from bench_drift_million import generate as generate_dependencies

    data_dir.mkdir(parents=True, exist_ok=True)
    url = _use(data_dir)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_META)
        row = conn.execute(
            "select anchor, minutes_done, indexes_built, done, seconds from bench.health_50m"
        ).fetchone()
        if row is not None and row[3]:
            say(f"reusing the 50M database in {data_dir} (anchor {row[0]})")
            return url
        if row is None:
            say(f"generating {ENVIRONMENTS} machines × {PACKAGES} packages in {data_dir}")
            t0 = time.perf_counter()
            rows = generate_dependencies(url, ENVIRONMENTS, PACKAGES)
            anchor = conn.execute(
                "select date_bin('1 minute', now(), timestamptz '1970-01-01') - interval '1 minute'"
            ).fetchone()
            assert anchor is not None
            conn.execute(
                "insert into bench.health_50m (anchor, seconds) values (%s, %s)",
                (anchor[0], time.perf_counter() - t0),
            )
            say(f"{rows} dependency rows in {time.perf_counter() - t0:.0f} s")
            row = conn.execute(
                "select anchor, minutes_done, indexes_built, done, seconds from bench.health_50m"
            ).fetchone()
            assert row is not None
        anchor, done_minutes, built, _done, _seconds = row
        _drop_indexes(conn)
        total = ENVIRONMENTS * len(METRICS) * MINUTES
        started = time.perf_counter()
        while done_minutes < MINUTES:
            # oldest first: minutes before the anchor, from MINUTES - 1 down to 0
            hi = MINUTES - 1 - done_minutes
            lo = max(0, hi - CHUNK_MINUTES + 1)
            t0 = time.perf_counter()
            with conn.transaction():
                conn.execute("set local statement_timeout = 0")
                conn.execute("set local work_mem = '256MB'")
                cur = conn.execute(
                    _POINTS, {"anchor": anchor, "hi": hi, "lo": lo, "project": PROJECT.id}
                )
                conn.execute(
                    "update bench.health_50m set minutes_done = %s, seconds = seconds + %s",
                    (done_minutes + hi - lo + 1, time.perf_counter() - t0),
                )
            done_minutes += hi - lo + 1
            points = ENVIRONMENTS * len(METRICS) * done_minutes
            free = shutil.disk_usage(data_dir).free / 2**30
            size = _size(data_dir) / 2**30
            say(
                f"{points:,} / {total:,} points (+{cur.rowcount:,} in"
                f" {time.perf_counter() - t0:.1f} s; {time.perf_counter() - started:.0f} s so far;"
                f" data dir {size:.1f} GiB, disk free {free:.0f} GiB)"
            )
        finishing = time.perf_counter()  # the chunks counted their own seconds
        if not built:
            _build_indexes(conn)
        say("vacuum (analyze) health_checks, analyze health_rollup")
        t0 = time.perf_counter()
        conn.execute("vacuum (analyze) public.health_checks")
        conn.execute("vacuum (analyze) public.health_rollup")
        say(f"vacuumed in {time.perf_counter() - t0:.0f} s")
        _check_rollup(conn, PROJECT.id)
        conn.execute(
            "update bench.health_50m set done = true, seconds = seconds + %s",
            (time.perf_counter() - finishing,),
        )
        final = conn.execute("select seconds from bench.health_50m").fetchone()
        spent = final[0] if final else 0.0
        say(f"done: {_size(data_dir) / 2**30:.1f} GiB in {data_dir}; {spent:.0f} s of generation")
    return url


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _drop_indexes(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Keep the definitions of health_checks' indexes, then drop them (once)."""
    kept = conn.execute("select count(*) from bench.health_50m_indexes").fetchone()
    if kept and kept[0]:
        return
    with conn.transaction():
        conn.execute(
            """
            insert into bench.health_50m_indexes (name, definition)
            select coalesce(con.conname, i.relname),
                   case when con.oid is not null
                        then 'alter table public.health_checks add constraint '
                             || quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid)
                        else pg_get_indexdef(i.oid) end
            from pg_index x
            join pg_class i on i.oid = x.indexrelid
            left join pg_constraint con on con.conindid = x.indexrelid
              and con.conrelid = x.indrelid
            where x.indrelid = 'public.health_checks'::regclass
            """
        )
        for name, is_constraint in conn.execute(
            """
            select i.relname, con.conname
            from pg_index x join pg_class i on i.oid = x.indexrelid
            left join pg_constraint con on con.conindid = x.indexrelid and con.conrelid = x.indrelid
            where x.indrelid = 'public.health_checks'::regclass
            """
        ).fetchall():
            if is_constraint:
                conn.execute(f'alter table public.health_checks drop constraint "{is_constraint}"')
            else:
                conn.execute(f'drop index public."{name}"')
    say("health_checks' indexes dropped for the load (definitions in bench.health_50m_indexes)")


def _build_indexes(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("set maintenance_work_mem = '1GB'")
    conn.execute("set statement_timeout = 0")
    for name, definition in conn.execute(
        "select name, definition from bench.health_50m_indexes order by name"
    ).fetchall():
        exists = conn.execute(
            "select 1 from pg_class where relname = %s and relnamespace = 'public'::regnamespace",
            (name,),
        ).fetchone()
        if exists:
            continue
        t0 = time.perf_counter()
        conn.execute(definition)
        say(f"built {name} in {time.perf_counter() - t0:.0f} s")
    conn.execute(
        "comment on index public.health_checks_series_number_idx is "
        "'health_sparklines: index-only scans of one environment''s points with their number'"
    )
    conn.execute("update bench.health_50m set indexes_built = true")


def _check_rollup(conn: psycopg.Connection[tuple[object, ...]], project: object) -> None:
    t0 = time.perf_counter()
    row = conn.execute(_ROLLUP_CHECK, {"project": project, "k": SAMPLE_MACHINES}).fetchone()
    assert row is not None
    cells, kept, differ = row
    say(
        f"roll-up check, {SAMPLE_MACHINES} machines: {cells} cells from the points,"
        f" {kept} in health_rollup, {differ} differ ({time.perf_counter() - t0:.0f} s)"
    )
    if differ or cells != kept:
        raise SystemExit("health_rollup does not match the points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    print(prepare(args.data_dir), flush=True)


if __name__ == "__main__":
    main()
