-- The Dependencies view's "drifted" count from SQL too (issue 16, "the team-wide summary
-- counts come from SQL"): dependency_summary (migration 20261206210000) counted packages,
-- vulnerable and missing; a big project's "N drifted" was the count of the rows read so far
-- until the last page arrived (18-22 s at 1M rows).
--
-- "Drifted" is a package whose row has a cell other than MATCHES (core/drift.py). Most of that
-- needs no version grammar, and SQL settles it:
-- - the baseline lacks the package (every cell that has it DIFFERS at least);
-- - the baseline has it and an environment shown lacks it (MISSING);
-- - some row of it, baseline or environment shown, is not 'healthy' (vulnerable: VULNERABLE,
--   VIOLATES or ACCEPTED; outdated: OUTDATED or VIOLATES; none of them is MATCHES).
-- What is left is a package in the baseline and in every environment shown, all healthy: its
-- cells are MATCHES, DIFFERS or VIOLATES by each ecosystem's version grammar (an equal
-- version, a satisfied constraint; core/versions.py), which only the client applies. For
-- those, `undecided` holds what decides it and nothing else: per package its manager, the
-- baseline's set of (version, constraint) and the distinct sets the environments have (a
-- place's cell depends only on its own set and the baseline's). The client counts them
-- (core/drift_summary.py) and adds `drifted`. Usually few sets: at 1M rows (500 machines ×
-- 2,000 packages, 2 versions each) 2,000 packages of 2 sets.
--
-- Cost: the same per-name pass as before, an index-only scan in (manager, name, environment)
-- order, now also reading each row's constraint and status: dependencies_project_package_idx
-- includes them (rebuilt below; same key columns, so the pages that use it are unchanged).
-- Where a place holds several rows of a package (npm copies, Cargo's two majors, two
-- spellings) or the environments' constraints differ with none in the baseline, that
-- package's sets are built from its rows: few packages. At 1M rows as alice (psycopg, 6
-- alternating runs each): 0.83-0.97 s against 0.57-0.91 s for the counts without "drifted";
-- a distinct of (version, constraint) pairs per name instead cost 1.1-1.5 s.

drop index public.dependencies_project_package_idx;
create index dependencies_project_package_idx on public.dependencies
  (project_id, package_manager, package_name collate "C", environment_id, resolved_version)
  include (version_constraint, status);

drop function public.dependency_summary(uuid, uuid[], date);
drop function private.dependency_summary(uuid, uuid[], date);

create function private.dependency_summary(
  p_project uuid, p_environments uuid[], p_today date
) returns table (
  packages bigint, vulnerable bigint, missing bigint, drifted bigint, undecided jsonb
)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_width integer;
  v_risky boolean;
