-- Around the plan: secret values kept apart from configurations, the configuration history and
-- the audit log, all written by triggers so that every road of change is recorded.

-- Secret values. RLS on and no policy, no grant: only definer functions read or write them.
create table public.configuration_secrets (
  configuration_id uuid primary key references public.configurations (id) on delete cascade,
  value text not null
);

create table public.configuration_history (
  id bigint generated always as identity primary key,
  configuration_id uuid not null,
  project_id uuid not null references public.projects (id) on delete cascade,
  environment_id uuid references public.environments (id) on delete cascade,
  key text not null,
  type text not null check (type in ('env_var', 'file')),
  is_secret boolean not null,
  version integer not null,
  value text,
  op text not null check (op in ('insert', 'update', 'delete')),
  changed_by uuid,
  changed_at timestamptz not null default now(),
  constraint configuration_history_secret_value_null check (not is_secret or value is null)
);
create index configuration_history_configuration_id_idx
  on public.configuration_history (configuration_id, id);
create index configuration_history_project_id_idx on public.configuration_history (project_id);
create index configuration_history_environment_id_idx
  on public.configuration_history (environment_id);

-- Secret values of history rows, like configuration_secrets.
create table public.configuration_history_secrets (
  history_id bigint primary key references public.configuration_history (id) on delete cascade,
  value text not null
);

