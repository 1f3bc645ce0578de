-- Configuration RPCs: the only road by which clients write configurations and secrets.
-- Pattern: public.<rpc> (security invoker, what PostgREST exposes) calls private.<rpc>
-- (security definer: checks PERMISSIONS.md, then writes through private.write_configuration).

-- Validation shared by every writer. SQLSTATE 22023 with one plain sentence; never the value.
create or replace function private.validate_configuration(
  p_key text, p_value text, p_is_secret boolean, p_type text
) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if p_type is null or p_type not in ('env_var', 'file') then
    raise exception 'configuration type must be env_var or file' using errcode = '22023';
  end if;
  if p_is_secret is null then
    raise exception 'is_secret must be true or false' using errcode = '22023';
  end if;
  if p_key is null or p_key = '' then
    raise exception 'a configuration key must not be empty' using errcode = '22023';
  end if;
  if p_type = 'env_var' then
    if char_length(p_key) > 256 then
      raise exception 'an environment variable name may be at most 256 characters'
        using errcode = '22023';
    end if;
    if p_key !~ '^[A-Za-z_][A-Za-z0-9_]*$' then
      raise exception 'an environment variable name must start with a letter or _ and contain '
        'only letters, digits and _' using errcode = '22023';
    end if;
  else
    if char_length(p_key) > 1024 then
      raise exception 'a file path may be at most 1024 characters' using errcode = '22023';
    end if;
    if left(p_key, 1) = '/' then
      raise exception 'a file path must be relative (no leading /)' using errcode = '22023';
    end if;
    if position(E'\\' in p_key) > 0 then
      raise exception 'a file path must use / as separator (no backslash)'
        using errcode = '22023';
    end if;
    if '..' = any (string_to_array(p_key, '/')) then
      raise exception 'a file path must not contain a .. segment' using errcode = '22023';
    end if;
    if p_key ~ '[\x01-\x1f\x7f]' then
      raise exception 'a file path must not contain control characters' using errcode = '22023';
    end if;
  end if;
  if p_value is null then
    raise exception 'a configuration value must not be null (use an empty string)'
      using errcode = '22023';
  end if;
  if octet_length(p_value) > 1048576 then
    raise exception 'a configuration value may be at most 1 MiB (1,048,576 bytes)'
      using errcode = '22023';
  end if;
  if p_type = 'env_var' and p_value ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' then
    raise exception 'an environment variable value must not contain control characters other '
      'than tab, newline and carriage return' using errcode = '22023';
  end if;
end
$$;
comment on function private.validate_configuration(text, text, boolean, text) is
  'docs/DATABASE.md save_configuration validation (PERMISSIONS.md: file keys are relative paths)';

-- The one writer of configurations. No permission check: callers check first (or are the seed).
create or replace function private.write_configuration(
  p_project_id uuid, p_environment_id uuid, p_key text, p_value text, p_is_secret boolean,
  p_type text, p_expected_version integer
) returns public.configurations
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configurations;
begin
  perform private.validate_configuration(p_key, p_value, p_is_secret, p_type);
  if not exists (select 1 from public.projects p where p.id = p_project_id) then
    raise exception 'project not found' using errcode = 'P0002';
  end if;
  if p_environment_id is not null and not exists (
    select 1 from public.environments e
    where e.id = p_environment_id and e.project_id = p_project_id
  ) then
    raise exception 'environment not found in this project' using errcode = 'P0002';
  end if;

  if p_environment_id is null then
    select * into v_row from public.configurations c
      where c.project_id = p_project_id and c.environment_id is null and c.key = p_key
      for update;
  else
    select * into v_row from public.configurations c
      where c.project_id = p_project_id and c.environment_id = p_environment_id
        and c.key = p_key
      for update;
  end if;

  if p_expected_version is null then
    if v_row.id is not null then
      raise exception 'configuration "%" already exists', p_key using errcode = '23505';
    end if;
    begin
      insert into public.configurations (project_id, environment_id, key, value, is_secret, type)
      values (p_project_id, p_environment_id, p_key,
              case when p_is_secret then null else p_value end, p_is_secret, p_type)
      returning * into v_row;
    exception when unique_violation then
      raise exception 'configuration "%" already exists', p_key using errcode = '23505';
    end;
  else
    if v_row.id is null or v_row.version <> p_expected_version then
      raise exception 'configuration "%" was changed by someone else', p_key
        using errcode = 'PT409',
              detail = jsonb_build_object('current_version', v_row.version)::text,
              hint = 'reload it and apply your edit again';
    end if;
    update public.configurations c
      set value = case when p_is_secret then null else p_value end,
          is_secret = p_is_secret,
          type = p_type
      where c.id = v_row.id
      returning * into v_row;
  end if;

  -- After the configurations row: its trigger has written the history row the secret joins.
  if p_is_secret then
    insert into public.configuration_secrets (configuration_id, value)
    values (v_row.id, p_value)
    on conflict (configuration_id) do update set value = excluded.value;
  else
    delete from public.configuration_secrets s where s.configuration_id = v_row.id;
  end if;
  return v_row;
