-- What public sources say about a package version, stored once for everyone (issue 13):
-- its advisories (OSV: id, aliases, severity, summary, first fixed version) and its
-- freshness (the registry's latest stable release, and the newest release satisfying a
-- constraint). This is public registry data, not a team's: any signed-in user may read it
-- (the names and versions a team runs stay in `dependencies`, under the team's RLS; these
-- tables only say what is known about a name@version, whoever runs it). Writers are the
-- scans and agents of teams that run the version: `report_package_facts` accepts facts only
-- for a version (for freshness: a package) in a dependency row the caller may write, and a
-- machine token for its own environment's rows. An older answer never replaces a newer one.

create table public.package_advisory_checks (
  package_manager text not null check (package_manager in ('npm', 'pip', 'gem', 'cargo')),
  package_name text not null check (char_length(package_name) between 1 and 512),
  version text not null check (char_length(version) between 1 and 512),
  checked_at timestamptz not null,
  primary key (package_manager, package_name, version),
  constraint package_advisory_checks_printable
    check (package_name !~ '[[:cntrl:]]' and version !~ '[[:cntrl:]]')
);

create table public.package_advisories (
  package_manager text not null,
  package_name text not null,
  version text not null,
  advisory_id text not null check (advisory_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'),
  aliases text[] not null default '{}'
    check (cardinality(aliases) <= 50
           and array_to_string(aliases, ' ') ~ '^[A-Za-z0-9._: -]*$'
           and char_length(array_to_string(aliases, ' ')) <= 5000),
  severity text check (char_length(severity) <= 200),
  summary text check (char_length(summary) <= 1000),
  fixed_version text check (char_length(fixed_version) <= 512),
  primary key (package_manager, package_name, version, advisory_id),
  foreign key (package_manager, package_name, version)
    references public.package_advisory_checks on delete cascade,
  constraint package_advisories_printable
    check (coalesce(severity, '') !~ '[[:cntrl:]]' and coalesce(summary, '') !~ '[[:cntrl:]]'
           and coalesce(fixed_version, '') !~ '[[:cntrl:]]')
);

create table public.package_freshness (
  package_manager text not null check (package_manager in ('npm', 'pip', 'gem', 'cargo')),
  package_name text not null check (char_length(package_name) between 1 and 512),
  -- '' = no constraint (then `wanted` is null: only `latest` is known)
  version_constraint text not null default '' check (char_length(version_constraint) <= 512),
  latest text check (char_length(latest) <= 512),
  wanted text check (char_length(wanted) <= 512),
  checked_at timestamptz not null,
  primary key (package_manager, package_name, version_constraint),
  constraint package_freshness_printable
    check (package_name !~ '[[:cntrl:]]' and version_constraint !~ '[[:cntrl:]]'
           and coalesce(latest, '') !~ '[[:cntrl:]]' and coalesce(wanted, '') !~ '[[:cntrl:]]')
);

alter table public.package_advisory_checks enable row level security;
alter table public.package_advisories enable row level security;
alter table public.package_freshness enable row level security;
create policy package_advisory_checks_select on public.package_advisory_checks
  for select to authenticated using (true);
comment on policy package_advisory_checks_select on public.package_advisory_checks is
  'PERMISSIONS.md package facts read: any signed-in user (public registry data)';
create policy package_advisories_select on public.package_advisories
  for select to authenticated using (true);
comment on policy package_advisories_select on public.package_advisories is
  'PERMISSIONS.md package facts read: any signed-in user (public registry data)';
create policy package_freshness_select on public.package_freshness
  for select to authenticated using (true);
comment on policy package_freshness_select on public.package_freshness is
  'PERMISSIONS.md package facts read: any signed-in user (public registry data)';
revoke all on public.package_advisory_checks, public.package_advisories,
  public.package_freshness from anon, authenticated, service_role, public;
grant select on public.package_advisory_checks, public.package_advisories,
  public.package_freshness to authenticated;

-- The facts of p_facts ({"advisories": [...], "freshness": [...]}, docs/DATABASE.md) for the
-- versions and packages p_environment_id (a machine's) or, when null, the caller may write.
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

  create temporary table if not exists pg_temp.facts_allowed (
    package_manager text, package_name text, resolved_version text
  ) on commit drop;
  truncate pg_temp.facts_allowed;
  insert into pg_temp.facts_allowed
    select distinct d.package_manager, d.package_name, d.resolved_version
    from public.dependencies d
    where d.kind = 'registry'
      and case when p_environment_id is not null then d.environment_id = p_environment_id
          else (d.environment_id is null and d.project_id in (select private.my_writer_project_ids()))
               or (d.environment_id is not null
                   and (d.project_id in (select private.my_admin_project_ids())
                        or d.environment_id in (select private.my_owned_env_ids())))
          end;

  -- advisories: a version's list is replaced whole, unless what is stored is newer
  create temporary table if not exists pg_temp.facts_checks (
    package_manager text, package_name text, version text, checked_at timestamptz,
    advisories jsonb
  ) on commit drop;
  truncate pg_temp.facts_checks;
  insert into pg_temp.facts_checks
    select distinct on (c.package_manager, c.package_name, c.version)
      c.package_manager, c.package_name, c.version, c.checked_at, coalesce(c.advisories, '[]')
    from jsonb_to_recordset(v_checks) c(package_manager text, package_name text, version text,
                                        checked_at timestamptz, advisories jsonb)
    where exists (select 1 from pg_temp.facts_allowed a
                  where a.package_manager = c.package_manager
                    and a.package_name = c.package_name and a.resolved_version = c.version)
      and c.checked_at <= now() + interval '5 minutes'
      and not exists (select 1 from public.package_advisory_checks k
                      where k.package_manager = c.package_manager
                        and k.package_name = c.package_name and k.version = c.version
                        and k.checked_at >= c.checked_at)
    order by c.package_manager, c.package_name, c.version, c.checked_at desc;

  insert into public.package_advisory_checks as k
    (package_manager, package_name, version, checked_at)
  select c.package_manager, c.package_name, c.version, c.checked_at from pg_temp.facts_checks c
  on conflict (package_manager, package_name, version)
    do update set checked_at = excluded.checked_at;
  get diagnostics v_n = row_count;
  v_count := v_count + v_n;
  delete from public.package_advisories p using pg_temp.facts_checks c
    where p.package_manager = c.package_manager and p.package_name = c.package_name
      and p.version = c.version;
  insert into public.package_advisories
    (package_manager, package_name, version, advisory_id, aliases, severity, summary,
     fixed_version)
  select distinct on (c.package_manager, c.package_name, c.version, a.id)
    c.package_manager, c.package_name, c.version, a.id,
    coalesce(array(select jsonb_array_elements_text(coalesce(a.aliases, '[]'))), '{}'),
    a.severity, a.summary, a.fixed_version
  from pg_temp.facts_checks c,
       jsonb_to_recordset(c.advisories) a(id text, aliases jsonb, severity text, summary text,
                                          fixed_version text);

  -- freshness, per (package, constraint)
  insert into public.package_freshness as f
    (package_manager, package_name, version_constraint, latest, wanted, checked_at)
  select distinct on (r.package_manager, r.package_name, coalesce(r.version_constraint, ''))
    r.package_manager, r.package_name, coalesce(r.version_constraint, ''), r.latest,
    r.wanted, r.checked_at
  from jsonb_to_recordset(v_fresh) r(package_manager text, package_name text,
       version_constraint text, latest text, wanted text, checked_at timestamptz)
  where exists (select 1 from pg_temp.facts_allowed a
                where a.package_manager = r.package_manager and a.package_name = r.package_name)
    and r.checked_at <= now() + interval '5 minutes'
  order by r.package_manager, r.package_name, coalesce(r.version_constraint, ''),
           r.checked_at desc
  on conflict (package_manager, package_name, version_constraint) do update
    set latest = excluded.latest, wanted = excluded.wanted, checked_at = excluded.checked_at
    where f.checked_at < excluded.checked_at;
  get diagnostics v_n = row_count;
  v_count := v_count + v_n;
  truncate pg_temp.facts_allowed, pg_temp.facts_checks;
  return v_count;
end
$$;
comment on function private.store_package_facts(uuid, jsonb) is
  'PERMISSIONS.md package facts write: for versions the caller (or the machine) reports';

create or replace function private.report_package_facts(p_facts jsonb) returns integer
language plpgsql volatile security definer set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception 'sign in to report package facts' using errcode = '42501';
  end if;
  return private.store_package_facts(null, p_facts);
end
$$;
comment on function private.report_package_facts(jsonb) is
  'PERMISSIONS.md package facts write: scans and agents, for versions they may report';

create or replace function public.report_package_facts(p_facts jsonb) returns integer
language sql volatile set search_path = ''
as $$ select private.report_package_facts(p_facts) $$;

create or replace function private.machine_report_package_facts(p_facts jsonb) returns integer
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return private.store_package_facts(v_token.environment_id, p_facts);
end
$$;
comment on function private.machine_report_package_facts(jsonb) is
  'PERMISSIONS.md machine: writes the package facts of its environment''s versions';

create or replace function public.machine_report_package_facts(p_facts jsonb) returns integer
language sql volatile set search_path = ''
as $$ select private.machine_report_package_facts(p_facts) $$;

-- What is known about the versions a project runs (as the caller may read them).
create or replace function public.project_advisories(p_project_id uuid)
returns setof public.package_advisories
language sql stable set search_path = ''
as $$
  select a.* from public.package_advisories a
  where exists (select 1 from public.dependencies d
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
  where exists (select 1 from public.dependencies d
                where d.project_id = p_project_id and d.package_manager = f.package_manager
                  and d.package_name = f.package_name
                  and coalesce(d.version_constraint, '') = f.version_constraint)
  order by f.package_manager, f.package_name collate "C", f.version_constraint collate "C"
$$;

revoke all on function private.store_package_facts(uuid, jsonb) from public, anon, authenticated;
revoke all on function private.report_package_facts(jsonb), public.report_package_facts(jsonb),
  public.project_advisories(uuid), public.project_freshness(uuid) from public, anon;
grant execute on function private.report_package_facts(jsonb), public.report_package_facts(jsonb),
  public.project_advisories(uuid), public.project_freshness(uuid) to authenticated, service_role;
revoke all on function private.machine_report_package_facts(jsonb),
  public.machine_report_package_facts(jsonb) from public, authenticated, service_role;
grant execute on function private.machine_report_package_facts(jsonb),
  public.machine_report_package_facts(jsonb) to anon;
