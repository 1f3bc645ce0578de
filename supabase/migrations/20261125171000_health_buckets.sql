-- Server-side bucketing of health points: a day of one machine is ~5,000 raw points, a large
-- project's day a million; the Health pane's sparklines need a few dozen averages per metric.
--
-- public.health_buckets(environment ids, since, slots[, until]) splits [since, until] (until
-- defaults to now(); a client passes it to keep the slots still while the clock ticks) into
-- p_slots equal time slots and returns, per environment, metric and slot holding at least one
-- number, the average of the points' numbers and how many points were averaged. A point at
-- exactly `until` belongs to the last slot. Slots without a point are absent: gaps stay gaps.
--
-- PERMISSIONS.md health_checks read: members. The function is security invoker: the select
-- policy health_checks_select decides which rows the caller sees, exactly as a direct select
-- would; ids the caller may not read contribute nothing. public.health_latest (below) gives the
-- newest reading per environment and metric, shown beside each sparkline.
--
-- Speed (1,000,000 points of 200 environments, all in the last day): the points of one series
-- are spread over the whole heap (machines report side by side), so reading a day of many
-- machines is a sequential scan whatever index exists; the index on (environment_id,
-- metric_type, recorded_at) serves the few-machines case (a live update re-reads one machine).
-- What costs is per point: so the number is private.health_number's CASE written inline (that
-- function is not inlinable - unnest/order/limit - and cost ~1 s per million calls; the test
-- tests/db/test_health_buckets.py checks both agree), the query is planned with its values
-- (EXECUTE: the id array is a constant, so `= any` probes a hash instead of comparing each row
-- with every id; the time range is estimated right), and the hash aggregate gets the memory to
-- stay off disk; the number is worked out once per point in a subquery kept apart (OFFSET 0),
-- not once in the filter and again in each aggregate. Measured on the large demo, 2 shared
-- cores: 200 environments × 4 metrics × 60 slots ~0.65-0.75 s under RLS (before those steps:
-- 1.3-2.2 s); 12 environments ~0.1 s (bitmap scans of the index). What remains is reading a
-- million rows once: the plan is one sequential scan and one hash aggregate.
create or replace function public.health_buckets(
  p_environment_ids uuid[],
  p_since timestamptz,
  p_slots integer,
  p_until timestamptz default null
) returns table (
  environment_id uuid, metric_type text, slot integer, value double precision, n integer
)
language plpgsql stable security invoker
set search_path = ''
set work_mem = '32MB'
as $$
declare
  v_until timestamptz := coalesce(p_until, now());
  v_span double precision;
begin
  if p_environment_ids is null or cardinality(p_environment_ids) > 500 then
    raise exception 'ask for at most 500 environments at once' using errcode = '22023';
  end if;
  if p_slots is null or p_slots < 1 or p_slots > 1440 then
    raise exception 'the number of slots must be between 1 and 1440' using errcode = '22023';
  end if;
  if p_since is null or p_since >= v_until then
    raise exception 'the start of the window must be before its end' using errcode = '22023';
  end if;
  -- date_part, not extract: extract's numeric arithmetic costs ~0.3 s per million points.
  v_span := date_part('epoch', v_until - p_since);
  -- EXECUTE plans with the actual values: a cached generic plan guesses a few rows in the
  -- window and picks an index scan plus an on-disk sort for a million points.
  return query execute $q$
    select p.environment_id, p.metric_type, p.slot, avg(p.number), count(*)::integer
    from (
      select c.environment_id, c.metric_type,
             least($3 - 1, floor(date_part('epoch', c.recorded_at - $2) / $5 * $3)::integer)
               as slot,
             -- = private.health_number(c.value): the first number of "value", "percent", "ms"
             case
               when jsonb_typeof(c.value -> 'value') = 'number' then (c.value ->> 'value')::float8
               when jsonb_typeof(c.value -> 'percent') = 'number'
                 then (c.value ->> 'percent')::float8
               when jsonb_typeof(c.value -> 'ms') = 'number' then (c.value ->> 'ms')::float8
             end as number
      from public.health_checks c
      where c.environment_id = any($1)
        and c.recorded_at >= $2 and c.recorded_at <= $4
      -- not flattened: the number is worked out once per point, not once per use
      offset 0
    ) p
    where p.number is not null
    group by 1, 2, 3
    -- a stable order: the Supabase transport pages through max_rows-sized responses
    order by 1, 2, 3
  $q$ using p_environment_ids, p_since, p_slots, v_until, v_span;
end
$$;
comment on function public.health_buckets(uuid[], timestamptz, integer, timestamptz) is
  'PERMISSIONS.md health_checks read: members (security invoker: the select policy applies)';

revoke all on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  from public, anon;
grant execute on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  to authenticated;

-- The newest point with a number per environment and metric since p_since (the value beside a
-- sparkline: a slot's average is not the latest reading). One backward index probe per
-- environment and metric on (environment_id, metric_type, recorded_at): 800 probes for 200
-- machines, whatever the number of points. Same rules as health_buckets.
create or replace function public.health_latest(p_environment_ids uuid[], p_since timestamptz)
returns setof public.health_checks
language plpgsql stable security invoker
set search_path = ''
as $$
begin
  if p_environment_ids is null or cardinality(p_environment_ids) > 500 then
    raise exception 'ask for at most 500 environments at once' using errcode = '22023';
  end if;
  if p_since is null then
    raise exception 'the start of the window is missing' using errcode = '22023';
  end if;
  return query
    select l.*
    from (select distinct u.id from unnest(p_environment_ids) u(id)) e
    cross join (values ('cpu'), ('memory'), ('disk'), ('ping')) m(metric)
    cross join lateral (
      select c.* from public.health_checks c
      where c.environment_id = e.id and c.metric_type = m.metric and c.recorded_at >= p_since
        and (jsonb_typeof(c.value -> 'value') = 'number'
             or jsonb_typeof(c.value -> 'percent') = 'number'
             or jsonb_typeof(c.value -> 'ms') = 'number')
      order by c.recorded_at desc
      limit 1
    ) l
    -- a stable order: the Supabase transport pages through max_rows-sized responses
    order by l.environment_id, l.metric_type;
end
$$;
comment on function public.health_latest(uuid[], timestamptz) is
  'PERMISSIONS.md health_checks read: members (security invoker: the select policy applies)';

revoke all on function public.health_latest(uuid[], timestamptz) from public, anon;
grant execute on function public.health_latest(uuid[], timestamptz) to authenticated;
