-- The dashboard's opening view in one round trip (issue 16, "Start-up in one round trip").
--
-- public.open_workspace(p_project, p_environment) returns one jsonb document: who I am, my roles,
-- the teams, projects, environments and members I may see, the configuration rows of the
-- scope(s) the dashboard may open on, and the templates of those environments. Security invoker: every read below goes through the
-- tables' RLS policies (and effective_configuration, itself invoker), so it returns exactly
-- what the separate reads it replaces would, and nothing a user may not see (secret values stay
-- NULL: they live in configuration_secrets, which no policy opens).
--
-- Which scope the dashboard opens is decided by the client (core/targets.py, the one matching
-- rule). The function only narrows the candidates cheaply: with no project named, the first
-- project (by lower(name)) of the first team(s); with a name, the projects whose id or name
-- (any letter case, also the part after a "team/") matches, and with an environment name,
-- their environments that match it likewise. At most 8 scopes. The client uses the rows of
-- the scope it resolves; should it not be among these, it reads that scope as before.

create or replace function public.open_workspace(
  p_project text default null, p_environment text default null
) returns jsonb
language plpgsql stable security invoker set search_path = ''
as $$
declare
  v_me uuid := auth.uid();
  v_views jsonb := '[]'::jsonb;
  v_env_ids uuid[] := '{}';
  v_scope record;
  v_rows jsonb;
  v_name text := lower(coalesce(p_project, ''));
  v_tail text := lower(regexp_replace(coalesce(p_project, ''), '^.*/', ''));
  v_env text := lower(coalesce(p_environment, ''));
begin
  if v_me is null then
    raise exception 'open_workspace needs a signed-in user' using errcode = '42501';
  end if;
  for v_scope in
    with mine as (select t.id, t.name from public.teams t),
    first_teams as (
      select m.id from mine m where lower(m.name) = (select min(lower(name)) from mine)
    ),
    candidates as (
      select p.id, p.team_id from public.projects p
      where (p_project is null and p.team_id in (select id from first_teams)
             and lower(p.name) = (select min(lower(q.name)) from public.projects q
                                   where q.team_id = p.team_id))
         or (p_project is not null
             and (p.id::text = v_name or lower(p.name) = v_name or lower(p.name) = v_tail))
    )
    select c.id as project_id, null::uuid as environment_id from candidates c
      where p_environment is null
    union all
    select c.id, e.id from candidates c join public.environments e on e.project_id = c.id
      where p_environment is not null and (e.id::text = v_env or lower(e.name) = v_env)
    order by 1, 2
    limit 8
  loop
    if v_scope.environment_id is null then
      select coalesce(jsonb_agg(to_jsonb(d) order by d.key), '[]'::jsonb) into v_rows from (
        select c.id as configuration_id, c.project_id, c.environment_id, c.key, c.value,
               c.is_secret, c.type, c.version, 'default' as source, c.updated_at,
               (select p.username from public.configuration_history h
                  left join public.profiles p on p.id = h.changed_by
                 where h.configuration_id = c.id order by h.id desc limit 1) as updated_by,
               null::uuid as overrides_id
        from public.configurations c
        where c.project_id = v_scope.project_id and c.environment_id is null
      ) d;
    else
      select coalesce(jsonb_agg(to_jsonb(r) order by r.key), '[]'::jsonb) into v_rows
        from public.effective_configuration(v_scope.environment_id) r;
      v_env_ids := v_env_ids || v_scope.environment_id;
    end if;
    v_views := v_views || jsonb_build_array(jsonb_build_object(
      'project_id', v_scope.project_id, 'environment_id', v_scope.environment_id,
      'rows', v_rows));
  end loop;
  return jsonb_build_object(
    'me', (select jsonb_build_object('id', p.id, 'username', p.username)
             from public.profiles p where p.id = v_me),
    'roles', (select coalesce(jsonb_agg(jsonb_build_object('team_id', m.team_id, 'role', m.role)),
                              '[]'::jsonb)
                from public.team_members m where m.user_id = v_me),
    'teams', (select coalesce(jsonb_agg(to_jsonb(t) order by t.id), '[]'::jsonb)
                from public.teams t),
    'projects', (select coalesce(jsonb_agg(to_jsonb(p) order by p.id), '[]'::jsonb)
                   from public.projects p),
    'environments', (select coalesce(jsonb_agg(to_jsonb(e) order by e.id), '[]'::jsonb)
                       from public.environments e),
    'members', (select coalesce(jsonb_agg(
                  to_jsonb(m) || jsonb_build_object('username', p.username,
                                                    'full_name', p.full_name)
                  order by m.team_id, m.user_id), '[]'::jsonb)
                from public.team_members m left join public.profiles p on p.id = m.user_id),
    'views', v_views,
    -- the templates of the opened environments (their required keys), those I may see
    'templates', (select coalesce(jsonb_agg(to_jsonb(t) order by t.id), '[]'::jsonb)
                    from public.env_templates t
                   where t.id in (select e.template_id from public.environments e
                                   where e.id = any (v_env_ids))));
end
$$;
comment on function public.open_workspace(text, text) is
  'PERMISSIONS.md reads: the dashboard''s opening view in one call (security invoker: RLS of '
  'each table applies; secrets masked as in effective_configuration)';

revoke all on function public.open_workspace(text, text) from public, anon;
grant execute on function public.open_workspace(text, text) to authenticated, service_role;