-- No foreign keys: the log outlives what it describes. `details` never holds a value.
create table public.audit_log (
  id bigint generated always as identity primary key,
  team_id uuid not null,
  actor_id uuid,
  action text not null check (action in (
    'config.create', 'config.update', 'config.delete', 'secret.reveal',
    'member.add', 'member.role', 'member.remove', 'team.create')),
  target_type text not null,
  target_id text,
  project_id uuid,
  environment_id uuid,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
create index audit_log_team_id_idx on public.audit_log (team_id, id);

-- Writes one audit row; the single writer of audit_log besides nothing.
create or replace function private.audit(
  p_team_id uuid, p_action text, p_target_type text, p_target_id text,
  p_project_id uuid, p_environment_id uuid, p_details jsonb
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.audit_log
    (team_id, actor_id, action, target_type, target_id, project_id, environment_id, details)
  values (p_team_id, auth.uid(), p_action, p_target_type, p_target_id, p_project_id,
          p_environment_id, coalesce(p_details, '{}'::jsonb));
$$;

comment on function private.audit(uuid, text, text, text, uuid, uuid, jsonb) is
  'PERMISSIONS.md audit log: written by the database only';

-- History and audit for every configuration change. A secret's history value is attached by
-- the trigger on configuration_secrets below (the secret row is written after its parent).
create or replace function private.configurations_log() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.configurations;
  v_team uuid;
  v_op text := lower(tg_op);
begin
  v_row := case when tg_op = 'DELETE' then old else new end;
  select p.team_id into v_team from public.projects p where p.id = v_row.project_id;
  -- Cascading from a deleted project or environment: the history goes with it.
  if v_team is null
     or (v_row.environment_id is not null
         and not exists (select 1 from public.environments e where e.id = v_row.environment_id))
  then
    return null;
  end if;
  insert into public.configuration_history
    (configuration_id, project_id, environment_id, key, type, is_secret, version, value, op,
     changed_by)
  values (v_row.id, v_row.project_id, v_row.environment_id, v_row.key, v_row.type,
          v_row.is_secret, v_row.version, v_row.value, v_op, auth.uid());
  perform private.audit(
    v_team, 'config.' || case v_op when 'insert' then 'create' else v_op end,
    'configuration', v_row.id::text, v_row.project_id, v_row.environment_id,
    jsonb_build_object('key', v_row.key, 'version', v_row.version,
                       'is_secret', v_row.is_secret, 'type', v_row.type));
  return null;
end
$$;
comment on function private.configurations_log() is
  'PERMISSIONS.md: every configuration change writes history and an audit row, whatever road';
create trigger configurations_log after insert or update or delete on public.configurations
  for each row execute function private.configurations_log();

-- The secret value of the newest history row of that configuration.
create or replace function private.configuration_secrets_log() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_history bigint;
begin
  select h.id into v_history
    from public.configuration_history h
    where h.configuration_id = new.configuration_id and h.op <> 'delete'
    order by h.id desc
    limit 1;
  if v_history is not null then
    insert into public.configuration_history_secrets (history_id, value)
    values (v_history, new.value)
    on conflict (history_id) do update set value = excluded.value;
  end if;
  return null;
end
$$;
comment on function private.configuration_secrets_log() is
  'PERMISSIONS.md configuration history: secret values of history rows kept apart';
create trigger configuration_secrets_log after insert or update on public.configuration_secrets
  for each row execute function private.configuration_secrets_log();

-- Membership rules that hold on every road (RPC, service role, SQL console): the owner stays an
-- admin member and a team never loses its last admin. Skipped when the team itself is deleted.
create or replace function private.team_members_guard() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_owner uuid;
begin
  select t.owner_id into v_owner from public.teams t where t.id = old.team_id;
  if not found then
    return case when tg_op = 'DELETE' then old else new end;
  end if;
  if tg_op = 'UPDATE' and (new.team_id <> old.team_id or new.user_id <> old.user_id) then
    raise exception 'a membership cannot be moved; remove it and add a new one'
      using errcode = '22023';
  end if;
  if old.role = 'admin' and (tg_op = 'DELETE' or new.role <> 'admin') then
    if old.user_id = v_owner then
      raise exception 'the team owner cannot be removed or demoted'
        using errcode = '42501';
    end if;
    if not exists (
      select 1 from public.team_members m
      where m.team_id = old.team_id and m.role = 'admin' and m.user_id <> old.user_id
    ) then
      raise exception 'the last admin of a team cannot be removed or demoted'
        using errcode = '42501';
    end if;
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;
comment on function private.team_members_guard() is
  'PERMISSIONS.md team_members: nobody can remove or demote the last admin or the owner';
create trigger team_members_guard before update or delete on public.team_members
  for each row execute function private.team_members_guard();

-- Audit for every membership change.
create or replace function private.team_members_log() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.team_id, 'member.add', 'team_member', new.user_id::text, null,
                          null, jsonb_build_object('role', new.role));
  elsif tg_op = 'UPDATE' then
    if new.role is distinct from old.role then
      perform private.audit(new.team_id, 'member.role', 'team_member', new.user_id::text, null,
                            null, jsonb_build_object('from', old.role, 'to', new.role));
    end if;
  elsif exists (select 1 from public.teams t where t.id = old.team_id) then
    perform private.audit(old.team_id, 'member.remove', 'team_member', old.user_id::text, null,
                          null, jsonb_build_object('role', old.role));
  end if;
  return null;
end
$$;
comment on function private.team_members_log() is
  'PERMISSIONS.md: every membership change writes an audit row, whatever road';
create trigger team_members_log after insert or update or delete on public.team_members
  for each row execute function private.team_members_log();

create or replace function private.teams_log() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit(new.id, 'team.create', 'team', new.id::text, null, null,
                        jsonb_build_object('name', new.name, 'slug', new.slug));
  return null;
end
$$;
comment on function private.teams_log() is
  'PERMISSIONS.md audit log: team creation is recorded';
create trigger teams_log after insert on public.teams
  for each row execute function private.teams_log();

revoke all on public.configuration_secrets, public.configuration_history,
  public.configuration_history_secrets, public.audit_log
  from anon, authenticated, public;
-- Not even the service role reads secret values directly (Supabase's default grants give it
-- everything in public): they leave the database only through the reveal functions.
revoke all on public.configuration_secrets, public.configuration_history_secrets
  from service_role;
revoke all on function private.audit(uuid, text, text, text, uuid, uuid, jsonb),
  private.configurations_log(), private.configuration_secrets_log(),
  private.team_members_guard(), private.team_members_log(), private.teams_log()
  from public;
