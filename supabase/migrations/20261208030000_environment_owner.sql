-- Whose machine an environment is (a QA finding of a new team's first day). The owner
-- (`environments.user_id`) was whoever created it, so an admin who set up "bob-laptop" for bob
-- owned it: bob could neither change its overrides nor reveal its secrets (the env-owner
-- rules), and nothing could hand it to him.
--
-- set_environment_owner(environment, user): admins of the environment's team give it to a
-- member or admin of that team (a viewer never writes, so cannot own; an outsider cannot).
-- Audited as `environment.owner` with the old and new owner. Configurations are not touched.
-- Machine tokens of the environment are not touched either: a token made by an admin keeps
-- working; a token made by the former owner as a plain member stops with reason `creator`
-- (DATABASE.md "Machines": a token does not outlive its creator's access).
--
-- The owner now moves only through this function: the direct column update of `user_id`
-- (granted since the first RLS migration, open to admins by the update policy, unaudited and
-- unchecked: it could hand an environment to a viewer or to someone outside the team) is
-- revoked. create_environment takes an optional owner (p_owner, admins only when not the
-- caller: the same rules, the same audit row).

do $$
declare
  v_actions text[];
begin
  -- the constraint as it stands: `action = any ('{a,b,…}'::text[])` since accepted_risks
  -- (one array literal), `action in ('a', 'b', …)` before it (one literal each)
  select array_agg(distinct a) into v_actions
    from pg_constraint c,
         regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g') m,
         unnest(case when m[1] like '{%}' then m[1]::text[] else array[m[1]] end) a
    where c.conname = 'audit_log_action_check' and c.conrelid = 'public.audit_log'::regclass;
  v_actions := array(select distinct a from unnest(
    coalesce(v_actions, '{}') || array['environment.owner']) a order by a);
  alter table public.audit_log drop constraint audit_log_action_check;
  execute format('alter table public.audit_log add constraint audit_log_action_check'
                 ' check (action = any (%L::text[]))', v_actions);
end
$$;

revoke update (user_id) on public.environments from authenticated;

create or replace function private.set_environment_owner(p_environment_id uuid, p_user_id uuid)
returns public.environments
language plpgsql security definer set search_path = ''
as $$
declare
  v_env public.environments;
  v_team uuid;
  v_role text;
  v_from uuid;
begin
  select e.* into v_env from public.environments e where e.id = p_environment_id for update;
  if v_env.id is null then
    raise exception 'environment not found' using errcode = 'P0002';
  end if;
  select p.team_id into v_team from public.projects p where p.id = v_env.project_id;
  if v_team is null or v_team not in (select private.my_admin_team_ids()) then
    raise exception 'only an admin of the team can change who owns an environment'
      using errcode = '42501';
  end if;
  select m.role into v_role from public.team_members m
    where m.team_id = v_team and m.user_id = p_user_id;
  if v_role is null or v_role not in ('admin', 'member') then
    raise exception 'an environment can belong only to a member or an admin of its team%',
      case when v_role = 'viewer' then ' (viewers do not write)' else '' end
      using errcode = '22023';
  end if;
  if v_env.user_id is not distinct from p_user_id then
    return v_env;
  end if;
  v_from := v_env.user_id;
  update public.environments e set user_id = p_user_id
    where e.id = p_environment_id
    returning * into v_env;
  perform private.audit(
    v_team, 'environment.owner', 'environment', v_env.id::text, v_env.project_id, v_env.id,
    jsonb_build_object(
      'name', v_env.name,
      'from', v_from,
      'to', p_user_id));
  return v_env;
end
$$;
comment on function private.set_environment_owner(uuid, uuid) is
  'PERMISSIONS.md environments change owner: admins of the team; the new owner a member or '
  'admin of the team (audited)';

create or replace function public.set_environment_owner(p_environment_id uuid, p_user_id uuid)
returns public.environments
language sql volatile set search_path = ''
as $$ select * from private.set_environment_owner(p_environment_id, p_user_id) $$;

-- create_environment with an optional owner. The old three-argument function goes: beside a
-- four-argument one with a default it would make every three-argument call ambiguous. Called
-- by name (PostgREST) or by position with three arguments, the new one answers the same.
drop function public.create_environment(uuid, text, uuid);

create or replace function private.create_environment(
  p_project_id uuid, p_name text, p_template_id uuid, p_owner uuid
) returns public.environments
language plpgsql security definer set search_path = ''
as $$
declare
  v_env public.environments;
begin
  v_env := private.create_environment(p_project_id, p_name, p_template_id);
  if p_owner is not null and p_owner is distinct from auth.uid() then
    -- the same rules as handing it over afterwards: admins only, a member or admin as owner
    v_env := private.set_environment_owner(v_env.id, p_owner);
  end if;
  return v_env;
end
$$;
comment on function private.create_environment(uuid, text, uuid, uuid) is
  'PERMISSIONS.md environments create: members for an environment they own (admins too); '
  'owned by someone else: admins, the owner a member or admin of the team';

create function public.create_environment(
  p_project_id uuid, p_name text, p_template_id uuid default null, p_owner uuid default null
) returns public.environments
language sql set search_path = ''
as $$ select * from private.create_environment(p_project_id, p_name, p_template_id, p_owner) $$;

revoke all on function private.set_environment_owner(uuid, uuid),
  public.set_environment_owner(uuid, uuid),
  private.create_environment(uuid, text, uuid, uuid),
  public.create_environment(uuid, text, uuid, uuid) from public, anon;
grant execute on function private.set_environment_owner(uuid, uuid),
  public.set_environment_owner(uuid, uuid),
  private.create_environment(uuid, text, uuid, uuid),
  public.create_environment(uuid, text, uuid, uuid) to authenticated, service_role;
