-- Row level security per ../shared/design/PERMISSIONS.md, written the Supabase way: policies
-- `to authenticated`, `(select auth.uid())` evaluated once per statement, membership looked up
-- by security-definer helpers in `private` (no recursion through team_members' own policy).

create or replace function private.my_team_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.team_id from public.team_members m where m.user_id = (select auth.uid())
$$;
comment on function private.my_team_ids() is
  'PERMISSIONS.md "members of the team": teams the caller belongs to in any role';

create or replace function private.my_writer_team_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.team_id from public.team_members m
  where m.user_id = (select auth.uid()) and m.role in ('admin', 'member')
$$;
comment on function private.my_writer_team_ids() is
  'PERMISSIONS.md "admins, members" (viewers are read-only): teams where the caller may write';

create or replace function private.my_admin_team_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.team_id from public.team_members m
  where m.user_id = (select auth.uid()) and m.role = 'admin'
$$;
comment on function private.my_admin_team_ids() is
  'PERMISSIONS.md "admins": teams where the caller is an admin';

create or replace function private.my_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id from public.projects p
  join public.team_members m on m.team_id = p.team_id
  where m.user_id = (select auth.uid())
$$;
comment on function private.my_project_ids() is
  'PERMISSIONS.md "members": projects of the teams the caller belongs to';

create or replace function private.my_writer_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id from public.projects p
  join public.team_members m on m.team_id = p.team_id
  where m.user_id = (select auth.uid()) and m.role in ('admin', 'member')
$$;
comment on function private.my_writer_project_ids() is
  'PERMISSIONS.md "admins, members": projects where the caller may write team-wide data';

create or replace function private.my_admin_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id from public.projects p
  join public.team_members m on m.team_id = p.team_id
  where m.user_id = (select auth.uid()) and m.role = 'admin'
$$;
comment on function private.my_admin_project_ids() is
  'PERMISSIONS.md "admins": projects of the teams where the caller is an admin';

create or replace function private.my_env_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select e.id from public.environments e
  join public.projects p on p.id = e.project_id
  join public.team_members m on m.team_id = p.team_id
  where m.user_id = (select auth.uid())
$$;
comment on function private.my_env_ids() is
  'PERMISSIONS.md "members": environments of the teams the caller belongs to';

create or replace function private.my_admin_env_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select e.id from public.environments e
  join public.projects p on p.id = e.project_id
  join public.team_members m on m.team_id = p.team_id
  where m.user_id = (select auth.uid()) and m.role = 'admin'
$$;
comment on function private.my_admin_env_ids() is
  'PERMISSIONS.md "admins": environments of the teams where the caller is an admin';

create or replace function private.my_owned_env_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select e.id from public.environments e
  join public.projects p on p.id = e.project_id
  join public.team_members m on m.team_id = p.team_id
  where e.user_id = (select auth.uid()) and m.user_id = (select auth.uid())
    and m.role in ('admin', 'member')
$$;
comment on function private.my_owned_env_ids() is
  'PERMISSIONS.md "env owner": environments the caller owns while a member or admin (not viewer)';

create or replace function private.can_write_scope(p_project_id uuid, p_environment_id uuid)
returns boolean
language sql stable security definer set search_path = ''
as $$
  select case
    when p_environment_id is null then
      p_project_id in (select private.my_writer_project_ids())
    else
      p_project_id in (select private.my_admin_project_ids())
      or exists (
        select 1 from private.my_owned_env_ids() o(id)
        join public.environments e on e.id = o.id
        where o.id = p_environment_id and e.project_id = p_project_id)
  end
$$;
comment on function private.can_write_scope(uuid, uuid) is
  'PERMISSIONS.md configurations/dependencies: default or baseline by admins and members, '
  'environment-specific by admins and the env owner';

create or replace function private.can_reveal(p_project_id uuid, p_environment_id uuid)
returns boolean
language sql stable security definer set search_path = ''
as $$
  select
    p_project_id in (select private.my_admin_project_ids())
    or case
      when p_environment_id is null then exists (
        select 1 from private.my_owned_env_ids() o(id)
        join public.environments e on e.id = o.id
        where e.project_id = p_project_id)
      else exists (
        select 1 from private.my_owned_env_ids() o(id)
        join public.environments e on e.id = o.id
        where o.id = p_environment_id and e.project_id = p_project_id)
    end
$$;
comment on function private.can_reveal(uuid, uuid) is
  'PERMISSIONS.md secret values (reveal): admins; env owner (member or admin) for the env; '
  'for a project default, a member owning an environment of that project; viewers never';

-- profiles -----------------------------------------------------------------------------------
alter table public.profiles enable row level security;
create policy profiles_select on public.profiles for select to authenticated using (true);
comment on policy profiles_select on public.profiles is
  'PERMISSIONS.md profiles read: any signed-in user';
create policy profiles_update on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
comment on policy profiles_update on public.profiles is
  'PERMISSIONS.md profiles change: own row only';
grant select on public.profiles to authenticated;
grant update (username, full_name, avatar_url) on public.profiles to authenticated;

-- teams --------------------------------------------------------------------------------------
alter table public.teams enable row level security;
create policy teams_select on public.teams for select to authenticated
  using (id in (select private.my_team_ids()));
comment on policy teams_select on public.teams is 'PERMISSIONS.md teams read: members of the team';
create policy teams_update on public.teams for update to authenticated
  using (id in (select private.my_admin_team_ids()))
  with check (id in (select private.my_admin_team_ids()));
comment on policy teams_update on public.teams is 'PERMISSIONS.md teams change: admins';
create policy teams_delete on public.teams for delete to authenticated
  using (owner_id = (select auth.uid()));
comment on policy teams_delete on public.teams is 'PERMISSIONS.md teams delete: owner';
grant select, delete on public.teams to authenticated;
grant update (name, slug) on public.teams to authenticated;

-- team_members (writes only through the membership RPCs) --------------------------------------
alter table public.team_members enable row level security;
create policy team_members_select on public.team_members for select to authenticated
  using (team_id in (select private.my_team_ids()));
comment on policy team_members_select on public.team_members is
  'PERMISSIONS.md team_members read: members of the same team';
grant select on public.team_members to authenticated;

-- projects -----------------------------------------------------------------------------------
alter table public.projects enable row level security;
create policy projects_select on public.projects for select to authenticated
  using (team_id in (select private.my_team_ids()));
comment on policy projects_select on public.projects is 'PERMISSIONS.md projects read: members';
create policy projects_insert on public.projects for insert to authenticated
  with check (team_id in (select private.my_writer_team_ids()));
comment on policy projects_insert on public.projects is
  'PERMISSIONS.md projects create: admins, members';
create policy projects_update on public.projects for update to authenticated
  using (team_id in (select private.my_writer_team_ids()))
  with check (team_id in (select private.my_writer_team_ids()));
comment on policy projects_update on public.projects is
  'PERMISSIONS.md projects change: admins, members';
create policy projects_delete on public.projects for delete to authenticated
  using (team_id in (select private.my_admin_team_ids()));
comment on policy projects_delete on public.projects is 'PERMISSIONS.md projects delete: admins';
grant select, insert, delete on public.projects to authenticated;
grant update (name, description, repository_url) on public.projects to authenticated;

-- env_templates ------------------------------------------------------------------------------
alter table public.env_templates enable row level security;
create policy env_templates_select on public.env_templates for select to authenticated
  using (is_public or project_id in (select private.my_project_ids()));
comment on policy env_templates_select on public.env_templates is
  'PERMISSIONS.md env_templates read: members of the team; everyone signed in when is_public';
create policy env_templates_insert on public.env_templates for insert to authenticated
  with check (project_id in (select private.my_writer_project_ids())
              and created_by = (select auth.uid()));
comment on policy env_templates_insert on public.env_templates is
  'PERMISSIONS.md env_templates create: admins, members (as themselves)';
create policy env_templates_update on public.env_templates for update to authenticated
  using (project_id in (select private.my_writer_project_ids()))
  with check (project_id in (select private.my_writer_project_ids()));
comment on policy env_templates_update on public.env_templates is
  'PERMISSIONS.md env_templates change: admins, members';
create policy env_templates_delete on public.env_templates for delete to authenticated
  using (project_id in (select private.my_admin_project_ids())
         or (created_by = (select auth.uid())
             and project_id in (select private.my_writer_project_ids())));
comment on policy env_templates_delete on public.env_templates is
  'PERMISSIONS.md env_templates delete: admins, or the template''s creator';
grant select, insert, delete on public.env_templates to authenticated;
grant update (name, config_json, dependencies_json, is_public) on public.env_templates
  to authenticated;

-- environments -------------------------------------------------------------------------------
alter table public.environments enable row level security;
create policy environments_select on public.environments for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy environments_select on public.environments is
  'PERMISSIONS.md environments read: members';
create policy environments_insert on public.environments for insert to authenticated
  with check (project_id in (select private.my_admin_project_ids())
              or (user_id = (select auth.uid())
                  and project_id in (select private.my_writer_project_ids())));
comment on policy environments_insert on public.environments is
  'PERMISSIONS.md environments create: admins; members for an environment they own';
create policy environments_update on public.environments for update to authenticated
  using (project_id in (select private.my_admin_project_ids())
         or id in (select private.my_owned_env_ids()))
  with check (project_id in (select private.my_admin_project_ids())
              or (user_id = (select auth.uid())
                  and project_id in (select private.my_writer_project_ids())));
comment on policy environments_update on public.environments is
  'PERMISSIONS.md environments change: admins; members for an environment they own';
create policy environments_delete on public.environments for delete to authenticated
  using (project_id in (select private.my_admin_project_ids())
         or id in (select private.my_owned_env_ids()));
comment on policy environments_delete on public.environments is
  'PERMISSIONS.md environments delete: admins, env owner';
grant select, insert, delete on public.environments to authenticated;
grant update (template_id, user_id, name, status, last_sync_at) on public.environments
  to authenticated;

-- configurations (writes only through the configuration RPCs) ---------------------------------
alter table public.configurations enable row level security;
create policy configurations_select on public.configurations for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy configurations_select on public.configurations is
  'PERMISSIONS.md configurations read: members (secret values are not in this table)';
grant select on public.configurations to authenticated;

-- secret values: RLS on, no policy, no grant ---------------------------------------------------
alter table public.configuration_secrets enable row level security;
alter table public.configuration_history_secrets enable row level security;

alter table public.configuration_history enable row level security;
create policy configuration_history_select on public.configuration_history
  for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy configuration_history_select on public.configuration_history is
  'PERMISSIONS.md configuration history read: members (secret values follow the reveal rule)';
grant select on public.configuration_history to authenticated;

alter table public.audit_log enable row level security;
create policy audit_log_select on public.audit_log for select to authenticated
  using (team_id in (select private.my_admin_team_ids()));
comment on policy audit_log_select on public.audit_log is
  'PERMISSIONS.md audit log read: admins of the team';
grant select on public.audit_log to authenticated;

-- dependencies -------------------------------------------------------------------------------
alter table public.dependencies enable row level security;
create policy dependencies_select on public.dependencies for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy dependencies_select on public.dependencies is
  'PERMISSIONS.md dependencies read: members';
create policy dependencies_insert on public.dependencies for insert to authenticated
  with check (
    (environment_id is null and project_id in (select private.my_writer_project_ids()))
    or (environment_id is not null
        and (project_id in (select private.my_admin_project_ids())
             or environment_id in (select private.my_owned_env_ids()))));
comment on policy dependencies_insert on public.dependencies is
  'PERMISSIONS.md dependencies create: baseline by admins, members; env-specific by admins, env owner';
create policy dependencies_update on public.dependencies for update to authenticated
  using (
    (environment_id is null and project_id in (select private.my_writer_project_ids()))
    or (environment_id is not null
        and (project_id in (select private.my_admin_project_ids())
             or environment_id in (select private.my_owned_env_ids()))))
  with check (
    (environment_id is null and project_id in (select private.my_writer_project_ids()))
    or (environment_id is not null
        and (project_id in (select private.my_admin_project_ids())
             or environment_id in (select private.my_owned_env_ids()))));
comment on policy dependencies_update on public.dependencies is
  'PERMISSIONS.md dependencies change: baseline by admins, members; env-specific by admins, env owner';
create policy dependencies_delete on public.dependencies for delete to authenticated
  using (
    (environment_id is null and project_id in (select private.my_writer_project_ids()))
    or (environment_id is not null
        and (project_id in (select private.my_admin_project_ids())
             or environment_id in (select private.my_owned_env_ids()))));
comment on policy dependencies_delete on public.dependencies is
  'PERMISSIONS.md dependencies delete: baseline by admins, members; env-specific by admins, env owner';
grant select, insert, delete on public.dependencies to authenticated;
grant update (version_constraint, resolved_version, status) on public.dependencies
  to authenticated;

-- health_checks (no updates) -----------------------------------------------------------------
alter table public.health_checks enable row level security;
create policy health_checks_select on public.health_checks for select to authenticated
  using (environment_id in (select private.my_env_ids()));
comment on policy health_checks_select on public.health_checks is
  'PERMISSIONS.md health_checks read: members';
create policy health_checks_insert on public.health_checks for insert to authenticated
  with check (environment_id in (select private.my_admin_env_ids())
              or environment_id in (select private.my_owned_env_ids()));
comment on policy health_checks_insert on public.health_checks is
  'PERMISSIONS.md health_checks create: admins, env owner (the machine''s agent)';
create policy health_checks_delete on public.health_checks for delete to authenticated
  using (environment_id in (select private.my_admin_env_ids()));
comment on policy health_checks_delete on public.health_checks is
  'PERMISSIONS.md health_checks delete: admins (retention)';
grant select, insert, delete on public.health_checks to authenticated;

-- The service role (server-side jobs) bypasses RLS and gets the plain tables.
grant all on public.profiles, public.teams, public.team_members, public.projects,
  public.env_templates, public.environments, public.configurations, public.dependencies,
  public.health_checks, public.configuration_history, public.audit_log
  to service_role;

-- Helpers: callable by the signed-in role (policies run as the caller), never by anon.
revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function
  private.my_team_ids(), private.my_writer_team_ids(), private.my_admin_team_ids(),
  private.my_project_ids(), private.my_writer_project_ids(), private.my_admin_project_ids(),
  private.my_env_ids(), private.my_admin_env_ids(), private.my_owned_env_ids(),
  private.can_write_scope(uuid, uuid), private.can_reveal(uuid, uuid),
  -- env_templates' check constraint runs as whoever writes the template
  private.template_config_has_no_secret_values(jsonb)
  to authenticated, service_role;
