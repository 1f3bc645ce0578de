-- What a machine may do (PERMISSIONS.md "machine"): read its environment's effective
-- configuration and reveal its secrets, report its dependencies (reading back what it
-- reported), health, status and last_sync_at. Nothing else. Each is a machine_* RPC granted to anon alone: the environment
-- comes from the request's token (private.machine_token()), never from an argument, so a
-- machine cannot even name another environment. Table policies stay closed to anon.
--
-- Where a user RPC does the same work, both call one private body (effective_rows,
-- secret_value_audited, store_dependencies, store_health): a later change to how the data is
-- stored is made once.

-- The effective configuration of an environment, as whoever runs it (security invoker): RLS
-- decides for a user (public.effective_configuration); a definer machine RPC reads as owner.
create or replace function private.effective_rows(p_environment_id uuid)
returns table (
  configuration_id uuid, project_id uuid, environment_id uuid, key text, value text,
  is_secret boolean, type text, version integer, source text, updated_at timestamptz,
  updated_by text, overrides_id uuid
)
language sql stable set search_path = ''
as $$
  with env as (
    select e.id, e.project_id from public.environments e where e.id = p_environment_id
  ),
  defaults as (
    select c.* from public.configurations c join env on c.project_id = env.project_id
    where c.environment_id is null
  ),
  overrides as (
    select c.* from public.configurations c join env on c.environment_id = env.id
  ),
  merged as (
    select o.*, 'override'::text as source, d.id as overrides_id
    from overrides o left join defaults d on d.key = o.key
    union all
    select d.*, 'default'::text, null::uuid
    from defaults d where not exists (select 1 from overrides o where o.key = d.key)
  )
  select m.id, m.project_id, m.environment_id, m.key, m.value, m.is_secret, m.type, m.version,
         m.source, m.updated_at,
         (select p.username from public.configuration_history h
            left join public.profiles p on p.id = h.changed_by
            where h.configuration_id = m.id order by h.id desc limit 1),
         m.overrides_id
  from merged m
  order by m.key
$$;

create or replace function public.effective_configuration(p_environment_id uuid)
returns table (
  configuration_id uuid, project_id uuid, environment_id uuid, key text, value text,
  is_secret boolean, type text, version integer, source text, updated_at timestamptz,
  updated_by text, overrides_id uuid
)
language sql stable set search_path = ''
as $$ select * from private.effective_rows(p_environment_id) $$;

-- A configuration's value (a secret's from configuration_secrets), with the `secret.reveal`
-- audit row for a secret. No permission check: the callers check first.
create or replace function private.secret_value_audited(
  p_row public.configurations, p_details jsonb
) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  v_value text;
begin
  if not p_row.is_secret then
    return p_row.value;
  end if;
  select s.value into v_value from public.configuration_secrets s
    where s.configuration_id = p_row.id;
  perform private.audit(
    (select p.team_id from public.projects p where p.id = p_row.project_id), 'secret.reveal',
    'configuration', p_row.id::text, p_row.project_id, p_row.environment_id,
    jsonb_build_object('key', p_row.key, 'version', p_row.version) || coalesce(p_details, '{}'));
  return v_value;
end
$$;
comment on function private.secret_value_audited(public.configurations, jsonb) is
  'PERMISSIONS.md secret values: internal reader for the reveal RPCs (audited), callers check '
  'the rule first (not granted to users)';

create or replace function private.reveal_secret(p_configuration_id uuid) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configurations;
begin
  select * into v_row from public.configurations c where c.id = p_configuration_id;
  if not found then
    raise exception 'configuration not found' using errcode = 'P0002';
  end if;
  if v_row.project_id not in (select private.my_project_ids()) then
    raise exception 'you may not read this configuration' using errcode = '42501';
  end if;
  if v_row.is_secret
     and not coalesce(private.can_reveal(v_row.project_id, v_row.environment_id), false) then
    raise exception 'you may not reveal this secret' using errcode = '42501';
  end if;
  return private.secret_value_audited(v_row, null);
end
$$;
comment on function private.reveal_secret(uuid) is
  'PERMISSIONS.md secret values (reveal): admins; env owner; project default: member owning an env of it; viewers never';

