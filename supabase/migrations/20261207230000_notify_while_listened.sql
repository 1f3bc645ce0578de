-- The local change feed notifies only while someone listens.
--
-- Every write to a watched table ran pg_notify('devsync_changes', …). A transaction that has
-- notified takes one database-wide lock at commit and holds it through its WAL flush, so every
-- notifying commit in the database waited for the one before: configuration saves, agents'
-- dependency and health reports, presence. On Supabase nothing LISTENs on that channel
-- (Realtime reads the publication), and on the embedded database most writes happen with no
-- dashboard open, so that lock was taken for nobody.
--
-- Now a listener says so: after LISTEN devsync_changes it calls
-- private.register_change_listener(), and private.unregister_change_listener() when it stops
-- (a listener that vanished without it is dropped by the next registration, which checks
-- pg_stat_activity). The notify triggers notify only while private.change_listeners holds a
-- row. When in doubt they notify: a stale row costs a notification nobody reads, never a
-- missed one.
--
-- No change is missed by a listener that registers while writes are under way: a writer's
-- trigger reads change_listeners and keeps its lock on the table until it commits, and
-- registration takes the table's ACCESS EXCLUSIVE lock, so it returns only after every writer
-- that looked before it has committed. What the listener reads after registering therefore
-- holds every change that did not notify it. (All writers run at READ COMMITTED: each
-- statement of a trigger sees what was committed when it started.)
--
-- Realtime's realtime.send for presence is unchanged.

create table private.change_listeners (
  pid integer primary key,
  backend_start timestamptz,
  registered_at timestamptz not null default now()
);
comment on table private.change_listeners is
  'Sessions listening on devsync_changes (the local feed); notify triggers notify only while '
  'this holds a row';
revoke all on private.change_listeners from public, anon, authenticated;

-- The lock is asked for 200 ms at a time: while it is queued, every new writer waits behind
-- it, so a long transaction that has already notified must not stall the others for long.
create or replace function private.register_change_listener() returns void
language plpgsql security definer set search_path = '' set lock_timeout = '200ms'
as $$
begin
  -- Waits for every writer that read this table before (see the head of this file).
  for v_attempt in 1..50 loop
    begin
      lock table private.change_listeners in access exclusive mode;
      exit;
    exception when lock_not_available then
      if v_attempt = 50 then
        raise;
      end if;
      perform pg_catalog.pg_sleep(0.05);
    end;
  end loop;
  delete from private.change_listeners l
  where not exists (
    select 1 from pg_catalog.pg_stat_activity a
    where a.pid = l.pid
      and (a.backend_start is null or l.backend_start is null
           or a.backend_start = l.backend_start));
  insert into private.change_listeners (pid, backend_start)
  select pg_catalog.pg_backend_pid(),
         (select a.backend_start from pg_catalog.pg_stat_activity a
          where a.pid = pg_catalog.pg_backend_pid())
  on conflict (pid) do update
    set backend_start = excluded.backend_start, registered_at = now();
end
$$;

create or replace function private.unregister_change_listener() returns void
language sql security definer set search_path = ''
as $$
  delete from private.change_listeners where pid = pg_catalog.pg_backend_pid();
$$;

comment on function private.register_change_listener() is
  'PERMISSIONS.md: none (the login role only; no API role may call it): this session listens on devsync_changes';
comment on function private.unregister_change_listener() is
  'PERMISSIONS.md: none (the login role only; no API role may call it): this session stops listening';

revoke all on function private.register_change_listener(),
  private.unregister_change_listener()
  from public, anon, authenticated;

create or replace function private.notify_change() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_row jsonb;
  v_id text;
  v_team uuid;
  v_project uuid;
  v_env uuid;
begin
  if not exists (select 1 from private.change_listeners) then
    return null;
  end if;
  v_row := to_jsonb(case when tg_op = 'DELETE' then old else new end);
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

create or replace function private.notify_health_checks_insert() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_env record;
begin
  if not exists (select 1 from private.change_listeners) then
    return null;
  end if;
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
  if not exists (select 1 from private.change_listeners) then
    return null;
  end if;
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

create or replace function private.notify_machine_config_states() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_env record;
begin
  if not exists (select 1 from private.change_listeners) then
    return null;
  end if;
  for v_env in
    select distinct r.environment_id, r.project_id, p.team_id
    from changed_rows r
    left join public.projects p on p.id = r.project_id
  loop
    perform pg_notify('devsync_changes', json_build_object(
      'table', 'machine_config_states', 'op', tg_op, 'id', null, 'team_id', v_env.team_id,
      'project_id', v_env.project_id, 'environment_id', v_env.environment_id)::text);
  end loop;
  return null;
end
$$;

create or replace function private.presence_changed() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_projects uuid[];
  v_project uuid;
  v_team uuid;
  v_client uuid := case when tg_op = 'DELETE' then old.client_id else new.client_id end;
  v_listened boolean;
begin
  if tg_op = 'UPDATE'
     and (old.project_id, old.environment_id, old.tab, old.editing_key)
         is not distinct from (new.project_id, new.environment_id, new.tab, new.editing_key) then
    return null;  -- a heartbeat
  end if;
  v_listened := exists (select 1 from private.change_listeners);
  v_projects := case tg_op
    when 'INSERT' then array[new.project_id]
    when 'DELETE' then array[old.project_id]
    else array(select distinct x from unnest(array[old.project_id, new.project_id]) x)
  end;
  foreach v_project in array v_projects loop
    if v_listened then
      select p.team_id into v_team from public.projects p where p.id = v_project;
      perform pg_notify('devsync_changes', json_build_object(
        'table', 'presence', 'op', tg_op, 'id', v_client, 'team_id', v_team,
        'project_id', v_project, 'environment_id', null)::text);
    end if;
    perform realtime.send(
      jsonb_build_object('project_id', v_project), 'presence',
      'devsync:presence:' || v_project::text, true);
  end loop;
  return null;
end
$$;