end
$$;
comment on function private.write_configuration(uuid, uuid, text, text, boolean, text, integer) is
  'PERMISSIONS.md configurations: internal writer, callers check the rule first (not granted to users)';

create or replace function private.save_configuration(
  p_project_id uuid, p_environment_id uuid, p_key text, p_value text, p_is_secret boolean,
  p_type text, p_expected_version integer
) returns public.configurations
language plpgsql security definer set search_path = ''
as $$
begin
  if not coalesce(private.can_write_scope(p_project_id, p_environment_id), false) then
    raise exception '%', case when p_environment_id is null
        then 'you may not change the default configuration of this project'
        else 'you may not change the configuration of this environment' end
      using errcode = '42501';
  end if;
  return private.write_configuration(p_project_id, p_environment_id, p_key, p_value,
                                     p_is_secret, p_type, p_expected_version);
end
$$;
comment on function private.save_configuration(uuid, uuid, text, text, boolean, text, integer) is
  'PERMISSIONS.md configurations create/change: default by admins, members; env-specific by admins, env owner';

create or replace function private.delete_configuration(
  p_configuration_id uuid, p_expected_version integer
) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configurations;
begin
  select * into v_row from public.configurations c where c.id = p_configuration_id for update;
  if not found then
    raise exception 'configuration not found' using errcode = 'P0002';
  end if;
  if not coalesce(private.can_write_scope(v_row.project_id, v_row.environment_id), false) then
    raise exception 'you may not delete this configuration' using errcode = '42501';
  end if;
  if p_expected_version is null or v_row.version <> p_expected_version then
    raise exception 'configuration "%" was changed by someone else', v_row.key
      using errcode = 'PT409',
            detail = jsonb_build_object('current_version', v_row.version)::text,
            hint = 'reload it and decide again';
  end if;
  delete from public.configurations c where c.id = v_row.id;
end
$$;
comment on function private.delete_configuration(uuid, integer) is
  'PERMISSIONS.md configurations delete: same as create';

create or replace function private.reveal_secret(p_configuration_id uuid) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configurations;
  v_value text;
begin
  select * into v_row from public.configurations c where c.id = p_configuration_id;
  if not found then
    raise exception 'configuration not found' using errcode = 'P0002';
  end if;
  if v_row.project_id not in (select private.my_project_ids()) then
    raise exception 'you may not read this configuration' using errcode = '42501';
  end if;
  if not v_row.is_secret then
    return v_row.value;
  end if;
  if not coalesce(private.can_reveal(v_row.project_id, v_row.environment_id), false) then
    raise exception 'you may not reveal this secret' using errcode = '42501';
  end if;
  select s.value into v_value from public.configuration_secrets s
    where s.configuration_id = v_row.id;
  perform private.audit(
    (select p.team_id from public.projects p where p.id = v_row.project_id), 'secret.reveal',
    'configuration', v_row.id::text, v_row.project_id, v_row.environment_id,
    jsonb_build_object('key', v_row.key, 'version', v_row.version));
  return v_value;
end
$$;
comment on function private.reveal_secret(uuid) is
  'PERMISSIONS.md secret values (reveal): admins; env owner; project default: member owning an env of it; viewers never';

create or replace function private.reveal_history_secret(p_history_id bigint) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configuration_history;
  v_value text;
begin
  select * into v_row from public.configuration_history h where h.id = p_history_id;
  if not found then
    raise exception 'history entry not found' using errcode = 'P0002';
  end if;
  if v_row.project_id not in (select private.my_project_ids()) then
    raise exception 'you may not read this history' using errcode = '42501';
  end if;
  if not v_row.is_secret then
    return v_row.value;
  end if;
  if not coalesce(private.can_reveal(v_row.project_id, v_row.environment_id), false) then
    raise exception 'you may not reveal this secret' using errcode = '42501';
  end if;
  select s.value into v_value from public.configuration_history_secrets s
    where s.history_id = v_row.id;
  perform private.audit(
    (select p.team_id from public.projects p where p.id = v_row.project_id), 'secret.reveal',
    'configuration_history', v_row.id::text, v_row.project_id, v_row.environment_id,
    jsonb_build_object('key', v_row.key, 'version', v_row.version,
                       'configuration_id', v_row.configuration_id));
  return v_value;
