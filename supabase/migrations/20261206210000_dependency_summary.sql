-- The Dependencies view's team-wide counts from SQL (issue 16, "the team-wide summary counts
-- come from SQL"): how many packages a project has across its baseline and the environments
-- shown, how many have a vulnerable version (one not every known advisory of which is an
-- accepted risk), and how many the baseline has and some environment shown lacks. The view
-- reads a big project a page at a time; these counts are whole from the first page on.
--
-- They are the matrix's own counts (core/drift.py), so that the status line says the same
-- thing before and after the last page arrives (tests/db/test_dependency_summary.py builds the
-- matrix of the same rows and compares):
-- - a package is one (manager, key) as the client groups names: PEP 503 for pip, case and
--   - / _ ignored for cargo, npm and gem names exactly; names stripped (core/names.py);
-- - vulnerable: some row of the package, in the baseline or an environment shown, has status
--   'vulnerable', and its version is not accepted: a version is accepted when it has a known
--   advisory and every one of them is accepted today by the project (accepted_risks by the
--   advisory's id or an alias, until >= p_today), as core/drift_facts.accepted_versions;
-- - missing: the baseline has the package and at least one environment shown has no row of it
--   (a cell in state MISSING).
-- What is not counted here: "drifted" (a cell other than MATCHES) needs each ecosystem's
-- version grammar (a version equal to the baseline's, a constraint satisfied), which the client
-- applies (core/versions.py); the view counts it from the rows it has read.
--
-- Cost (measured on the 1,002,000 rows of bench/bench_drift_million.py, as alice): ~0.7 s, an
-- index-only scan in (manager, name, environment) order; the key is computed once per distinct
-- name, not per row (a regexp per row, and a sort of the rows by key, took 8-11 s). The view
-- asks for these counts only while a big project's pages still arrive.

-- The key under which the client's core/names.package_key groups a package's names. Whitespace
-- is what Python's str.strip() removes, as in private.package_fold; lower case is exact for
-- ASCII (PyPI and crates.io names are ASCII).
create or replace function private.package_key(p_manager text, p_name text) returns text
language sql immutable strict parallel safe
as $$
  select case p_manager
    when 'pip' then pg_catalog.lower(pg_catalog.regexp_replace(s.name, '[-_.]+', '-', 'g'))
    when 'cargo' then pg_catalog.replace(pg_catalog.lower(s.name), '_', '-')
    else s.name
  end
  from (select pg_catalog.regexp_replace(
    p_name,
    '^[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+'
    '|[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$',
    '', 'g') as name) s
$$;
revoke all on function private.package_key(text, text) from public, anon;
grant execute on function private.package_key(text, text) to authenticated, service_role;

-- Security definer so that the scan is not filtered row by row through the dependencies
-- policy; it applies that policy's condition itself, once, as private.dependency_page does:
-- a member of the project's team, or the service role. Anyone else gets no row.
create or replace function private.dependency_summary(
  p_project uuid, p_environments uuid[], p_today date
) returns table (packages bigint, vulnerable bigint, missing bigint)
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
    -- Per name as stored: in the order of dependencies_project_package_idx (an index-only
    -- scan, no sort of the project's rows; counting distinct environments needs that order).
    per_name as (
      select d.package_manager as m, d.package_name collate "C" as n,
             bool_or(d.environment_id is null) as in_baseline,
             count(distinct d.environment_id) as places
      from public.dependencies d
      where d.project_id = p_project
        and (d.environment_id is null or d.environment_id in (select s.e from shown s))
      group by d.package_manager, d.package_name collate "C"
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
    packages as (
      select p.m, private.package_key(p.m, p.n) as k, array_agg(p.n) as names,
             count(*) as spellings, bool_or(p.in_baseline) as in_baseline,
             max(p.places) as places,
             bool_or(exists (select 1 from vulnerable v where v.m = p.m and v.n = p.n))
               as vulnerable
      from per_name p
      group by p.m, private.package_key(p.m, p.n)
    )
    select count(*),
           count(*) filter (where k.vulnerable),
           count(*) filter (
             where k.in_baseline
               and case when k.spellings = 1 then k.places
                   else (select count(distinct d.environment_id)
                         from public.dependencies d
                         where d.project_id = p_project and d.package_manager = k.m
                           and d.package_name = any (k.names)
                           and d.environment_id in (select s.e from shown s))
                   end < v_width)
    from packages k;
end
$$;
comment on function private.dependency_summary(uuid, uuid[], date) is
  'PERMISSIONS.md dependencies read: members (dependencies_select applied once, then one scan)';
revoke all on function private.dependency_summary(uuid, uuid[], date) from public, anon;
grant execute on function private.dependency_summary(uuid, uuid[], date)
  to authenticated, service_role;

-- What clients call (security invoker, no definer in public). p_today: the client's date, the
-- day its matrix judges accepted risks by (UTC when not given).
create or replace function public.dependency_summary(
  p_project uuid, p_environments uuid[],
  p_today date default (pg_catalog.now() at time zone 'utc')::date
) returns table (packages bigint, vulnerable bigint, missing bigint)
language sql stable security invoker set search_path = ''
as $$
  select * from private.dependency_summary(p_project, p_environments, p_today)
$$;
revoke all on function public.dependency_summary(uuid, uuid[], date) from public, anon;
grant execute on function public.dependency_summary(uuid, uuid[], date)
  to authenticated, service_role;
