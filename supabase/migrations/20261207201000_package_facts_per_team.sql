-- Package facts per team (a security fix). Migration 20261205120100 stored what OSV and the
-- registries say about a name@version once for everyone, written by the scans of any team that
-- runs the version. Running a version takes one `report_dependencies` call in a team of one's
-- own, so any signed-in user could replace the advisories every other team sees for lodash
-- 4.17.20 (a fake LOW advisory instead of the real HIGH one, or none), and with it which
-- accepted risks apply; likewise `latest` and `wanted`.
--
-- Now each team keeps its own facts: `team_id` is part of each table's key; a report writes
-- the facts of the versions (packages) the caller may report, for the team of each project
-- that runs them; a team member reads its team's facts only (RLS), and `project_advisories`,
-- `project_freshness` and `dependency_summary` read the project's team's. Another team's scan
-- changes nothing a team sees. The cost: each team asks OSV and the registries for itself
-- (its machines cache answers for a day, as before). Existing facts are kept, copied to every
-- team that runs the version (the package), as each of those teams could read them before.

-- Keys and links: (team_id, …) everywhere.
alter table public.package_advisories
  drop constraint package_advisories_package_manager_package_name_version_fkey;
alter table public.package_advisories drop constraint package_advisories_pkey;
alter table public.package_advisory_checks drop constraint package_advisory_checks_pkey;
alter table public.package_freshness drop constraint package_freshness_pkey;
alter table public.package_advisory_checks add column team_id uuid;
alter table public.package_advisories add column team_id uuid;
alter table public.package_freshness add column team_id uuid;

create temporary table facts_runs on commit drop as
  select distinct p.team_id, d.package_manager, d.package_name, d.resolved_version as version
  from public.dependencies d join public.projects p on p.id = d.project_id
  where d.kind = 'registry' and d.resolved_version is not null;
insert into public.package_advisory_checks (team_id, package_manager, package_name, version,
                                            checked_at)
  select r.team_id, k.package_manager, k.package_name, k.version, k.checked_at
  from public.package_advisory_checks k
  join facts_runs r using (package_manager, package_name, version);
insert into public.package_advisories (team_id, package_manager, package_name, version,
                                       advisory_id, aliases, severity, summary, fixed_version)
  select r.team_id, a.package_manager, a.package_name, a.version, a.advisory_id, a.aliases,
         a.severity, a.summary, a.fixed_version
  from public.package_advisories a
  join facts_runs r using (package_manager, package_name, version);
insert into public.package_freshness (team_id, package_manager, package_name,
                                      version_constraint, latest, wanted, checked_at)
  select r.team_id, f.package_manager, f.package_name, f.version_constraint, f.latest,
         f.wanted, f.checked_at
  from public.package_freshness f
  join (select distinct team_id, package_manager, package_name from facts_runs) r
    using (package_manager, package_name);
delete from public.package_advisories where team_id is null;
delete from public.package_advisory_checks where team_id is null;
delete from public.package_freshness where team_id is null;

alter table public.package_advisory_checks
  alter column team_id set not null,
  add primary key (team_id, package_manager, package_name, version),
  add foreign key (team_id) references public.teams (id) on delete cascade;
alter table public.package_advisories
  alter column team_id set not null,
  add primary key (team_id, package_manager, package_name, version, advisory_id),
  add foreign key (team_id, package_manager, package_name, version)
    references public.package_advisory_checks on delete cascade;
alter table public.package_freshness
  alter column team_id set not null,
  add primary key (team_id, package_manager, package_name, version_constraint),
  add foreign key (team_id) references public.teams (id) on delete cascade;
create index package_advisories_team_id_idx on public.package_advisories (team_id);

-- Reading: a team's members, their team's facts.
drop policy package_advisory_checks_select on public.package_advisory_checks;
drop policy package_advisories_select on public.package_advisories;
drop policy package_freshness_select on public.package_freshness;
create policy package_advisory_checks_select on public.package_advisory_checks
  for select to authenticated using (team_id in (select private.my_team_ids()));
comment on policy package_advisory_checks_select on public.package_advisory_checks is
  'PERMISSIONS.md package facts read: the team''s members, their team''s facts';
create policy package_advisories_select on public.package_advisories
  for select to authenticated using (team_id in (select private.my_team_ids()));
