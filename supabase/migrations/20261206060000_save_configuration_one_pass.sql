-- save_configuration with one statement fewer per save (issue 16: at 32 clients at least 0.8x a
-- raw one-row UPDATE with the same triggers). Same rules, same refusals, same order of
-- refusals.
--
-- private.write_configuration, saving over a version (p_expected_version not null): the UPDATE
-- finds, locks and checks the row itself (where its scope, key and version match), instead of
-- a SELECT ... FOR UPDATE before it. Only when it updated nothing does the function look at
-- why, in the order as before: no row -> the project, then the environment must exist
-- (P0002); then the version conflict (PT409, detail the current version, null if no row).
-- Under READ COMMITTED the UPDATE waits for a concurrent writer of the row and re-checks the
-- version on the row as that writer committed it, as the locking SELECT did; the look after a
-- miss reads the committed row, so PT409 names the version that made it miss. Creating
-- (p_expected_version null) is as before.
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

  if p_expected_version is not null then
    if p_environment_id is null then
      update public.configurations c
        set value = case when p_is_secret then null else p_value end,
            is_secret = p_is_secret,
            type = p_type
        where c.project_id = p_project_id and c.environment_id is null and c.key = p_key
          and c.version = p_expected_version
        returning * into v_row;
    else
      update public.configurations c
        set value = case when p_is_secret then null else p_value end,
            is_secret = p_is_secret,
            type = p_type
        where c.project_id = p_project_id and c.environment_id = p_environment_id
          and c.key = p_key and c.version = p_expected_version
        returning * into v_row;
    end if;
  end if;

  if v_row.id is null then
    -- Nothing updated (or creating): the row as it stands, if any.
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

    if p_expected_version is not null then
      raise exception 'configuration "%" was changed by someone else', p_key
        using errcode = 'PT409',
              detail = jsonb_build_object('current_version', v_row.version)::text,
              hint = 'reload it and apply your edit again';
    end if;
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
