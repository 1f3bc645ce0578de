-- Presence, pushed and placed (issue 12 "Presence on Supabase", issue 15 "Presence").
--
-- One row per client (a running dashboard), not per user and project: it says where that
-- client is (project, environment, tab) and which key it is editing. Who the person is comes
-- from the session (auth.uid() → their profile), never from the client. A client refreshes its
-- row (heartbeat) every few seconds; a row not refreshed for 15 s is no longer reported, so a
-- client that vanished without saying goodbye disappears by itself.
--
-- Arrival, moves and departure are pushed, ids only:
--   local transport: pg_notify('devsync_changes', {"table": "presence", …}) like every table;
--   Supabase: realtime.send() on the PRIVATE channel "devsync:presence:<project id>", which
--   only members of the project's team may join (policy on realtime.messages below); nobody
--   may send on it (no insert policy), so neither a broadcast nor a Realtime Presence "track"
--   from a client can pretend to be someone. Receivers re-read who_is_here() under RLS.
-- A heartbeat (only seen_at changes) pushes nothing.
--
-- The old per-user RPCs (set_presence, who_is_viewing) are replaced.

drop function public.set_presence(uuid);
drop function public.who_is_viewing(uuid);
drop function private.set_presence(uuid);
drop function private.who_is_viewing(uuid);

delete from public.presence;
alter table public.presence drop constraint presence_pkey;
alter table public.presence
  add column client_id uuid not null default gen_random_uuid(),
  add column environment_id uuid references public.environments (id) on delete set null,
  add column tab text check (tab ~ '^[a-z][a-z0-9_-]{0,31}$'),
  add column editing_key text
    check (char_length(editing_key) between 1 and 256 and editing_key !~ '[[:cntrl:]]');
alter table public.presence add primary key (client_id);
create index presence_user_id_idx on public.presence (user_id);
create index presence_environment_id_idx on public.presence (environment_id);

