-- Teams, membership and environments-from-templates. Membership is written only here (direct
-- writes on team_members are not granted); the guard trigger keeps the owner and last admin.

create or replace function private.create_team(p_name text, p_slug text) returns public.teams
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_team public.teams;
begin
  if v_uid is null then
    raise exception 'sign in to create a team' using errcode = '42501';
  end if;
  if p_name is null or char_length(btrim(p_name)) not between 1 and 200 then
    raise exception 'a team name must have 1 to 200 characters' using errcode = '22023';
  end if;
  if p_slug is null or p_slug !~ '^[a-z0-9][a-z0-9-]{0,62}$' then
    raise exception 'a team slug must be 1 to 63 lowercase letters, digits or -, not starting '
      'with -' using errcode = '22023';
  end if;
  begin
    insert into public.teams (name, slug, owner_id) values (btrim(p_name), p_slug, v_uid)
    returning * into v_team;
  exception when unique_violation then
    raise exception 'a team with slug "%" already exists', p_slug using errcode = '23505';
  end;
  insert into public.team_members (team_id, user_id, role) values (v_team.id, v_uid, 'admin');
  return v_team;
end
$$;
comment on function private.create_team(text, text) is
  'PERMISSIONS.md teams create: any signed-in user (becomes owner + admin)';

create or replace function private.check_role(p_role text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if p_role is null or p_role not in ('admin', 'member', 'viewer') then
    raise exception 'a role must be admin, member or viewer' using errcode = '22023';
  end if;
end
$$;

create or replace function private.add_team_member(p_team_id uuid, p_username text, p_role text)
returns public.team_members
language plpgsql security definer set search_path = ''
as $$
declare
  v_user uuid;
  v_row public.team_members;
begin
  if p_team_id is null or p_team_id not in (select private.my_admin_team_ids()) then
    raise exception 'only an admin of the team can add members' using errcode = '42501';
  end if;
  perform private.check_role(p_role);
  select p.id into v_user from public.profiles p where p.username = p_username;
  if v_user is null then
    select p.id into v_user from public.profiles p where lower(p.username) = lower(p_username)
      limit 1;
  end if;
  if v_user is null then
    raise exception 'no user is named "%"', p_username using errcode = 'P0002';
  end if;
  begin
    insert into public.team_members (team_id, user_id, role) values (p_team_id, v_user, p_role)
    returning * into v_row;
  exception when unique_violation then
    raise exception '"%" is already a member of this team', p_username using errcode = '23505';
  end;
  return v_row;
end
$$;
comment on function private.add_team_member(uuid, text, text) is
  'PERMISSIONS.md team_members add: admins';

create or replace function private.set_member_role(p_team_id uuid, p_user_id uuid, p_role text)
returns public.team_members
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.team_members;
begin
  if p_team_id is null or p_team_id not in (select private.my_admin_team_ids()) then
    raise exception 'only an admin of the team can change roles' using errcode = '42501';
  end if;
  perform private.check_role(p_role);
  update public.team_members m set role = p_role
    where m.team_id = p_team_id and m.user_id = p_user_id
    returning * into v_row;
  if v_row.user_id is null then
    raise exception 'that user is not a member of this team' using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function private.set_member_role(uuid, uuid, text) is
  'PERMISSIONS.md team_members change role: admins; never demote the owner or the last admin';

create or replace function private.remove_team_member(p_team_id uuid, p_user_id uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_self boolean := p_user_id = auth.uid();
begin
  if not (p_team_id in (select private.my_admin_team_ids())
          or (coalesce(v_self, false) and p_team_id in (select private.my_team_ids()))) then
    raise exception 'only an admin can remove other members of the team'
      using errcode = '42501';
  end if;
  delete from public.team_members m where m.team_id = p_team_id and m.user_id = p_user_id;
  if not found then
    raise exception 'that user is not a member of this team' using errcode = 'P0002';
  end if;
end
$$;
comment on function private.remove_team_member(uuid, uuid) is
  'PERMISSIONS.md team_members delete: admins; any member may leave, except the owner';

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
  'PERMISSIONS.md environments create: members for an environment they own (admins too)';

create or replace function public.create_team(p_name text, p_slug text) returns public.teams
language sql set search_path = ''
as $$ select * from private.create_team(p_name, p_slug) $$;

create or replace function public.add_team_member(p_team_id uuid, p_username text, p_role text)
returns public.team_members
language sql set search_path = ''
as $$ select * from private.add_team_member(p_team_id, p_username, p_role) $$;

create or replace function public.set_member_role(p_team_id uuid, p_user_id uuid, p_role text)
returns public.team_members
language sql set search_path = ''
as $$ select * from private.set_member_role(p_team_id, p_user_id, p_role) $$;

create or replace function public.remove_team_member(p_team_id uuid, p_user_id uuid)
returns void
language sql set search_path = ''
as $$ select private.remove_team_member(p_team_id, p_user_id) $$;

create or replace function public.create_environment(
  p_project_id uuid, p_name text, p_template_id uuid default null
) returns public.environments
language sql set search_path = ''
as $$ select * from private.create_environment(p_project_id, p_name, p_template_id) $$;

revoke all on function private.check_role(text) from public, anon, authenticated;
revoke all on function
  private.create_team(text, text), private.add_team_member(uuid, text, text),
  private.set_member_role(uuid, uuid, text), private.remove_team_member(uuid, uuid),
  private.create_environment(uuid, text, uuid),
  public.create_team(text, text), public.add_team_member(uuid, text, text),
  public.set_member_role(uuid, uuid, text), public.remove_team_member(uuid, uuid),
  public.create_environment(uuid, text, uuid)
  from public, anon;
grant execute on function
  private.create_team(text, text), private.add_team_member(uuid, text, text),
  private.set_member_role(uuid, uuid, text), private.remove_team_member(uuid, uuid),
  private.create_environment(uuid, text, uuid),
  public.create_team(text, text), public.add_team_member(uuid, text, text),
  public.set_member_role(uuid, uuid, text), public.remove_team_member(uuid, uuid),
  public.create_environment(uuid, text, uuid)
  to authenticated, service_role;
