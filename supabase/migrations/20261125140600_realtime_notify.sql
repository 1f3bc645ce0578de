-- Change feeds. Supabase: the `supabase_realtime` publication (RLS-filtered by Realtime).
-- Local transport: pg_notify('devsync_changes', …) with ids only — never a value.

alter publication supabase_realtime add table
  public.profiles, public.teams, public.team_members, public.projects, public.env_templates,
  public.environments, public.configurations, public.dependencies, public.health_checks;

-- {"table", "op", "id", "team_id", "project_id", "environment_id"}; the row is read only for
-- its ids. team_id is looked up through the project when the row does not carry it.
create or replace function private.notify_change() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_row jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
  v_id text;
  v_team uuid;
  v_project uuid;
  v_env uuid;
begin
  v_id := case tg_table_name
    when 'team_members' then (v_row ->> 'team_id') || ':' || (v_row ->> 'user_id')
    else v_row ->> 'id'
  end;
  v_project := case tg_table_name
    when 'projects' then (v_row ->> 'id')::uuid
    else (v_row ->> 'project_id')::uuid
  end;
  v_env := case tg_table_name
    when 'environments' then (v_row ->> 'id')::uuid
    else (v_row ->> 'environment_id')::uuid
  end;
  v_team := case tg_table_name
    when 'teams' then (v_row ->> 'id')::uuid
    else (v_row ->> 'team_id')::uuid
  end;
  if v_team is null and v_project is not null then
    select p.team_id into v_team from public.projects p where p.id = v_project;
  end if;
  perform pg_notify('devsync_changes', json_build_object(
    'table', tg_table_name, 'op', tg_op, 'id', v_id, 'team_id', v_team,
    'project_id', v_project, 'environment_id', v_env)::text);
  return null;
end
$$;
comment on function private.notify_change() is
  'PERMISSIONS.md: no secret value in a LISTEN notification (ids only)';

do $$
declare
  v_table text;
begin
  foreach v_table in array array[
    'profiles', 'teams', 'team_members', 'projects', 'env_templates', 'environments',
    'configurations', 'dependencies', 'configuration_history', 'audit_log']
  loop
    execute format(
      'create trigger %I after insert or update or delete on public.%I '
      'for each row execute function private.notify_change()',
      v_table || '_notify', v_table);
  end loop;
end
$$;

-- health_checks: one notification per statement and environment, so a batch of points is one
-- event. A trigger with a transition table serves one event only, hence two functions.
create or replace function private.notify_health_checks_insert() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_env record;
begin
  for v_env in
    select distinct r.environment_id, e.project_id, p.team_id
    from new_rows r
    left join public.environments e on e.id = r.environment_id
    left join public.projects p on p.id = e.project_id
  loop
    perform pg_notify('devsync_changes', json_build_object(
      'table', 'health_checks', 'op', 'INSERT', 'id', null, 'team_id', v_env.team_id,
      'project_id', v_env.project_id, 'environment_id', v_env.environment_id)::text);
  end loop;
  return null;
end
$$;

create or replace function private.notify_health_checks_delete() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_env record;
begin
  for v_env in
    select distinct r.environment_id, e.project_id, p.team_id
    from old_rows r
    left join public.environments e on e.id = r.environment_id
    left join public.projects p on p.id = e.project_id
  loop
    perform pg_notify('devsync_changes', json_build_object(
      'table', 'health_checks', 'op', 'DELETE', 'id', null, 'team_id', v_env.team_id,
      'project_id', v_env.project_id, 'environment_id', v_env.environment_id)::text);
  end loop;
  return null;
end
$$;
comment on function private.notify_health_checks_insert() is
  'PERMISSIONS.md: no secret value in a LISTEN notification (ids only)';
comment on function private.notify_health_checks_delete() is
  'PERMISSIONS.md: no secret value in a LISTEN notification (ids only)';

create trigger health_checks_notify_insert after insert on public.health_checks
  referencing new table as new_rows
  for each statement execute function private.notify_health_checks_insert();
create trigger health_checks_notify_delete after delete on public.health_checks
  referencing old table as old_rows
  for each statement execute function private.notify_health_checks_delete();

revoke all on function private.notify_change(), private.notify_health_checks_insert(),
  private.notify_health_checks_delete()
  from public, anon, authenticated;