-- Who is on the project (the caller's own clients included), seen in the last 15 seconds,
-- by current members of the team only. Members (viewers too) only, else 42501.
create or replace function private.who_is_here(p_project_id uuid)
returns table (
  client_id uuid, user_id uuid, username text, environment_id uuid, tab text, editing_key text
)
language plpgsql stable security definer set search_path = ''
as $$
begin
  if auth.uid() is null or p_project_id is null
     or p_project_id not in (select private.my_project_ids()) then
    raise exception 'only members of the project''s team can see who is here'
      using errcode = '42501';
  end if;
  return query
    select pr.client_id, pr.user_id, pf.username, pr.environment_id, pr.tab, pr.editing_key
    from public.presence pr
    join public.profiles pf on pf.id = pr.user_id
    join public.projects pj on pj.id = pr.project_id
    join public.team_members tm on tm.team_id = pj.team_id and tm.user_id = pr.user_id
    where pr.project_id = p_project_id and pr.seen_at > now() - interval '15 seconds'
    order by pf.username, pr.client_id;
end
$$;
comment on function private.who_is_here(uuid) is
  'PERMISSIONS.md projects read: members see who else is on the project, and where';

-- Announce (or refresh: the heartbeat) where client p_client_id of the caller is; returns
-- who_is_here(p_project_id). The row is the caller's: a client id that another user holds is
-- refused (42501), never taken over. The environment must be the project's (22023).
create or replace function private.announce_presence(
  p_client_id uuid, p_project_id uuid, p_environment_id uuid, p_tab text, p_editing_key text
)
returns table (
  client_id uuid, user_id uuid, username text, environment_id uuid, tab text, editing_key text
)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception 'sign in to announce where you are' using errcode = '42501';
  end if;
  if p_client_id is null or p_project_id is null then
    raise exception 'presence needs a client id and a project' using errcode = '22023';
  end if;
  if p_project_id not in (select private.my_project_ids()) then
    raise exception 'only members of the project''s team can announce they are on it'
      using errcode = '42501';
  end if;
  if p_environment_id is not null and not exists (
    select 1 from public.environments e where e.id = p_environment_id and e.project_id = p_project_id
  ) then
    raise exception 'that environment is not in this project' using errcode = '22023';
  end if;
  if p_tab is not null and p_tab !~ '^[a-z][a-z0-9_-]{0,31}$' then
    raise exception 'a tab is a short lowercase name' using errcode = '22023';
  end if;
  if p_editing_key is not null and (char_length(p_editing_key) not between 1 and 256
                                    or p_editing_key ~ '[[:cntrl:]]') then
    raise exception 'a key is 1 to 256 characters without control characters'
      using errcode = '22023';
  end if;
  insert into public.presence as pr
    (client_id, user_id, project_id, environment_id, tab, editing_key, seen_at)
  values (p_client_id, v_uid, p_project_id, p_environment_id, p_tab, p_editing_key, now())
  on conflict (client_id) do update
    set project_id = excluded.project_id, environment_id = excluded.environment_id,
        tab = excluded.tab, editing_key = excluded.editing_key, seen_at = excluded.seen_at
    where pr.user_id = v_uid;
  if not found then
    raise exception 'that presence belongs to someone else' using errcode = '42501';
  end if;
  return query select * from private.who_is_here(p_project_id);
end
$$;
comment on function private.announce_presence(uuid, uuid, uuid, text, text) is
  'PERMISSIONS.md projects read: members (viewers too) announce where they are';

-- Take the caller's client off (quitting, or looking at no project). Anyone signed in may
-- call it; it only ever removes the caller's own row.
create or replace function private.leave_presence(p_client_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception 'sign in to leave' using errcode = '42501';
  end if;
  delete from public.presence pr where pr.client_id = p_client_id and pr.user_id = v_uid;
end
$$;
comment on function private.leave_presence(uuid) is
  'PERMISSIONS.md: anyone signed in takes their own presence down (only their own row)';

create or replace function public.who_is_here(p_project_id uuid)
returns table (
  client_id uuid, user_id uuid, username text, environment_id uuid, tab text, editing_key text
)
language sql stable set search_path = ''
as $$ select * from private.who_is_here(p_project_id) $$;

create or replace function public.announce_presence(
  p_client_id uuid, p_project_id uuid, p_environment_id uuid default null,
  p_tab text default null, p_editing_key text default null
)
returns table (
  client_id uuid, user_id uuid, username text, environment_id uuid, tab text, editing_key text
)
language sql set search_path = ''
as $$
  select * from private.announce_presence(
    p_client_id, p_project_id, p_environment_id, p_tab, p_editing_key)
$$;

create or replace function public.leave_presence(p_client_id uuid) returns void
language sql set search_path = ''
as $$ select private.leave_presence(p_client_id) $$;

revoke all on function
  private.who_is_here(uuid), private.announce_presence(uuid, uuid, uuid, text, text),
  private.leave_presence(uuid), public.who_is_here(uuid),
  public.announce_presence(uuid, uuid, uuid, text, text), public.leave_presence(uuid)
  from public, anon;
grant execute on function
  private.who_is_here(uuid), private.announce_presence(uuid, uuid, uuid, text, text),
  private.leave_presence(uuid), public.who_is_here(uuid),
  public.announce_presence(uuid, uuid, uuid, text, text), public.leave_presence(uuid)
  to authenticated, service_role;

-- The push. Ids only; a row moving from one project to another is announced on both.
create or replace function private.presence_changed() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_projects uuid[];
  v_project uuid;
  v_team uuid;
  v_client uuid := case when tg_op = 'DELETE' then old.client_id else new.client_id end;
begin
  if tg_op = 'UPDATE'
     and (old.project_id, old.environment_id, old.tab, old.editing_key)
         is not distinct from (new.project_id, new.environment_id, new.tab, new.editing_key) then
    return null;  -- a heartbeat
  end if;
  v_projects := case tg_op
    when 'INSERT' then array[new.project_id]
    when 'DELETE' then array[old.project_id]
    else array(select distinct x from unnest(array[old.project_id, new.project_id]) x)
  end;
  foreach v_project in array v_projects loop
    select p.team_id into v_team from public.projects p where p.id = v_project;
    perform pg_notify('devsync_changes', json_build_object(
      'table', 'presence', 'op', tg_op, 'id', v_client, 'team_id', v_team,
      'project_id', v_project, 'environment_id', null)::text);
    perform realtime.send(
      jsonb_build_object('project_id', v_project), 'presence',
      'devsync:presence:' || v_project::text, true);
  end loop;
  return null;
end
$$;
comment on function private.presence_changed() is
  'PERMISSIONS.md: presence pushes carry ids only; private channel, members only';

revoke all on function private.presence_changed() from public, anon, authenticated;

create trigger presence_notify after insert or update or delete on public.presence
  for each row execute function private.presence_changed();

-- Realtime Authorization: members of the project's team may join (read) its presence
-- channel; no policy lets anyone send (insert) on it.
create policy devsync_presence_read on realtime.messages for select to authenticated
  using (
    realtime.messages.extension in ('broadcast', 'presence')
    and (select realtime.topic()) in (
      select 'devsync:presence:' || p::text from private.my_project_ids() p)
  );