end
$$;
comment on function private.reveal_history_secret(bigint) is
  'PERMISSIONS.md configuration history: secret values in history follow the reveal rule';

create or replace function private.restore_configuration(
  p_history_id bigint, p_expected_version integer
) returns public.configurations
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configuration_history;
  v_value text;
begin
  select * into v_row from public.configuration_history h where h.id = p_history_id;
  if not found then
    raise exception 'history entry not found' using errcode = 'P0002';
  end if;
  if not coalesce(private.can_write_scope(v_row.project_id, v_row.environment_id), false) then
    raise exception 'you may not change this configuration' using errcode = '42501';
  end if;
  if v_row.op = 'delete' then
    raise exception 'a deletion cannot be restored; pick a version that had a value'
      using errcode = '22023';
  end if;
  if v_row.is_secret then
    select s.value into v_value from public.configuration_history_secrets s
      where s.history_id = v_row.id;
  else
    v_value := v_row.value;
  end if;
  if v_value is null then
    raise exception 'this history entry holds no value to restore' using errcode = '22023';
  end if;
  return private.write_configuration(v_row.project_id, v_row.environment_id, v_row.key,
                                     v_value, v_row.is_secret, v_row.type, p_expected_version);
end
$$;
comment on function private.restore_configuration(bigint, integer) is
  'PERMISSIONS.md configurations change (restoring a version is a change): as create';

-- Public RPCs (security invoker; the private functions above do the checking).
create or replace function public.save_configuration(
  p_project_id uuid, p_environment_id uuid, p_key text, p_value text, p_is_secret boolean,
  p_type text, p_expected_version integer
) returns public.configurations
language sql set search_path = ''
as $$
  select * from private.save_configuration(p_project_id, p_environment_id, p_key, p_value,
                                            p_is_secret, p_type, p_expected_version)
$$;

create or replace function public.delete_configuration(
  p_configuration_id uuid, p_expected_version integer
) returns void
language sql set search_path = ''
as $$ select private.delete_configuration(p_configuration_id, p_expected_version) $$;

create or replace function public.reveal_secret(p_configuration_id uuid) returns text
language sql set search_path = ''
as $$ select private.reveal_secret(p_configuration_id) $$;

create or replace function public.reveal_history_secret(p_history_id bigint) returns text
language sql set search_path = ''
as $$ select private.reveal_history_secret(p_history_id) $$;

create or replace function public.restore_configuration(
  p_history_id bigint, p_expected_version integer
) returns public.configurations
language sql set search_path = ''
as $$ select * from private.restore_configuration(p_history_id, p_expected_version) $$;

-- Invoker: RLS decides what the caller sees. Secrets come out with value NULL.
create or replace function public.effective_configuration(p_environment_id uuid)
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

revoke all on function
  private.validate_configuration(text, text, boolean, text),
  private.write_configuration(uuid, uuid, text, text, boolean, text, integer)
  from public, anon, authenticated;
revoke all on function
  private.save_configuration(uuid, uuid, text, text, boolean, text, integer),
  private.delete_configuration(uuid, integer), private.reveal_secret(uuid),
  private.reveal_history_secret(bigint), private.restore_configuration(bigint, integer),
  public.save_configuration(uuid, uuid, text, text, boolean, text, integer),
  public.delete_configuration(uuid, integer), public.reveal_secret(uuid),
  public.reveal_history_secret(bigint), public.restore_configuration(bigint, integer),
  public.effective_configuration(uuid)
  from public, anon;
grant execute on function
  private.save_configuration(uuid, uuid, text, text, boolean, text, integer),
  private.delete_configuration(uuid, integer), private.reveal_secret(uuid),
  private.reveal_history_secret(bigint), private.restore_configuration(bigint, integer),
  public.save_configuration(uuid, uuid, text, text, boolean, text, integer),
  public.delete_configuration(uuid, integer), public.reveal_secret(uuid),
  public.reveal_history_secret(bigint), public.restore_configuration(bigint, integer),
  public.effective_configuration(uuid)
  to authenticated, service_role;
