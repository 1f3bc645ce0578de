-- Retention for health_checks: raw points older than p_keep become one hourly roll-up per
-- environment, metric and hour: value = {"value": avg, "avg", "min", "max", "n", "rollup": "hour"}
-- where the numbers summarise each raw point's number (private.health_number). Run it from the agent of an
-- admin, from a service-role job, or from pg_cron on Supabase:
--   select cron.schedule('devsync-health-rollup', '17 * * * *',
--                        $$select public.rollup_health_checks()$$);

-- The number a raw point measures: its first numeric field of "value", "percent", "ms"
-- (the seed writes "value"; agents may write "percent" or "ms"); null if none.
create or replace function private.health_number(p_value jsonb) returns double precision
language sql immutable set search_path = ''
as $$
  select (p_value ->> k)::double precision
  from unnest(array['value', 'percent', 'ms']) with ordinality as u(k, n)
  where jsonb_typeof(p_value -> k) = 'number'
  order by n
  limit 1
$$;

create or replace function private.rollup_health_checks(p_keep interval) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_cutoff timestamptz;
  v_rows jsonb;
  v_folded integer;
begin
  if p_keep is null or p_keep < interval '0' then
    raise exception 'the retention period must be a positive interval' using errcode = '22023';
  end if;
  -- A signed-in caller rolls up the environments of the teams they administer; a caller with
  -- no user (service role, cron, the local superuser) rolls up every environment.
  if v_uid is not null and not exists (select 1 from private.my_admin_team_ids()) then
    raise exception 'only team admins can apply health retention' using errcode = '42501';
  end if;
  v_cutoff := now() - p_keep;

  select coalesce(jsonb_agg(jsonb_build_object(
           'environment_id', g.environment_id, 'metric_type', g.metric_type,
           'recorded_at', g.hour,
           'value', jsonb_build_object('value', g.avg, 'avg', g.avg, 'min', g.min,
                                       'max', g.max, 'n', g.n, 'rollup', 'hour'))), '[]'::jsonb)
    into v_rows
    from (
      select h.environment_id, h.metric_type, date_trunc('hour', h.recorded_at) as hour,
             avg(h.x) as avg, min(h.x) as min, max(h.x) as max, count(*) as n
      from (
        select c.environment_id, c.metric_type, c.recorded_at,
               private.health_number(c.value) as x
        from public.health_checks c
        where c.recorded_at < v_cutoff and not (c.value ? 'rollup')
          and (v_uid is null or c.environment_id in (select private.my_admin_env_ids()))
      ) h
      group by 1, 2, 3
    ) g;

  delete from public.health_checks c
  where c.recorded_at < v_cutoff and not (c.value ? 'rollup')
    and (v_uid is null or c.environment_id in (select private.my_admin_env_ids()));
  get diagnostics v_folded = row_count;

  -- A roll-up of the same hour from an earlier run (the cut-off fell inside the hour) is merged.
  insert into public.health_checks as c (environment_id, metric_type, recorded_at, value)
  select (r ->> 'environment_id')::uuid, r ->> 'metric_type', (r ->> 'recorded_at')::timestamptz,
         r -> 'value'
  from jsonb_array_elements(v_rows) r
  on conflict (environment_id, metric_type, recorded_at) do update
    set value = private.merge_rollup(c.value, excluded.value);
  return v_folded;
end
$$;
comment on function private.rollup_health_checks(interval) is
  'PERMISSIONS.md health_checks delete: admins (retention), or the service role / cron';

create or replace function private.merge_rollup(p_a jsonb, p_b jsonb) returns jsonb
language sql immutable set search_path = ''
as $$
  select jsonb_build_object(
    'value', m.avg, 'avg', m.avg,
    'min', least((p_a ->> 'min')::double precision, (p_b ->> 'min')::double precision),
    'max', greatest((p_a ->> 'max')::double precision, (p_b ->> 'max')::double precision),
    'n', m.n, 'rollup', 'hour')
  from (
    select
      coalesce((p_a ->> 'n')::integer, 1) + coalesce((p_b ->> 'n')::integer, 1) as n,
      case
        when p_a ->> 'avg' is null then (p_b ->> 'avg')::double precision
        when p_b ->> 'avg' is null then (p_a ->> 'avg')::double precision
        else ((p_a ->> 'avg')::double precision * coalesce((p_a ->> 'n')::integer, 1)
              + (p_b ->> 'avg')::double precision * coalesce((p_b ->> 'n')::integer, 1))
             / (coalesce((p_a ->> 'n')::integer, 1) + coalesce((p_b ->> 'n')::integer, 1))
      end as avg
  ) m
$$;

create or replace function public.rollup_health_checks(p_keep interval default '7 days')
returns integer
language sql set search_path = ''
as $$ select private.rollup_health_checks(p_keep) $$;

revoke all on function private.merge_rollup(jsonb, jsonb), private.health_number(jsonb)
  from public, anon, authenticated;
revoke all on function private.rollup_health_checks(interval),
  public.rollup_health_checks(interval)
  from public, anon;
grant execute on function private.rollup_health_checks(interval),
  public.rollup_health_checks(interval)
  to authenticated, service_role;
