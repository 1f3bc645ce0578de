-- health_buckets right after a bulk load: the index-only scans of migration
-- ...190000_health_buckets_fast read the number from health_checks_series_number_idx only on pages
-- the visibility map marks all-visible. Right after many points were written at once (the large
-- demo, an import) and until autovacuum has passed, it marks none: each point is then fetched
-- from the heap in index order, and 200 environments took ~1.9 s - twice the sequential scan
-- that 190000 replaced (bench/bench_health_pane.py run right after generating the workspace).
--
-- So the function looks first at what pg_class keeps from the last vacuum or analyze:
-- with at least 90% of health_checks' pages all-visible (the steady state: autovacuum visits the
-- table every 10,000 new points since 190000) it takes the per-environment index-only plan of
-- 190000; otherwise the sequential scan and hash aggregate of 20261125171000_health_buckets,
-- unchanged. Both give the same rows in the same order (averages up to the last bits of a
-- double: the summing order differs). One catalog lookup per call.
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
  v_visible boolean;
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
  -- relpages 0: never vacuumed nor analyzed (a new, small table): either plan is fast there.
  select c.relallvisible >= 0.9 * c.relpages into v_visible
  from pg_catalog.pg_class c
  where c.oid = 'public.health_checks'::regclass;
  if v_visible then
    -- 190000: one environment at a time, index-only scans of health_checks_series_number_idx.
    return query execute $q$
      select e.id, g.metric_type, g.slot, g.value, g.n
      from (select distinct u.id from unnest($1) u(id)) e
      cross join lateral (
        select p.metric_type, p.slot, avg(p.number) as value, count(*)::integer as n
        from (
          select c.metric_type,
                 least($3 - 1, floor(date_part('epoch', c.recorded_at - $2) / $5 * $3)::integer)
                   as slot,
                 -- = private.health_number(c.value), written as in health_checks_series_number_idx
                 case
                   when jsonb_typeof(c.value -> 'value') = 'number'
                     then (c.value ->> 'value')::float8
                   when jsonb_typeof(c.value -> 'percent') = 'number'
                     then (c.value ->> 'percent')::float8
                   when jsonb_typeof(c.value -> 'ms') = 'number' then (c.value ->> 'ms')::float8
                 end as number
          from public.health_checks c
          where c.environment_id = e.id
            and c.recorded_at >= $2 and c.recorded_at <= $4
          -- not flattened: the number is an output of the scan, which an index-only scan reads
          -- from the index (flattened, the aggregates would work it out of "value" per point)
          offset 0
        ) p
        where p.number is not null
        group by 1, 2
      ) g
      -- a stable order: the Supabase transport pages through max_rows-sized responses
      order by 1, 2, 3
    $q$ using p_environment_ids, p_since, p_slots, v_until, v_span;
  else
    -- 171000: one sequential scan, the number worked out of "value" once per point.
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
  end if;
end
$$;
comment on function public.health_buckets(uuid[], timestamptz, integer, timestamptz) is
  'PERMISSIONS.md health_checks read: members (security invoker: the select policy applies)';

revoke all on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  from public, anon;
grant execute on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  to authenticated;
