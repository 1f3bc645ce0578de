-- Whether two configurations hold the same value, without revealing either.
--
-- The dashboard's Compare (two environments side by side) told whether a secret differs by
-- revealing both values: every opening wrote a `secret.reveal` audit row per secret and side,
-- though no value was shown. Now it asks this instead. The caller must be allowed to reveal
-- both (what the answer tells is what revealing both would), so the rule and the refusals are
-- reveal_secret's; no value leaves the database and no reveal is recorded.

create or replace function private.secrets_equal(p_a uuid, p_b uuid) returns boolean
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_id uuid;
  v_row public.configurations;
  v_values text[] := array[]::text[];
begin
  foreach v_id in array array[p_a, p_b] loop
    select * into v_row from public.configurations c where c.id = v_id;
    if not found then
      raise exception 'configuration not found' using errcode = 'P0002';
    end if;
    if v_row.project_id not in (select private.my_project_ids()) then
      raise exception 'you may not read this configuration' using errcode = '42501';
    end if;
    if v_row.is_secret
       and not coalesce(private.can_reveal(v_row.project_id, v_row.environment_id), false) then
      raise exception 'you may not reveal this secret' using errcode = '42501';
    end if;
    v_values := v_values || case
      when v_row.is_secret then (select s.value from public.configuration_secrets s
                                 where s.configuration_id = v_id)
      else v_row.value
    end;
  end loop;
  return v_values[1] is not distinct from v_values[2];
end
$$;
comment on function private.secrets_equal(uuid, uuid) is
  'PERMISSIONS.md secret values (reveal): whether two values are equal, for whoever may reveal both; no value returned, no reveal recorded';

create or replace function public.secrets_equal(p_a uuid, p_b uuid) returns boolean
language sql stable set search_path = ''
as $$ select private.secrets_equal(p_a, p_b) $$;

revoke all on function private.secrets_equal(uuid, uuid), public.secrets_equal(uuid, uuid)
  from public, anon;
grant execute on function private.secrets_equal(uuid, uuid), public.secrets_equal(uuid, uuid)
  to authenticated, service_role;
