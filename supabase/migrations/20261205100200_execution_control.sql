-- Variables that control execution (issue 12, PERMISSIONS.md "Rules that are easy to get
-- wrong"): names that make a program load or run code chosen by their value. Set by a member
-- as a project default, NODE_OPTIONS=--require=… runs that member's code in every teammate's
-- and every CI runner's `devsync run`: the member would act as whoever runs it, admins
-- included. So such keys may be created, changed, restored or deleted only by admins of the
-- team, at every scope (project defaults and environment overrides, the env owner's too).
--
-- The list is one list: private.execution_control_names() / _prefixes() here, mirrored by
-- devsync_tui/core/execution_control.py (a test asserts they agree) and documented in
-- README.md and docs/DATABASE.md. Names match case-insensitively (Windows environment names
-- are). Only env_var keys count: a file key names a file written in the run's private folder,
-- which no program loads by that name.
--
-- Enforced by a trigger on configurations, so every road is covered: the RPCs
-- (save/delete/restore_configuration, create_environment from a template) and any direct
-- write. Templates (written by members) may not carry such keys unless an admin wrote them.
-- Existing rows that break the rule stay as they are, readable; the next change to them needs
-- an admin.

create or replace function private.execution_control_names() returns text[]
language sql immutable set search_path = ''
as $$
  select array[
    -- which executable a bare command name resolves to (PATHEXT, COMSPEC: Windows)
    'PATH', 'PATHEXT', 'COMSPEC',
    -- the dynamic loader: libraries loaded into every process
    'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'GCONV_PATH',
    -- shells: files sourced, options and trace prompts evaluated
    'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4',
    -- interpreters: options and module paths
    'NODE_OPTIONS', 'NODE_PATH',
    'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONWARNINGS',
    'PYTHONBREAKPOINT',
    'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB',
    'RUBYOPT', 'RUBYLIB',
    'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH',
    -- git: programs it runs, configuration it reads
    'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_ASKPASS', 'SSH_ASKPASS',
    'GIT_PROXY_COMMAND', 'GIT_EXTERNAL_DIFF', 'GIT_TEMPLATE_DIR', 'GIT_CONFIG'
  ]::text[]
$$;
comment on function private.execution_control_names() is
  'PERMISSIONS.md execution-control variables: the names (upper case), see docs/DATABASE.md';

create or replace function private.execution_control_prefixes() returns text[]
language sql immutable set search_path = ''
as $$
  select array[
    -- macOS dyld: DYLD_INSERT_LIBRARIES, DYLD_LIBRARY_PATH, …
    'DYLD_',
    -- GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM, GIT_CONFIG_COUNT / KEY_n / VALUE_n (any setting,
    -- core.sshCommand and core.fsmonitor included), GIT_CONFIG_PARAMETERS
    'GIT_CONFIG_'
  ]::text[]
$$;
comment on function private.execution_control_prefixes() is
  'PERMISSIONS.md execution-control variables: the prefixes (upper case)';

create or replace function private.is_execution_control(p_key text, p_type text)
returns boolean
language sql immutable set search_path = ''
as $$
  select coalesce(p_type, 'env_var') = 'env_var' and p_key is not null and (
    upper(p_key) = any (private.execution_control_names())
    or exists (select 1 from unnest(private.execution_control_prefixes()) x(prefix)
               where starts_with(upper(p_key), x.prefix)))
$$;
comment on function private.is_execution_control(text, text) is
  'PERMISSIONS.md execution-control variables: whether an env_var key is one (any case)';

-- The execution-control entries of a template's config_json ({"KEY": value-or-object}), as an
-- object, so that a change to them can be told from a change elsewhere.
create or replace function private.execution_control_entries(p_config jsonb) returns jsonb
language sql immutable set search_path = ''
as $$
  select coalesce(jsonb_object_agg(e.k, e.v), '{}'::jsonb)
  from jsonb_each(coalesce(p_config, '{}'::jsonb)) e(k, v)
  where private.is_execution_control(
    e.k, case when jsonb_typeof(e.v) = 'object' then e.v ->> 'type' end)
$$;

-- Every write of a configuration row, whatever road: an execution-control key (before or
-- after the change) needs an admin of the team. A write without a user (the seed, the local
-- superuser, the service role) is not a person's and passes. Rows going with their deleted
-- environment or project pass too: deleting an environment is its owner's right.
create or replace function private.configurations_execution_control() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.configurations;
  v_key text;
begin
  if tg_op = 'DELETE' then
    v_row := old;
  else
    v_row := new;
  end if;
  if tg_op in ('UPDATE', 'DELETE') and private.is_execution_control(old.key, old.type) then
    v_key := old.key;
  end if;
  if tg_op in ('INSERT', 'UPDATE') and private.is_execution_control(new.key, new.type) then
    v_key := new.key;
  end if;
  if v_key is null or auth.uid() is null
     or v_row.project_id in (select private.my_admin_project_ids()) then
    return v_row;
  end if;
  if tg_op = 'DELETE' and (
       not exists (select 1 from public.projects p where p.id = old.project_id)
       or (old.environment_id is not null
           and not exists (select 1 from public.environments e where e.id = old.environment_id)))
  then
    return old;
  end if;
  raise exception 'only team admins may set or change %: it decides which programs run', v_key
    using errcode = '42501',
          hint = 'execution-control variables (PATH, LD_PRELOAD, NODE_OPTIONS, …) are listed '
                 'in docs/DATABASE.md';
end
$$;
comment on function private.configurations_execution_control() is
  'PERMISSIONS.md execution-control variables: created, changed, restored or deleted only by '
  'admins, at every scope, on every road';
create trigger configurations_execution_control
  before insert or update or delete on public.configurations
  for each row execute function private.configurations_execution_control();

-- Templates are written by members; an environment created from one gets its keys. An
-- execution-control entry may be added to or changed in a template only by an admin.
create or replace function private.env_templates_execution_control() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_before jsonb := '{}'::jsonb;
  v_after jsonb := private.execution_control_entries(new.config_json);
  v_key text;
begin
  if tg_op = 'UPDATE' then
    v_before := private.execution_control_entries(old.config_json);
  end if;
  if v_after = v_before or auth.uid() is null
     or new.project_id in (select private.my_admin_project_ids()) then
    return new;
  end if;
  select k into v_key from jsonb_object_keys(v_after) k
    where not (v_before ? k) or v_before -> k <> v_after -> k
    order by k limit 1;
  raise exception 'only team admins may put % in a template: it decides which programs run',
    coalesce(v_key, 'an execution-control variable')
    using errcode = '42501';
end
$$;
comment on function private.env_templates_execution_control() is
  'PERMISSIONS.md execution-control variables: only admins put them in a template';
create trigger env_templates_execution_control
  before insert or update of config_json on public.env_templates
  for each row execute function private.env_templates_execution_control();

-- create_environment (20261125140400_team_environment_rpcs.sql), now refusing a template of
-- another team that sets execution-control variables: only this team's admins may choose
-- them. (Within the team, the configurations trigger decides: admins only.)
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
  'execution-control variables of a template only from the own team (admins)';

revoke all on function
  private.execution_control_names(), private.execution_control_prefixes(),
  private.is_execution_control(text, text), private.execution_control_entries(jsonb),
  private.configurations_execution_control(), private.env_templates_execution_control()
  from public, anon, authenticated;
