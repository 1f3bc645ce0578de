-- The effective configuration of some keys of an environment (issue 16: a live change updates
-- the rows it touched, never a whole-table re-read). The Configuration tab re-reads only the
-- keys a change named; the answer is effective_configuration's rows for those keys: the same
-- columns, the same masking (value NULL for secrets), the same source, overrides_id and
-- "who changed it". The body is private.effective_rows' with the key filter inside each scope,
-- so that the indexes find the rows instead of the whole environment being merged and then
-- filtered.
--
-- PERMISSIONS.md configurations read: members. Security invoker, like effective_configuration:
-- row-level security decides what the caller sees; a secret's value never leaves
-- configuration_secrets here.
create or replace function public.effective_configuration_keys(
  p_environment_id uuid, p_keys text[]
)
returns table (
  configuration_id uuid, project_id uuid, environment_id uuid, key text, value text,
  is_secret boolean, type text, version integer, source text, updated_at timestamptz,
  updated_by text, overrides_id uuid
)
language sql stable set search_path = ''
as $$
  with env as (
    select e.id, e.project_id from public.environments e where e.id = p_environment_id
  ),
  defaults as (
    select c.* from public.configurations c join env on c.project_id = env.project_id
    where c.environment_id is null and c.key = any(p_keys)
  ),
  overrides as (
    select c.* from public.configurations c join env on c.environment_id = env.id
    where c.key = any(p_keys)
  ),
  merged as (
    select o.*, 'override'::text as source, d.id as overrides_id
    from overrides o left join defaults d on d.key = o.key
    union all
    select d.*, 'default'::text, null::uuid
    from defaults d where not exists (select 1 from overrides o where o.key = d.key)
  )
  select m.id, m.project_id, m.environment_id, m.key, m.value, m.is_secret, m.type, m.version,
         m.source, m.updated_at,
         (select p.username from public.configuration_history h
            left join public.profiles p on p.id = h.changed_by
            where h.configuration_id = m.id order by h.id desc limit 1),
         m.overrides_id
  from merged m
  order by m.key
$$;
comment on function public.effective_configuration_keys(uuid, text[]) is
  'PERMISSIONS.md configurations read: members (security invoker, RLS decides; secret values '
  'NULL): effective_configuration restricted to some keys';

revoke all on function public.effective_configuration_keys(uuid, text[]) from public, anon;
grant execute on function public.effective_configuration_keys(uuid, text[])
  to authenticated, service_role;
