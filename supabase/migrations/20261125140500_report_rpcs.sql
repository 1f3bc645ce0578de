-- What machines report: their dependency sets and health points.

-- Replaces the dependency set of one scope (null environment = the project baseline) with
-- p_packages. Unchanged rows are left alone so a steady report makes no change events.
-- No permission check: callers check first.
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

  select coalesce(jsonb_agg(r order by r.package_manager, r.package_name), '[]'::jsonb)
    into v_rows
    from (
      select distinct on (v ->> 'package_manager', v ->> 'package_name')
        v ->> 'package_manager' as package_manager,
        v ->> 'package_name' as package_name,
        v ->> 'version_constraint' as version_constraint,
        v ->> 'resolved_version' as resolved_version,
        coalesce(v ->> 'status', 'healthy') as status
      from jsonb_array_elements(p_packages) with ordinality e(v, n)
      order by v ->> 'package_manager', v ->> 'package_name', n desc
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

  insert into public.dependencies as d
    (project_id, environment_id, package_manager, package_name, version_constraint,
     resolved_version, status)
  select p_project_id, p_environment_id, r.package_manager, r.package_name,
         r.version_constraint, r.resolved_version, r.status
  from jsonb_to_recordset(v_rows) r(package_manager text, package_name text,
                                    version_constraint text, resolved_version text, status text)
  on conflict on constraint dependencies_scope_package do update
    set version_constraint = excluded.version_constraint,
        resolved_version = excluded.resolved_version,
        status = excluded.status
    where (d.version_constraint, d.resolved_version, d.status)
          is distinct from (excluded.version_constraint, excluded.resolved_version,
                            excluded.status);

  delete from public.dependencies d
  where d.project_id = p_project_id
    and d.environment_id is not distinct from p_environment_id
    and not exists (
      select 1 from jsonb_to_recordset(v_rows) r(package_manager text, package_name text)
      where r.package_manager = d.package_manager and r.package_name = d.package_name);

  v_count := jsonb_array_length(v_rows);
  return v_count;
end
$$;
comment on function private.store_dependencies(uuid, uuid, jsonb) is
  'PERMISSIONS.md dependencies: internal writer, callers check the rule first (not granted to users)';

create or replace function private.report_dependencies(
  p_project_id uuid, p_environment_id uuid, p_packages jsonb
) returns integer
language plpgsql security definer set search_path = ''
as $$
begin
  if not coalesce(private.can_write_scope(p_project_id, p_environment_id), false) then
    raise exception '%', case when p_environment_id is null
        then 'you may not report the dependency baseline of this project'
        else 'you may not report dependencies of this environment' end
      using errcode = '42501';
  end if;
  return private.store_dependencies(p_project_id, p_environment_id, p_packages);
end
$$;
comment on function private.report_dependencies(uuid, uuid, jsonb) is
  'PERMISSIONS.md dependencies: baseline by admins, members; env-specific by admins, env owner';

create or replace function private.report_health(p_environment_id uuid, p_points jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_count integer;
begin
  if p_environment_id is null
     or not (p_environment_id in (select private.my_admin_env_ids())
             or p_environment_id in (select private.my_owned_env_ids())) then
    raise exception 'you may not report health for this environment' using errcode = '42501';
  end if;
  if p_points is null or jsonb_typeof(p_points) <> 'array' then
    raise exception 'points must be a JSON array' using errcode = '22023';
  end if;
  if jsonb_array_length(p_points) > 5000 then
    raise exception 'at most 5,000 health points per report (got %)', jsonb_array_length(p_points)
      using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_points) e(v)
    where jsonb_typeof(v) <> 'object'
       or coalesce(v ->> 'metric_type', '') not in ('cpu', 'memory', 'disk', 'ping')
  ) then
    raise exception 'every point needs metric_type cpu, memory, disk or ping'
      using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_points) e(v)
    where jsonb_typeof(v -> 'value') is distinct from 'object'
  ) then
    raise exception 'every point needs a JSON object as value' using errcode = '22023';
  end if;
  insert into public.health_checks (environment_id, metric_type, value, recorded_at)
  select p_environment_id, v ->> 'metric_type', v -> 'value',
         coalesce((v ->> 'recorded_at')::timestamptz, now())
  from jsonb_array_elements(p_points) e(v)
  on conflict (environment_id, metric_type, recorded_at) do nothing;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function private.report_health(uuid, jsonb) is
  'PERMISSIONS.md health_checks create: admins, env owner (the machine''s agent)';

create or replace function public.report_dependencies(
  p_project_id uuid, p_environment_id uuid, p_packages jsonb
) returns integer
language sql set search_path = ''
as $$ select private.report_dependencies(p_project_id, p_environment_id, p_packages) $$;

create or replace function public.report_health(p_environment_id uuid, p_points jsonb)
returns integer
language sql set search_path = ''
as $$ select private.report_health(p_environment_id, p_points) $$;

revoke all on function private.store_dependencies(uuid, uuid, jsonb)
  from public, anon, authenticated;
revoke all on function
  private.report_dependencies(uuid, uuid, jsonb), private.report_health(uuid, jsonb),
  public.report_dependencies(uuid, uuid, jsonb), public.report_health(uuid, jsonb)
  from public, anon;
grant execute on function
  private.report_dependencies(uuid, uuid, jsonb), private.report_health(uuid, jsonb),
  public.report_dependencies(uuid, uuid, jsonb), public.report_health(uuid, jsonb)
  to authenticated, service_role;