begin
  if (select auth.role()) is distinct from 'service_role'
     and not exists (select 1 from private.my_project_ids() as m(id) where m.id = p_project) then
    return;
  end if;
  select count(distinct e) into v_width from unnest(coalesce(p_environments, '{}')) as e;
  select exists (select 1 from public.accepted_risks r
                 where r.project_id = p_project and r.until >= p_today) into v_risky;
  return query
    with shown as (
      select distinct x as e from unnest(coalesce(p_environments, '{}')) as x where x is not null
    ),
    -- Per name as stored: in the order of dependencies_project_package_idx, an index-only scan
    -- (no sort of the project's rows; counting distinct environments needs that order). The
    -- index includes constraint and status: per name also whether all are healthy, the
    -- baseline's (version, constraint) rows, and the environments' distinct versions and
    -- distinct constraints (each sorted apart: a distinct of pairs cost ~0.4 s more at 1M).
    per_name_rows as (
      select d.package_manager as m, d.package_name collate "C" as n,
             bool_or(d.environment_id is null) as in_baseline,
             count(distinct d.environment_id) as places,
             count(*) as rows,
             bool_and(d.status = 'healthy') as ok,
             to_jsonb(array_agg(array[d.resolved_version, d.version_constraint])
               filter (where d.environment_id is null)) as baseline,
             bool_or(d.environment_id is null and d.version_constraint is not null)
               as base_wants,
             array_agg(distinct d.resolved_version)
               filter (where d.environment_id is not null) as versions,
             array_agg(distinct d.version_constraint)
               filter (where d.environment_id is not null) as wants
      from public.dependencies d
      where d.project_id = p_project
        and (d.environment_id is null or d.environment_id in (select s.e from shown s))
      group by d.package_manager, d.package_name collate "C"
    ),
    -- Where each place holds one row of the name, the environments' distinct sets are one a
    -- version, with their constraint: the one they all share, or none when the baseline has
    -- one (a version is judged by the baseline's constraint then: core/drift_sets.py
    -- constraint_for). `mixed`: no constraint in the baseline and several among the
    -- environments: the pairs are needed, and are built from the rows below.
    per_name as (
      select a.m, a.n, a.in_baseline, a.places, a.rows, a.ok, a.baseline,
             not a.base_wants and coalesce(cardinality(a.wants), 0) > 1 as mixed,
             (select jsonb_agg(jsonb_build_array(jsonb_build_array(
                       v.v, case when a.base_wants then null else a.wants[1] end)))
              from unnest(a.versions) as v(v)) as singles
      from per_name_rows a
    ),
    -- Names with a vulnerable version that is not an accepted risk (few rows: status is not
    -- in that index, so this is a scan of its own).
    vulnerable as (
      select distinct r.m, r.n
      from (select distinct d.package_manager as m, d.package_name collate "C" as n,
                   d.resolved_version as v
            from public.dependencies d
            where d.project_id = p_project and d.status = 'vulnerable'
              and (d.environment_id is null or d.environment_id in (select s.e from shown s))) r
      where r.v is null or not v_risky
         or not exists (select 1 from public.package_advisories a
                        where a.package_manager = r.m and a.package_name = r.n
                          and a.version = r.v)
         or exists (
           select 1 from public.package_advisories a
           where a.package_manager = r.m and a.package_name = r.n and a.version = r.v
             and not exists (
               select 1 from public.accepted_risks k
               where k.project_id = p_project and k.until >= p_today
                 and (k.advisory_id = a.advisory_id or k.advisory_id = any (a.aliases))))
    ),
    -- Per package: its names (one, but for a second spelling), the key computed once a name.
    -- `several`: a place holds more than one row of it (or it has two spellings, or mixed
    -- constraints): its sets are built from its rows below.
    by_key as (
      select p.m, private.package_key(p.m, p.n) as k, array_agg(p.n) as names,
             count(*) as spellings, bool_or(p.in_baseline) as in_baseline,
             max(p.places) as places,
             bool_or(p.rows > p.places + p.in_baseline::integer or p.mixed) as several,
             bool_or(exists (select 1 from vulnerable v where v.m = p.m and v.n = p.n))
               as vulnerable,
             bool_and(p.ok) as ok,
             (array_agg(p.baseline))[1] as baseline,
             (array_agg(p.singles))[1] as singles
      from per_name p
      group by p.m, private.package_key(p.m, p.n)
    ),
    -- Distinct environments of a package with a second spelling (per name is not enough).
    packages as (
      select k.m, k.k, k.names, k.spellings, k.in_baseline, k.vulnerable, k.ok, k.baseline,
             k.singles, k.several or k.spellings > 1 as several,
             case when k.spellings = 1 then k.places
             else (select count(distinct d.environment_id)
                   from public.dependencies d
                   where d.project_id = p_project and d.package_manager = k.m
                     and d.package_name = any (k.names)
                     and d.environment_id in (select s.e from shown s))
             end as places
      from by_key k
    ),
    -- What only the version grammar decides: in the baseline, in every environment shown,
    -- all healthy.
    open as (
      select x.m, x.k, x.names, x.several, x.baseline, x.singles
      from packages x
      where x.in_baseline and x.ok and x.places >= v_width
    ),
    -- A package whose places hold several rows: each place's set from its rows.
    exact_places as (
      select o.m, o.k, d.environment_id as e,
             jsonb_agg(jsonb_build_array(d.resolved_version, d.version_constraint)
                       order by d.resolved_version, d.version_constraint) as vs
      from open o
      join public.dependencies d
        on d.project_id = p_project and d.package_manager = o.m and d.package_name = any (o.names)
      where o.several
        and (d.environment_id is null or d.environment_id in (select s.e from shown s))
      group by o.m, o.k, d.environment_id
    ),
    exact as (
      select q.m, q.k,
             (array_agg(q.vs) filter (where q.e is null))[1] as baseline,
             coalesce(jsonb_agg(distinct q.vs) filter (where q.e is not null), '[]') as sets
      from exact_places q
      group by q.m, q.k
    ),
    decided as (
      select count(*) as packages,
             count(*) filter (where x.vulnerable) as vulnerable,
             count(*) filter (where x.in_baseline and x.places < v_width) as missing,
             count(*) filter (where not (x.in_baseline and x.ok and x.places >= v_width))
               as drifted
      from packages x
    )
    select d.packages, d.vulnerable, d.missing, d.drifted,
           (select coalesce(jsonb_agg(case when o.several then
                      jsonb_build_array(o.m, e.baseline, e.sets)
                    else jsonb_build_array(o.m, o.baseline, coalesce(o.singles, '[]'))
                    end), '[]')
            from open o left join exact e on e.m = o.m and e.k = o.k)
    from decided d;
end
$$;
comment on function private.dependency_summary(uuid, uuid[], date) is
  'PERMISSIONS.md dependencies read: members (dependencies_select applied once, then one scan)';
revoke all on function private.dependency_summary(uuid, uuid[], date) from public, anon;
grant execute on function private.dependency_summary(uuid, uuid[], date)
  to authenticated, service_role;

-- What clients call (security invoker, no definer in public). p_today: the client's date, the
-- day its matrix judges accepted risks by (UTC when not given).
create function public.dependency_summary(
  p_project uuid, p_environments uuid[],
  p_today date default (pg_catalog.now() at time zone 'utc')::date
) returns table (
  packages bigint, vulnerable bigint, missing bigint, drifted bigint, undecided jsonb
)
language sql stable security invoker set search_path = ''
as $$
  select * from private.dependency_summary(p_project, p_environments, p_today)
$$;
revoke all on function public.dependency_summary(uuid, uuid[], date) from public, anon;
grant execute on function public.dependency_summary(uuid, uuid[], date)
  to authenticated, service_role;