-- Health points of one environment. No permission check: the callers check first.
create or replace function private.store_health(p_environment_id uuid, p_points jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_count integer;
begin
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
comment on function private.store_health(uuid, jsonb) is
  'PERMISSIONS.md health_checks: internal writer, callers check the rule first (not granted to users)';

create or replace function private.report_health(p_environment_id uuid, p_points jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
begin
  if p_environment_id is null
     or not (p_environment_id in (select private.my_admin_env_ids())
             or p_environment_id in (select private.my_owned_env_ids())) then
    raise exception 'you may not report health for this environment' using errcode = '42501';
  end if;
  return private.store_health(p_environment_id, p_points);
end
$$;
comment on function private.report_health(uuid, jsonb) is
  'PERMISSIONS.md health_checks create: admins, env owner (the machine''s agent)';

-- The machine RPCs ------------------------------------------------------------------------

create or replace function private.machine_whoami()
returns table (
  token_id uuid, token_name text, expires_at timestamptz, team jsonb, project jsonb,
  environment jsonb
)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return query
    select v_token.id, v_token.name, v_token.expires_at,
           jsonb_build_object('id', t.id, 'name', t.name, 'slug', t.slug),
           jsonb_build_object('id', p.id, 'team_id', p.team_id, 'name', p.name),
           to_jsonb(e)
    from public.environments e
    join public.projects p on p.id = e.project_id
    join public.teams t on t.id = p.team_id
    where e.id = v_token.environment_id;
end
$$;
comment on function private.machine_whoami() is
  'PERMISSIONS.md machine: which environment (of which project and team) the token is for';

create or replace function private.machine_effective_configuration()
returns table (
  configuration_id uuid, project_id uuid, environment_id uuid, key text, value text,
  is_secret boolean, type text, version integer, source text, updated_at timestamptz,
  updated_by text, overrides_id uuid
)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return query select * from private.effective_rows(v_token.environment_id);
end
$$;
comment on function private.machine_effective_configuration() is
  'PERMISSIONS.md machine: reads its environment''s effective configuration (secrets masked)';

-- A cheap change check for `devsync run --watch`: a digest of the ids and versions of the
-- environment's effective configuration. Any change of a key it would get (value, secret,
-- type, a new or deleted key, an override appearing) changes it; a change to a project
-- default the environment overrides does not.
create or replace function private.machine_config_fingerprint() returns text
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return (
    select md5(coalesce(string_agg(c.id::text || ':' || c.version::text, ',' order by c.id), ''))
    from public.configurations c
    where c.project_id = v_token.project_id
      and (c.environment_id = v_token.environment_id
           or (c.environment_id is null and not exists (
                 select 1 from public.configurations o
                 where o.project_id = v_token.project_id
                   and o.environment_id = v_token.environment_id and o.key = c.key))));
end
$$;
comment on function private.machine_config_fingerprint() is
  'PERMISSIONS.md machine: a digest of its effective configuration''s ids and versions';

create or replace function private.machine_reveal_secret(p_configuration_id uuid) returns text
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
  v_row public.configurations;
begin
  select * into v_row from public.configurations c where c.id = p_configuration_id;
  if not found then
    raise exception 'configuration not found' using errcode = 'P0002';
  end if;
  -- Only what the environment's effective configuration holds: its own keys, and the project
  -- defaults it does not override.
  if v_row.project_id <> v_token.project_id
     or not (v_row.environment_id is not distinct from v_token.environment_id
             or (v_row.environment_id is null and not exists (
                   select 1 from public.configurations o
                   where o.project_id = v_token.project_id
                     and o.environment_id = v_token.environment_id and o.key = v_row.key)))
  then
    raise exception 'a machine token reads only its own environment''s configuration'
      using errcode = '42501';
  end if;
  return private.secret_value_audited(
    v_row, jsonb_build_object('token_id', v_token.id, 'token', v_token.name));
end
$$;
comment on function private.machine_reveal_secret(uuid) is
  'PERMISSIONS.md machine: reveals the secrets of its environment''s effective configuration '
  '(audited with the token)';

create or replace function private.machine_report_dependencies(p_packages jsonb) returns integer
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return private.store_dependencies(v_token.project_id, v_token.environment_id, p_packages);
end
$$;
comment on function private.machine_report_dependencies(jsonb) is
  'PERMISSIONS.md machine: writes its environment''s dependencies';

-- What the machine reported last: `devsync scan` and the agent keep a package's stored status
-- where OSV or the registries cannot answer (core/statuses.py), so reporting needs it.
create or replace function private.machine_dependencies() returns setof public.dependencies
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return query
    select d.* from public.dependencies d
    where d.environment_id = v_token.environment_id
    order by d.package_manager, d.package_name;
end
$$;
comment on function private.machine_dependencies() is
  'PERMISSIONS.md machine: reads back its own environment''s dependencies (what it reported)';

create or replace function private.machine_report_health(p_points jsonb) returns integer
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return private.store_health(v_token.environment_id, p_points);
end
$$;
comment on function private.machine_report_health(jsonb) is
  'PERMISSIONS.md machine: writes its environment''s health checks';

create or replace function private.machine_set_status(
  p_status text, p_last_sync_at timestamptz
) returns public.environments
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
  v_env public.environments;
begin
  if p_status is null or p_status not in ('active', 'offline', 'syncing', 'error') then
    raise exception 'status must be active, offline, syncing or error' using errcode = '22023';
  end if;
  update public.environments e
    set status = p_status, last_sync_at = coalesce(p_last_sync_at, e.last_sync_at)
    where e.id = v_token.environment_id
    returning * into v_env;
  return v_env;
end
$$;
comment on function private.machine_set_status(text, timestamptz) is
  'PERMISSIONS.md machine: writes its environment''s status and last_sync_at';

-- What PostgREST exposes (security invoker; the private functions above decide).
create or replace function public.machine_whoami()
returns table (
  token_id uuid, token_name text, expires_at timestamptz, team jsonb, project jsonb,
  environment jsonb
)
language sql volatile set search_path = ''
as $$ select * from private.machine_whoami() $$;

create or replace function public.machine_effective_configuration()
returns table (
  configuration_id uuid, project_id uuid, environment_id uuid, key text, value text,
  is_secret boolean, type text, version integer, source text, updated_at timestamptz,
  updated_by text, overrides_id uuid
)
language sql volatile set search_path = ''
as $$ select * from private.machine_effective_configuration() $$;

create or replace function public.machine_config_fingerprint() returns text
language sql volatile set search_path = ''
as $$ select private.machine_config_fingerprint() $$;

create or replace function public.machine_reveal_secret(p_configuration_id uuid) returns text
language sql volatile set search_path = ''
as $$ select private.machine_reveal_secret(p_configuration_id) $$;

create or replace function public.machine_report_dependencies(p_packages jsonb) returns integer
language sql volatile set search_path = ''
as $$ select private.machine_report_dependencies(p_packages) $$;

create or replace function public.machine_dependencies() returns setof public.dependencies
language sql volatile set search_path = ''
as $$ select * from private.machine_dependencies() $$;

create or replace function public.machine_report_health(p_points jsonb) returns integer
language sql volatile set search_path = ''
as $$ select private.machine_report_health(p_points) $$;

create or replace function public.machine_set_status(
  p_status text, p_last_sync_at timestamptz default null
) returns public.environments
language sql volatile set search_path = ''
as $$ select * from private.machine_set_status(p_status, p_last_sync_at) $$;

-- Grants. Anon may enter the private schema only to run the machine functions granted below.
grant usage on schema private to anon;
revoke all on function
  private.effective_rows(uuid), private.secret_value_audited(public.configurations, jsonb),
  private.store_health(uuid, jsonb)
  from public, anon, authenticated;
grant execute on function private.effective_rows(uuid) to authenticated, service_role;
revoke all on function
  private.machine_whoami(), private.machine_effective_configuration(),
  private.machine_config_fingerprint(), private.machine_reveal_secret(uuid),
  private.machine_report_dependencies(jsonb), private.machine_report_health(jsonb),
  private.machine_set_status(text, timestamptz), private.machine_dependencies(),
  public.machine_whoami(), public.machine_effective_configuration(),
  public.machine_config_fingerprint(), public.machine_reveal_secret(uuid),
  public.machine_report_dependencies(jsonb), public.machine_report_health(jsonb),
  public.machine_set_status(text, timestamptz), public.machine_dependencies()
  from public, authenticated, service_role;
grant execute on function
  private.machine_whoami(), private.machine_effective_configuration(),
  private.machine_config_fingerprint(), private.machine_reveal_secret(uuid),
  private.machine_report_dependencies(jsonb), private.machine_report_health(jsonb),
  private.machine_set_status(text, timestamptz), private.machine_dependencies(),
  public.machine_whoami(), public.machine_effective_configuration(),
  public.machine_config_fingerprint(), public.machine_reveal_secret(uuid),
  public.machine_report_dependencies(jsonb), public.machine_report_health(jsonb),
  public.machine_set_status(text, timestamptz), public.machine_dependencies()
  to anon;
