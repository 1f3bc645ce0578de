-- save_configuration with less work per call (issue 16: at 32 clients at least 0.8x a raw
-- one-row UPDATE with the same triggers). Same rules, same refusals, same order of refusals;
-- only work that cannot change the outcome is skipped.
--
-- private.can_write_scope asks in plpgsql (its plans kept for the session), one query per case,
-- instead of through the setof helpers (each a security-definer function with a search_path of
-- its own, called on every save): "admins, members" of the project's team for the project
-- default; "admins", or the "env owner" while a member or admin, for an environment -- exactly
-- what my_writer_project_ids, my_admin_project_ids and my_owned_env_ids say. Its callers read
-- NULL as false (coalesce); it now never returns NULL.
--
-- private.write_configuration looks the row up (and locks it) first and only checks that the
-- project and the environment exist when there is no row: a row of (project, environment)
-- proves both, by configurations' foreign keys (project_id, and (environment_id, project_id)
-- to environments (id, project_id)). Without a row the checks run as before, before the
-- insert or the version conflict.

create or replace function private.can_write_scope(p_project_id uuid, p_environment_id uuid)
returns boolean
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if p_environment_id is null then
    return exists (
      select 1 from public.projects p
      join public.team_members m on m.team_id = p.team_id
      where p.id = p_project_id and m.user_id = v_uid and m.role in ('admin', 'member'));
  end if;
  return exists (
      select 1 from public.projects p
      join public.team_members m on m.team_id = p.team_id
      where p.id = p_project_id and m.user_id = v_uid and m.role = 'admin')
    or exists (
      select 1 from public.environments e
      join public.projects p on p.id = e.project_id
      join public.team_members m on m.team_id = p.team_id
      where e.id = p_environment_id and e.project_id = p_project_id
        and e.user_id = v_uid and m.user_id = v_uid and m.role in ('admin', 'member'));
end
$$;
comment on function private.can_write_scope(uuid, uuid) is
  'PERMISSIONS.md configurations/dependencies: default or baseline by admins and members, '
  'environment-specific by admins and the env owner';

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

  if v_row.id is null then
    -- No row: nothing proves the scope exists yet.
    if not exists (select 1 from public.projects p where p.id = p_project_id) then
      raise exception 'project not found' using errcode = 'P0002';
    end if;
    if p_environment_id is not null and not exists (
      select 1 from public.environments e
      where e.id = p_environment_id and e.project_id = p_project_id
    ) then
      raise exception 'environment not found in this project' using errcode = 'P0002';
    end if;
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
