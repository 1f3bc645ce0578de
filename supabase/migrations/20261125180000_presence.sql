-- Presence on the database ("bob is viewing"): which project each signed-in user is looking at,
-- for transports without Realtime presence (the local one). One row per user and project, so a
-- user with two terminals on two projects is present on both. Rows are written only through
-- the two RPCs below; nothing here is published or notified (clients poll who_is_viewing).
--
-- PERMISSIONS.md: presence follows "projects read: members" — every member of the project's
-- team (viewers too: announcing that you look is not writing team data) may announce and see
-- presence; nobody else sees or touches a row.

create table public.presence (
  user_id uuid not null references public.profiles (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  seen_at timestamptz not null default now(),
  primary key (user_id, project_id)
);
-- The select policy filters on project_id; who_is_viewing reads one project's recent rows.
create index presence_project_id_seen_at_idx on public.presence (project_id, seen_at);

alter table public.presence enable row level security;
create policy presence_select on public.presence for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy presence_select on public.presence is
  'PERMISSIONS.md projects read: members (presence on a project follows the project)';
revoke all on public.presence from anon, authenticated, public;
grant select on public.presence to authenticated;

-- Announce the project the caller looks at (null: none, e.g. on quitting). The caller's other
-- rows go, so moving on is seen at once. A non-member changes nothing (42501).
create or replace function private.set_presence(p_project_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception 'sign in to announce which project you are viewing' using errcode = '42501';
  end if;
  if p_project_id is not null and p_project_id not in (select private.my_project_ids()) then
    raise exception 'only members of the project''s team can announce they are viewing it'
      using errcode = '42501';
  end if;
  delete from public.presence pr where pr.user_id = v_uid;
  if p_project_id is not null then
    insert into public.presence (user_id, project_id, seen_at) values (v_uid, p_project_id, now())
    on conflict (user_id, project_id) do update set seen_at = excluded.seen_at;
  end if;
end
$$;
comment on function private.set_presence(uuid) is
  'PERMISSIONS.md projects read: members (viewers too) announce which project they view';

-- Who looked at the project in the last 30 seconds (the caller included), by username. It is
-- also the caller's heartbeat: their row for this project is refreshed, or written again when
-- another terminal of theirs announced a different project meanwhile (set_presence removes all
-- of a user's rows; a terminal still on this project polls and so reappears). Only current
-- members of the team are listed: a removed member vanishes at once.
create or replace function private.who_is_viewing(p_project_id uuid)
returns table (user_id uuid, username text)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null or p_project_id is null
     or p_project_id not in (select private.my_project_ids()) then
    raise exception 'only members of the project''s team can see who is viewing it'
      using errcode = '42501';
  end if;
  insert into public.presence (user_id, project_id, seen_at) values (v_uid, p_project_id, now())
  on conflict (user_id, project_id) do update set seen_at = excluded.seen_at;
  return query
    select pr.user_id, pf.username
    from public.presence pr
    join public.profiles pf on pf.id = pr.user_id
    join public.projects pj on pj.id = pr.project_id
    join public.team_members tm on tm.team_id = pj.team_id and tm.user_id = pr.user_id
    where pr.project_id = p_project_id and pr.seen_at > now() - interval '30 seconds'
    order by pf.username;
end
$$;
comment on function private.who_is_viewing(uuid) is
  'PERMISSIONS.md projects read: members see who else views the project (heartbeat included)';

create or replace function public.set_presence(p_project_id uuid) returns void
language sql set search_path = ''
as $$ select private.set_presence(p_project_id) $$;

create or replace function public.who_is_viewing(p_project_id uuid)
returns table (user_id uuid, username text)
language sql set search_path = ''
as $$ select * from private.who_is_viewing(p_project_id) $$;

revoke all on function
  private.set_presence(uuid), private.who_is_viewing(uuid),
  public.set_presence(uuid), public.who_is_viewing(uuid)
  from public, anon;
grant execute on function
  private.set_presence(uuid), private.who_is_viewing(uuid),
  public.set_presence(uuid), public.who_is_viewing(uuid)
  to authenticated, service_role;

-- Retention (20261125140700_health_retention.sql) also drops presence rows older than a day:
-- a terminal that died without saying goodbye leaves one behind. Otherwise unchanged.
create or replace function private.rollup_health_checks(p_keep interval) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_cutoff timestamptz;
  v_rows jsonb;
  v_folded integer;
begin
  if p_keep is null or p_keep < interval '0' then
    raise exception 'the retention period must be a positive interval' using errcode = '22023';
  end if;
  -- A signed-in caller rolls up the environments of the teams they administer; a caller with
  -- no user (service role, cron, the local superuser) rolls up every environment.
  if v_uid is not null and not exists (select 1 from private.my_admin_team_ids()) then
    raise exception 'only team admins can apply health retention' using errcode = '42501';
  end if;
  v_cutoff := now() - p_keep;

  select coalesce(jsonb_agg(jsonb_build_object(
           'environment_id', g.environment_id, 'metric_type', g.metric_type,
           'recorded_at', g.hour,
           'value', jsonb_build_object('value', g.avg, 'avg', g.avg, 'min', g.min,
                                       'max', g.max, 'n', g.n, 'rollup', 'hour'))), '[]'::jsonb)
    into v_rows
    from (
      select h.environment_id, h.metric_type, date_trunc('hour', h.recorded_at) as hour,
             avg(h.x) as avg, min(h.x) as min, max(h.x) as max, count(*) as n
      from (
        select c.environment_id, c.metric_type, c.recorded_at,
               private.health_number(c.value) as x
        from public.health_checks c
        where c.recorded_at < v_cutoff and not (c.value ? 'rollup')
          and (v_uid is null or c.environment_id in (select private.my_admin_env_ids()))
      ) h
      group by 1, 2, 3
    ) g;

  delete from public.health_checks c
  where c.recorded_at < v_cutoff and not (c.value ? 'rollup')
    and (v_uid is null or c.environment_id in (select private.my_admin_env_ids()));
  get diagnostics v_folded = row_count;

  -- A roll-up of the same hour from an earlier run (the cut-off fell inside the hour) is merged.
  insert into public.health_checks as c (environment_id, metric_type, recorded_at, value)
  select (r ->> 'environment_id')::uuid, r ->> 'metric_type', (r ->> 'recorded_at')::timestamptz,
         r -> 'value'
  from jsonb_array_elements(v_rows) r
  on conflict (environment_id, metric_type, recorded_at) do update
    set value = private.merge_rollup(c.value, excluded.value);

  -- Presence nobody refreshed for a day (same scope: an admin's teams, or everything).
  delete from public.presence pr
  where pr.seen_at < now() - interval '1 day'
    and (v_uid is null or pr.project_id in (select private.my_admin_project_ids()));
  return v_folded;
end
$$;
comment on function private.rollup_health_checks(interval) is
  'PERMISSIONS.md health_checks delete: admins (retention), or the service role / cron; '
  'also drops presence rows older than a day';
