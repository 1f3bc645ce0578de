-- Configuration drift per machine (issue 14): what each machine reports it runs, per key,
-- against the environment's effective configuration. PERMISSIONS.md "machine config states".
--
-- The comparison happens on the machine, where the values already are (`devsync env status`,
-- `devsync agent`); only the outcome is stored: a state and version numbers. Never a value,
-- never a hash of a value (a hash of a short secret is the secret).
--
-- States (the check constraint is named so a later migration can add one, e.g.
-- `missing_required`):
--   in_sync     the machine has the synced value
--   differs     the machine has another value (not one of the key's earlier plain versions)
--   missing     the key is configured but the machine has no value for it
--   only_local  the machine has a key the configuration does not
--   behind      the machine has an earlier version's value (behind_version = that N)
--   unknown     the machine could not compare: a secret its reporter may not reveal

create table public.machine_config_states (
  environment_id uuid not null,
  project_id uuid not null,
  key text not null,
  state text not null,
  -- the effective configuration's version the machine was compared with (null: only_local)
  synced_version integer,
  -- behind: the earlier version the machine's value equals
  behind_version integer,
  observed_at timestamptz not null default now(),
  primary key (environment_id, key),
  constraint machine_config_states_env_project_fk foreign key (environment_id, project_id)
    references public.environments (id, project_id) on delete cascade,
  constraint machine_config_states_key_check check (
    char_length(key) between 1 and 1024 and key !~ '[[:cntrl:]]'),
  constraint machine_config_states_state_check check (
    state in ('in_sync', 'differs', 'missing', 'only_local', 'behind', 'unknown')),
  constraint machine_config_states_versions_check check (
    (synced_version is null or synced_version >= 1)
    and (behind_version is null or (behind_version >= 1 and state = 'behind'))
    and (state <> 'behind' or behind_version is not null))
);
-- The select policy filters on project_id; the view reads a project's states at once.
create index machine_config_states_project_id_idx
  on public.machine_config_states (project_id, environment_id);

alter table public.machine_config_states enable row level security;
create policy machine_config_states_select on public.machine_config_states
  for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy machine_config_states_select on public.machine_config_states is
  'PERMISSIONS.md machine config states read: members';
create policy machine_config_states_delete on public.machine_config_states
  for delete to authenticated
  using (environment_id in (select private.my_admin_env_ids())
         or environment_id in (select private.my_owned_env_ids()));
comment on policy machine_config_states_delete on public.machine_config_states is
  'PERMISSIONS.md machine config states delete: admins, env owner';
revoke all on public.machine_config_states from anon, authenticated, public;
grant select, delete on public.machine_config_states to authenticated;
grant all on public.machine_config_states to service_role;

-- Realtime: published like the other tables; deletes are filtered on the old row.
alter publication supabase_realtime add table public.machine_config_states;
alter table public.machine_config_states replica identity full;

-- Local feed: one notification per statement and environment (a report of 500 keys is one
-- event), ids only, as for health_checks.
create or replace function private.notify_machine_config_states() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_env record;
begin
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
comment on function private.notify_machine_config_states() is
  'PERMISSIONS.md: no secret value in a LISTEN notification (ids only)';
revoke all on function private.notify_machine_config_states() from public, anon, authenticated;

create trigger machine_config_states_notify_insert after insert on public.machine_config_states
  referencing new table as changed_rows
  for each statement execute function private.notify_machine_config_states();
create trigger machine_config_states_notify_update after update on public.machine_config_states
  referencing new table as changed_rows
  for each statement execute function private.notify_machine_config_states();
create trigger machine_config_states_notify_delete after delete on public.machine_config_states
  referencing old table as changed_rows
  for each statement execute function private.notify_machine_config_states();

-- Replaces one environment's states with p_states ([{key, state, synced_version,
-- behind_version}]). A key not reported any more goes. A row whose state and versions are
-- unchanged is rewritten only when its observed_at is over 5 minutes old, so an agent
-- reporting every minute makes no change events for a machine that stays as it is.
-- No permission check: callers check first.
create or replace function private.store_config_states(p_environment_id uuid, p_states jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_project uuid;
  v_bad text;
  v_count integer;
begin
  if p_states is null or jsonb_typeof(p_states) <> 'array' then
    raise exception 'states must be a JSON array' using errcode = '22023';
  end if;
  if jsonb_array_length(p_states) > 10000 then
    raise exception 'at most 10,000 keys per report (got %)', jsonb_array_length(p_states)
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_states) e(v) where jsonb_typeof(v) <> 'object')
  then
    raise exception 'every state must be a JSON object' using errcode = '22023';
  end if;
  select e.project_id into v_project from public.environments e where e.id = p_environment_id;
  if not found then
    raise exception 'environment not found' using errcode = 'P0002';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_states) e(v)
    where coalesce(v ->> 'key', '') = '' or char_length(v ->> 'key') > 1024
       or (v ->> 'key') ~ '[[:cntrl:]]'
  ) then
    raise exception 'every state needs a key of 1 to 1,024 printable characters'
      using errcode = '22023';
  end if;
  select v ->> 'key' into v_bad from jsonb_array_elements(p_states) e(v)
    group by v ->> 'key' having count(*) > 1 limit 1;
  if found then
    raise exception 'key % is reported twice', v_bad using errcode = '22023';
  end if;
  select v ->> 'key' into v_bad from jsonb_array_elements(p_states) e(v)
    where coalesce(v ->> 'state', '') not in
      ('in_sync', 'differs', 'missing', 'only_local', 'behind', 'unknown')
    limit 1;
  if found then
    raise exception 'the state of % must be in_sync, differs, missing, only_local, behind or unknown',
      v_bad using errcode = '22023';
  end if;
  select v ->> 'key' into v_bad from jsonb_array_elements(p_states) e(v)
    where (v -> 'synced_version' is not null and jsonb_typeof(v -> 'synced_version') <> 'null'
           and (jsonb_typeof(v -> 'synced_version') <> 'number'
                or (v ->> 'synced_version')::numeric < 1
                or (v ->> 'synced_version')::numeric <> floor((v ->> 'synced_version')::numeric)))
       or (v -> 'behind_version' is not null and jsonb_typeof(v -> 'behind_version') <> 'null'
           and (jsonb_typeof(v -> 'behind_version') <> 'number'
                or (v ->> 'behind_version')::numeric < 1
                or (v ->> 'behind_version')::numeric <> floor((v ->> 'behind_version')::numeric)))
       or ((v ->> 'state') = 'behind') <> (coalesce(v ->> 'behind_version', '') <> '')
    limit 1;
  if found then
    raise exception 'the versions of % must be whole numbers from 1 (behind_version exactly '
      'when the state is behind)', v_bad using errcode = '22023';
  end if;

  delete from public.machine_config_states s
  where s.environment_id = p_environment_id
    and not exists (select 1 from jsonb_array_elements(p_states) e(v)
                    where v ->> 'key' = s.key);

  insert into public.machine_config_states as s
    (environment_id, project_id, key, state, synced_version, behind_version, observed_at)
  select p_environment_id, v_project, v ->> 'key', v ->> 'state',
         (v ->> 'synced_version')::integer, (v ->> 'behind_version')::integer, now()
  from jsonb_array_elements(p_states) e(v)
  on conflict (environment_id, key) do update
    set state = excluded.state, synced_version = excluded.synced_version,
        behind_version = excluded.behind_version, observed_at = excluded.observed_at
    where s.state is distinct from excluded.state
       or s.synced_version is distinct from excluded.synced_version
       or s.behind_version is distinct from excluded.behind_version
       or s.observed_at < excluded.observed_at - interval '5 minutes';

  select count(*) into v_count from public.machine_config_states s
    where s.environment_id = p_environment_id;
  return v_count;