comment on policy package_advisories_select on public.package_advisories is
  'PERMISSIONS.md package facts read: the team''s members, their team''s facts';
create policy package_freshness_select on public.package_freshness
  for select to authenticated using (team_id in (select private.my_team_ids()));
comment on policy package_freshness_select on public.package_freshness is
  'PERMISSIONS.md package facts read: the team''s members, their team''s facts';

-- Writing: the facts of p_facts for the versions p_environment_id (a machine's) or, when
-- null, the caller may report, each stored for the team that runs it.
create or replace function private.store_package_facts(p_environment_id uuid, p_facts jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_checks jsonb := coalesce(p_facts -> 'advisories', '[]'::jsonb);
  v_fresh jsonb := coalesce(p_facts -> 'freshness', '[]'::jsonb);
  v_count integer := 0;
  v_n integer;
begin
  if p_facts is null or jsonb_typeof(p_facts) <> 'object'
     or jsonb_typeof(v_checks) <> 'array' or jsonb_typeof(v_fresh) <> 'array' then
    raise exception 'facts must be a JSON object with arrays advisories and freshness'
      using errcode = '22023';
  end if;
  if jsonb_array_length(v_checks) > 20000 or jsonb_array_length(v_fresh) > 20000 then
    raise exception 'at most 20,000 versions and 20,000 packages per report'
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(v_checks) e(v)
             where jsonb_typeof(v) <> 'object'
                or jsonb_typeof(coalesce(v -> 'advisories', '[]')) <> 'array'
                or jsonb_array_length(coalesce(v -> 'advisories', '[]')) > 200
                or (v ->> 'checked_at') is null)
     or exists (select 1 from jsonb_array_elements(v_fresh) e(v)
                where jsonb_typeof(v) <> 'object' or (v ->> 'checked_at') is null) then
    raise exception 'every fact needs checked_at, and at most 200 advisories per version'
      using errcode = '22023';
  end if;

  create temporary table if not exists pg_temp.facts_team_allowed (
    team_id uuid, package_manager text, package_name text, resolved_version text
  ) on commit drop;
  truncate pg_temp.facts_team_allowed;
  insert into pg_temp.facts_team_allowed
    select distinct p.team_id, d.package_manager, d.package_name, d.resolved_version
    from public.dependencies d join public.projects p on p.id = d.project_id
    where d.kind = 'registry'
      and case when p_environment_id is not null then d.environment_id = p_environment_id
          else (d.environment_id is null and d.project_id in (select private.my_writer_project_ids()))
               or (d.environment_id is not null
                   and (d.project_id in (select private.my_admin_project_ids())
                        or d.environment_id in (select private.my_owned_env_ids())))
          end;

  -- advisories: a version's list is replaced whole, unless what is stored is newer
  create temporary table if not exists pg_temp.facts_team_checks (
    team_id uuid, package_manager text, package_name text, version text,
    checked_at timestamptz, advisories jsonb
  ) on commit drop;
  truncate pg_temp.facts_team_checks;
  insert into pg_temp.facts_team_checks
    select distinct on (a.team_id, c.package_manager, c.package_name, c.version)
      a.team_id, c.package_manager, c.package_name, c.version, c.checked_at,
      coalesce(c.advisories, '[]')
    from jsonb_to_recordset(v_checks) c(package_manager text, package_name text, version text,
                                        checked_at timestamptz, advisories jsonb)
    join pg_temp.facts_team_allowed a
      on a.package_manager = c.package_manager and a.package_name = c.package_name
     and a.resolved_version = c.version
    where c.checked_at <= now() + interval '5 minutes'
      and not exists (select 1 from public.package_advisory_checks k
                      where k.team_id = a.team_id and k.package_manager = c.package_manager
                        and k.package_name = c.package_name and k.version = c.version
                        and k.checked_at >= c.checked_at)
    order by a.team_id, c.package_manager, c.package_name, c.version, c.checked_at desc;

  insert into public.package_advisory_checks as k
    (team_id, package_manager, package_name, version, checked_at)
  select c.team_id, c.package_manager, c.package_name, c.version, c.checked_at
  from pg_temp.facts_team_checks c
  on conflict (team_id, package_manager, package_name, version)
    do update set checked_at = excluded.checked_at;
  get diagnostics v_n = row_count;
  v_count := v_count + v_n;
  delete from public.package_advisories p using pg_temp.facts_team_checks c
    where p.team_id = c.team_id and p.package_manager = c.package_manager
      and p.package_name = c.package_name and p.version = c.version;
  insert into public.package_advisories
    (team_id, package_manager, package_name, version, advisory_id, aliases, severity,
     summary, fixed_version)
  select distinct on (c.team_id, c.package_manager, c.package_name, c.version, a.id)
    c.team_id, c.package_manager, c.package_name, c.version, a.id,
    coalesce(array(select jsonb_array_elements_text(coalesce(a.aliases, '[]'))), '{}'),
    a.severity, a.summary, a.fixed_version
  from pg_temp.facts_team_checks c,
       jsonb_to_recordset(c.advisories) a(id text, aliases jsonb, severity text, summary text,
                                          fixed_version text);

  -- freshness, per team and (package, constraint)
  insert into public.package_freshness as f
    (team_id, package_manager, package_name, version_constraint, latest, wanted, checked_at)
  select distinct on (t.team_id, r.package_manager, r.package_name,
                      coalesce(r.version_constraint, ''))
    t.team_id, r.package_manager, r.package_name, coalesce(r.version_constraint, ''),
    r.latest, r.wanted, r.checked_at
  from jsonb_to_recordset(v_fresh) r(package_manager text, package_name text,
       version_constraint text, latest text, wanted text, checked_at timestamptz)
  join (select distinct a.team_id, a.package_manager, a.package_name
        from pg_temp.facts_team_allowed a) t
    on t.package_manager = r.package_manager and t.package_name = r.package_name
  where r.checked_at <= now() + interval '5 minutes'
  order by t.team_id, r.package_manager, r.package_name, coalesce(r.version_constraint, ''),
           r.checked_at desc
  on conflict (team_id, package_manager, package_name, version_constraint) do update
    set latest = excluded.latest, wanted = excluded.wanted, checked_at = excluded.checked_at
    where f.checked_at < excluded.checked_at;
  get diagnostics v_n = row_count;
  v_count := v_count + v_n;
  truncate pg_temp.facts_team_allowed, pg_temp.facts_team_checks;
  return v_count;
end
$$;
comment on function private.store_package_facts(uuid, jsonb) is
  'PERMISSIONS.md package facts write: for versions the caller (or the machine) reports, per team';

-- What is known about the versions a project runs: its team's facts (as the caller may read).
create or replace function public.project_advisories(p_project_id uuid)
returns setof public.package_advisories
language sql stable set search_path = ''
as $$
  select a.* from public.package_advisories a
  where a.team_id = (select p.team_id from public.projects p where p.id = p_project_id)
    and exists (select 1 from public.dependencies d
                where d.project_id = p_project_id and d.package_manager = a.package_manager
                  and d.package_name = a.package_name and d.resolved_version = a.version)
  order by a.package_manager, a.package_name collate "C", a.version collate "C",
           a.advisory_id collate "C"
$$;

create or replace function public.project_freshness(p_project_id uuid)
returns setof public.package_freshness
language sql stable set search_path = ''
as $$
  select f.* from public.package_freshness f
  where f.team_id = (select p.team_id from public.projects p where p.id = p_project_id)
    and exists (select 1 from public.dependencies d
                where d.project_id = p_project_id and d.package_manager = f.package_manager
                  and d.package_name = f.package_name
                  and coalesce(d.version_constraint, '') = f.version_constraint)
  order by f.package_manager, f.package_name collate "C", f.version_constraint collate "C"
$$;

-- The summary's accepted-risk test reads the project's team's advisories (it is security
-- definer: without the filter every team's facts would count).
create or replace function private.dependency_summary(
  p_project uuid, p_environments uuid[], p_today date
) returns table (
  packages bigint, vulnerable bigint, missing bigint, drifted bigint, undecided jsonb
)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_width integer;
  v_risky boolean;
  v_team uuid := (select p.team_id from public.projects p where p.id = p_project);
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
                        where a.team_id = v_team and a.package_manager = r.m
                          and a.package_name = r.n and a.version = r.v)
         or exists (
           select 1 from public.package_advisories a
           where a.team_id = v_team and a.package_manager = r.m and a.package_name = r.n
             and a.version = r.v
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

