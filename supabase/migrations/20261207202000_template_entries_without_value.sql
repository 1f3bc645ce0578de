-- A template entry without a value (`{"is_secret": true}`) is no longer copied into a new
-- environment as an empty override when the project defaults have the key. Migration
-- 20261205140000 left out only required entries without a value; any other became an
-- override holding '', which hid the project default: the demo's "Node.js Starter"
-- ({"STRIPE_SECRET_KEY": {"is_secret": true}}) made every new environment's
-- STRIPE_SECRET_KEY empty although storefront's defaults set it. Now the environment inherits
-- the default; where the project has none, the empty entry is still made, a placeholder to be
-- filled by someone allowed (as before).

create or replace function private.create_environment(
  p_project_id uuid, p_name text, p_template_id uuid
) returns public.environments
language plpgsql security definer set search_path = ''
as $$
declare
  v_env public.environments;
  v_tpl public.env_templates;
  v_key text;
  v_item jsonb;
begin
  if p_project_id is null or p_project_id not in (select private.my_writer_project_ids()) then
    raise exception 'you may not create environments in this project' using errcode = '42501';
  end if;
  if p_name is null or char_length(btrim(p_name)) not between 1 and 200 then
    raise exception 'an environment name must have 1 to 200 characters' using errcode = '22023';
  end if;
  if p_template_id is not null then
    select * into v_tpl from public.env_templates t
      where t.id = p_template_id
        and (t.project_id = p_project_id or t.is_public);
    if v_tpl.id is null then
      raise exception 'template not found' using errcode = 'P0002';
    end if;
    if private.execution_control_entries(v_tpl.config_json) <> '{}'::jsonb
       and (select p.team_id from public.projects p where p.id = v_tpl.project_id)
           is distinct from (select p.team_id from public.projects p where p.id = p_project_id)
    then
      raise exception 'this template of another team sets variables that decide which '
        'programs run (%); only your team''s admins may choose them',
        (select string_agg(k, ', ' order by k)
           from jsonb_object_keys(private.execution_control_entries(v_tpl.config_json)) k)
        using errcode = '42501';
    end if;
  end if;
  begin
    insert into public.environments (project_id, template_id, user_id, name)
    values (p_project_id, p_template_id, auth.uid(), btrim(p_name))
    returning * into v_env;
  exception when unique_violation then
    raise exception 'an environment named "%" already exists in this project', btrim(p_name)
      using errcode = '23505';
  end;
  if v_tpl.id is not null then
    for v_key, v_item in select k, v from jsonb_each(v_tpl.config_json) as j(k, v) loop
      if jsonb_typeof(v_item) = 'object' and not (v_item ? 'value')
         and (v_item -> 'required' = 'true'::jsonb
              or exists (select 1 from public.configurations c
                         where c.project_id = p_project_id and c.environment_id is null
                           and c.key = v_key)) then
        -- no value to copy: a required key must come from the defaults or be set (run
        -- refuses it missing), and an empty override would hide the project default
        continue;
      end if;
      if jsonb_typeof(v_item) = 'object' then
        perform private.write_configuration(
          p_project_id, v_env.id, v_key, coalesce(v_item ->> 'value', ''),
          coalesce((v_item ->> 'is_secret')::boolean, false),
          coalesce(v_item ->> 'type', 'env_var'), null);
      else
        perform private.write_configuration(
          p_project_id, v_env.id, v_key, v_item #>> '{}', false, 'env_var', null);
      end if;
    end loop;
    perform private.store_dependencies(p_project_id, v_env.id, v_tpl.dependencies_json);
  end if;
  return v_env;
end
$$;
comment on function private.create_environment(uuid, text, uuid) is
  'PERMISSIONS.md environments create: members for an environment they own (admins too); '
  'execution-control variables of a template only from the own team (admins); '
  'entries without a value are not copied over a project default, nor when required';