end
$$;
comment on function private.store_config_states(uuid, jsonb) is
  'PERMISSIONS.md machine config states: internal writer, callers check the rule first '
  '(not granted to users)';

create or replace function private.report_config_states(p_environment_id uuid, p_states jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
begin
  if p_environment_id is null
     or not (p_environment_id in (select private.my_admin_env_ids())
             or p_environment_id in (select private.my_owned_env_ids())) then
    raise exception 'you may not report configuration states for this environment'
      using errcode = '42501';
  end if;
  return private.store_config_states(p_environment_id, p_states);
end
$$;
comment on function private.report_config_states(uuid, jsonb) is
  'PERMISSIONS.md machine config states create: admins, env owner';

create or replace function private.machine_report_config_states(p_states jsonb)
returns integer
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return private.store_config_states(v_token.environment_id, p_states);
end
$$;
comment on function private.machine_report_config_states(jsonb) is
  'PERMISSIONS.md machine: writes its environment''s config states';

-- The versions of the given keys of an environment's effective configuration, from history,
-- in the scope each key comes from (its override, else the project default): the plain value
-- of each version, never a secret's (value null). What "behind" is told from. Security
-- invoker: RLS on configuration_history decides for a user.
create or replace function private.key_versions(p_environment_id uuid, p_keys jsonb)
returns table (
  key text, version integer, value text, is_secret boolean, type text, op text,
  changed_at timestamptz, changed_by text
)
language sql stable set search_path = ''
as $$
  with env as (
    select e.id, e.project_id from public.environments e where e.id = p_environment_id
  ),
  scopes as (
    select k.key,
           case when exists (select 1 from public.configurations o join env
                               on o.project_id = env.project_id and o.environment_id = env.id
                             where o.key = k.key)
                then (select id from env) end as environment_id
    from jsonb_array_elements_text(
      case when jsonb_typeof(p_keys) = 'array' then p_keys else '[]'::jsonb end) k(key)
  )
  select h.key, h.version, case when h.is_secret then null else h.value end, h.is_secret,
         h.type, h.op, h.changed_at, p.username
  from scopes s
  join env on true
  join public.configuration_history h
    on h.project_id = env.project_id and h.key = s.key
   and h.environment_id is not distinct from s.environment_id
  left join public.profiles p on p.id = h.changed_by
  order by h.key, h.id
$$;

create or replace function public.config_key_versions(p_environment_id uuid, p_keys jsonb)
returns table (
  key text, version integer, value text, is_secret boolean, type text, op text,
  changed_at timestamptz, changed_by text
)
language sql stable set search_path = ''
as $$ select * from private.key_versions(p_environment_id, p_keys) $$;

create or replace function private.machine_config_key_versions(p_keys jsonb)
returns table (
  key text, version integer, value text, is_secret boolean, type text, op text,
  changed_at timestamptz, changed_by text
)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return query select * from private.key_versions(v_token.environment_id, p_keys);
end
$$;
comment on function private.machine_config_key_versions(jsonb) is
  'PERMISSIONS.md machine: the history of its environment''s keys (plain values only, never '
  'a secret''s), to tell "behind"';

create or replace function public.report_config_states(p_environment_id uuid, p_states jsonb)
returns integer
language sql volatile set search_path = ''
as $$ select private.report_config_states(p_environment_id, p_states) $$;

create or replace function public.machine_report_config_states(p_states jsonb)
returns integer
language sql volatile set search_path = ''
as $$ select private.machine_report_config_states(p_states) $$;

create or replace function public.machine_config_key_versions(p_keys jsonb)
returns table (
  key text, version integer, value text, is_secret boolean, type text, op text,
  changed_at timestamptz, changed_by text
)
language sql volatile set search_path = ''
as $$ select * from private.machine_config_key_versions(p_keys) $$;

revoke all on function
  private.store_config_states(uuid, jsonb), private.report_config_states(uuid, jsonb),
  private.machine_report_config_states(jsonb), private.key_versions(uuid, jsonb),
  private.machine_config_key_versions(jsonb),
  public.report_config_states(uuid, jsonb), public.machine_report_config_states(jsonb),
  public.config_key_versions(uuid, jsonb), public.machine_config_key_versions(jsonb)
  from public, anon, authenticated, service_role;
grant execute on function
  private.report_config_states(uuid, jsonb), public.report_config_states(uuid, jsonb),
  private.key_versions(uuid, jsonb), public.config_key_versions(uuid, jsonb)
  to authenticated, service_role;
grant execute on function
  private.machine_report_config_states(jsonb), public.machine_report_config_states(jsonb),
  private.machine_config_key_versions(jsonb), public.machine_config_key_versions(jsonb)
  to anon;
