-- Every version a machine runs (issue 13): one row per (scope, package manager, package,
-- resolved version) instead of one per package. A package npm nests at two versions, pip pins
-- under exclusive markers or Cargo locks at two majors is two rows. Each row says where the
-- package comes from (`kind`, as the lockfile parsers report it); only `registry` rows have a
-- version a registry or an advisory database knows.
--
-- Rows stored before carry over as they are: they were one version per package, so they are
-- unique under the new key too, and they came from registries (the scanner left the others
-- out), so `kind` is `registry`.

alter table public.dependencies
  add column kind text not null default 'registry',
  add constraint dependencies_kind_check
    check (kind in ('registry', 'workspace', 'path', 'editable', 'git', 'url'));

alter table public.dependencies drop constraint dependencies_scope_package;
alter table public.dependencies
  add constraint dependencies_scope_package_version
    unique nulls not distinct
    (project_id, environment_id, package_manager, package_name, resolved_version);

-- The Dependencies view pages and filters a project in the database: its order is (package
-- manager, package name bytewise, scope, version), which this index gives without a sort.
create index dependencies_project_package_idx on public.dependencies
  (project_id, package_manager, package_name collate "C", environment_id, resolved_version);

grant update (version_constraint, resolved_version, status, kind) on public.dependencies
  to authenticated;

-- Replaces the dependency set of one scope (null environment = the project baseline) with
-- p_packages, every version of a package a row. Unchanged rows are left alone so a steady
-- report makes no change events. No permission check: callers check first.
create or replace function private.store_dependencies(
  p_project_id uuid, p_environment_id uuid, p_packages jsonb
) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_rows jsonb;
  v_bad text;
  v_count integer;
begin
  if p_packages is null or jsonb_typeof(p_packages) <> 'array' then
    raise exception 'packages must be a JSON array' using errcode = '22023';
  end if;
  if jsonb_array_length(p_packages) > 20000 then
    raise exception 'at most 20,000 packages per report (got %)', jsonb_array_length(p_packages)
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_packages) e(v) where jsonb_typeof(v) <> 'object')
  then
    raise exception 'every package must be a JSON object' using errcode = '22023';
  end if;
  if not exists (select 1 from public.projects p where p.id = p_project_id) then
    raise exception 'project not found' using errcode = 'P0002';
  end if;
  if p_environment_id is not null and not exists (
    select 1 from public.environments e
    where e.id = p_environment_id and e.project_id = p_project_id
  ) then
    raise exception 'environment not found in this project' using errcode = 'P0002';
  end if;

  -- One row per (manager, name, version); a repeated one: the last wins.
  select coalesce(jsonb_agg(r), '[]'::jsonb) into v_rows
    from (
      select distinct on (v ->> 'package_manager', v ->> 'package_name', v ->> 'resolved_version')
        v ->> 'package_manager' as package_manager,
        v ->> 'package_name' as package_name,
        v ->> 'version_constraint' as version_constraint,
        v ->> 'resolved_version' as resolved_version,
        coalesce(v ->> 'status', 'healthy') as status,
        coalesce(v ->> 'kind', 'registry') as kind
      from jsonb_array_elements(p_packages) with ordinality e(v, n)
      order by v ->> 'package_manager', v ->> 'package_name', v ->> 'resolved_version', n desc
    ) r;

  select coalesce(r.package_manager, 'null') into v_bad
    from jsonb_to_recordset(v_rows) r(package_manager text)
    where r.package_manager is null or r.package_manager not in ('npm', 'pip', 'gem', 'cargo')
    limit 1;
  if found then
    raise exception 'package_manager must be npm, pip, gem or cargo (got %)', v_bad
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_to_recordset(v_rows) r(package_name text)
             where r.package_name is null or char_length(r.package_name) not between 1 and 512)
  then
    raise exception 'every package needs a package_name of 1 to 512 characters'
      using errcode = '22023';
  end if;
  select r.package_name into v_bad from jsonb_to_recordset(v_rows) r(package_name text, status text)
    where r.status not in ('healthy', 'outdated', 'vulnerable') limit 1;
  if found then
    raise exception 'status of package % must be healthy, outdated or vulnerable', v_bad
      using errcode = '22023';
  end if;
  select r.package_name into v_bad from jsonb_to_recordset(v_rows) r(package_name text, kind text)
    where r.kind not in ('registry', 'workspace', 'path', 'editable', 'git', 'url') limit 1;
  if found then
    raise exception 'kind of package % must be registry, workspace, path, editable, git or url',
      v_bad using errcode = '22023';
  end if;

  -- NOT IN over the report's keys runs as one hashed lookup per row, whatever the planner
  -- thinks of the function's size (a missing version is compared as a control character,
  -- which no stored version holds); NOT EXISTS was planned as a nested loop, quadratic in
  -- the report (1.5 s for 3,000 packages).
  delete from public.dependencies d
  where d.project_id = p_project_id
    and d.environment_id is not distinct from p_environment_id
    and (d.package_manager, d.package_name, coalesce(d.resolved_version, E'\x01')) not in (
      select r.package_manager, r.package_name, coalesce(r.resolved_version, E'\x01')
      from jsonb_to_recordset(v_rows)
        r(package_manager text, package_name text, resolved_version text));

  insert into public.dependencies as d
    (project_id, environment_id, package_manager, package_name, version_constraint,
     resolved_version, status, kind)
  select p_project_id, p_environment_id, r.package_manager, r.package_name,
         r.version_constraint, r.resolved_version, r.status, r.kind
  from jsonb_to_recordset(v_rows) r(package_manager text, package_name text,
       version_constraint text, resolved_version text, status text, kind text)
  order by r.package_manager, r.package_name, r.resolved_version
  on conflict on constraint dependencies_scope_package_version do update
    set version_constraint = excluded.version_constraint,
        status = excluded.status,
        kind = excluded.kind
    where (d.version_constraint, d.status, d.kind)
          is distinct from (excluded.version_constraint, excluded.status, excluded.kind);

  v_count := jsonb_array_length(v_rows);
  return v_count;
end
$$;
comment on function private.store_dependencies(uuid, uuid, jsonb) is
  'PERMISSIONS.md dependencies: internal writer, callers check the rule first (not granted to users)';
revoke all on function private.store_dependencies(uuid, uuid, jsonb)
  from public, anon, authenticated;

-- What the machine reported last, every version, in the list's order.
create or replace function private.machine_dependencies() returns setof public.dependencies
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return query
    select d.* from public.dependencies d
    where d.environment_id = v_token.environment_id
    order by d.package_manager, d.package_name collate "C", d.resolved_version collate "C";
end
$$;
comment on function private.machine_dependencies() is
  'PERMISSIONS.md machine: reads back its own environment''s dependencies (what it reported)';
