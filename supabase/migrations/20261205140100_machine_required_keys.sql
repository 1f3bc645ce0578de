-- Required keys for a machine (issue 14): `devsync run` with a machine token refuses to start
-- while a key its environment's template requires is missing, as it does for people. A machine
-- may not read templates (PERMISSIONS.md "machine"), so it gets exactly this: the keys its own
-- environment's template marks `"required": true`, and the template's name. Never another
-- environment's, never a value (a template holds no secret values anyway).

create or replace function private.machine_required_keys()
returns table (key text, template_name text)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_token public.machine_tokens := private.machine_token();
begin
  return query
    select j.k, t.name
    from public.environments e
    join public.env_templates t on t.id = e.template_id
    cross join lateral jsonb_each(t.config_json) as j(k, v)
    where e.id = v_token.environment_id
      and jsonb_typeof(j.v) = 'object'
      and j.v -> 'required' = 'true'::jsonb
    order by j.k;
end
$$;
comment on function private.machine_required_keys() is
  'PERMISSIONS.md machine: the required keys of its environment''s template (docs/DATABASE.md)';

create or replace function public.machine_required_keys()
returns table (key text, template_name text)
language sql volatile set search_path = ''
as $$ select * from private.machine_required_keys() $$;

revoke all on function private.machine_required_keys(), public.machine_required_keys()
  from public, authenticated, service_role;
grant execute on function private.machine_required_keys(), public.machine_required_keys()
  to anon;
