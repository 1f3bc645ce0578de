-- health_sparklines: the Health pane's slot averages as one row per environment and metric,
-- the slots as arrays, instead of health_buckets' row per environment, metric and slot. At
-- 500 machines x 4 metrics x 60 slots health_buckets returned ~120,000 rows, and reading them
-- (one Python object each) was most of the pane's read (0.54-0.82 s with health_latest; the
-- scans themselves are cheap since ...180000_health_rollup). Here the same averages travel as
-- 2,000 rows of two arrays each, built per environment (inside its lateral: sorting all
-- 120,000 slots together for the arrays cost ~12 % more).
--
-- Same answer as health_buckets: slot i of p_slots covers [since + i*w, since + (i+1)*w) with
-- w = (until - since) / p_slots (a point exactly at the end is in the last slot), read from
-- health_rollup for windows of whole 12-minute cells, from the points otherwise (the same
-- three plans). averages[i + 1] / counts[i + 1] are slot i's average and number of
-- points (NULL / 0: no point with a number there); an environment and metric without any
-- point in the window has no row. Rows are ordered by environment and metric (the Supabase
-- transport pages through max_rows-sized responses).
--
-- PERMISSIONS.md health_checks read: members. Exactly as health_buckets: security invoker (the
-- select policies of health_checks and health_rollup decide which environments contribute:
-- only those the caller may read), execute revoked from public and anon, granted to
-- authenticated. health_buckets is dropped: nothing reads it any more (the pane, both
-- transports and the benches read health_sparklines).

create function public.health_sparklines(
  p_environment_ids uuid[],
  p_since timestamptz,
  p_slots integer,
  p_until timestamptz default null
) returns table (
  environment_id uuid, metric_type text, since timestamptz, slot_seconds double precision,
  averages double precision[], counts integer[]
)
language plpgsql stable security invoker
set search_path = ''
set work_mem = '32MB'
as $$
declare
  v_until timestamptz := coalesce(p_until, now());
  v_span double precision;
  v_visible boolean;
  v_per_env text;
  v_all text;
  v_arrays text;
  v_grid constant timestamptz := timestamptz '1970-01-01 00:00:00+00';
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
  -- v_per_env: the slots of one environment e.id with a point, (metric_type, slot, value, n),
  -- as health_buckets answered them; v_all: the same for every environment at once (with
  -- environment_id first). Parameters: $1 ids, $2 since, $3 slots, $4 until, $5 span in
  -- seconds, $6 since's epoch, $7 slot length in whole seconds.
  --
  -- Whole 12-minute cells: both ends on the grid, each slot a whole number of cells, and no
  -- cell of the window without a sum (numbers >= 1e290; the partial index answers at once).
  if date_bin('12 minutes', p_since, v_grid) = p_since
     and date_bin('12 minutes', v_until, v_grid) = v_until
     and (extract(epoch from v_until - p_since) % (p_slots * 720)) = 0
     and not exists (
       select 1 from public.health_rollup r
       where r.environment_id = any(p_environment_ids) and r.sum is null
         and r.bucket_start >= p_since and r.bucket_start < v_until
     ) then
    v_per_env := $q$
      select p.metric_type, p.slot, sum(p.s) / sum(p.k) as value, sum(p.k)::integer as n
      from (
        select r.metric_type,
               ((date_part('epoch', r.bucket_start) - $6)::bigint / $7)::integer as slot,
               r.sum as s, r.n as k
        from public.health_rollup r
        where r.environment_id = e.id and r.bucket_start >= $2 and r.bucket_start < $4
        union all
        -- a point exactly at the end: the last slot (its cell starts the next window)
        select c.metric_type, $3 - 1,
               case
                 when jsonb_typeof(c.value -> 'value') = 'number'
                   then (c.value ->> 'value')::float8
                 when jsonb_typeof(c.value -> 'percent') = 'number'
                   then (c.value ->> 'percent')::float8
                 when jsonb_typeof(c.value -> 'ms') = 'number' then (c.value ->> 'ms')::float8
               end,
               1
        from public.health_checks c
        where c.environment_id = e.id
          and c.metric_type = any('{cpu,memory,disk,ping}'::text[])
          and c.recorded_at = $4
      ) p
      where p.s is not null
      group by 1, 2
    $q$;
  else
    -- relpages 0: never vacuumed nor analyzed (a new, small table): either plan is fast there.
    select c.relallvisible >= 0.9 * c.relpages into v_visible
    from pg_catalog.pg_class c
    where c.oid = 'public.health_checks'::regclass;
    if v_visible then
      -- 190000: one environment at a time, index-only scans of health_checks_series_number_idx.
      v_per_env := $q$
        select p.metric_type, p.slot, avg(p.number) as value, count(*)::integer as n
        from (
          select c.metric_type,
                 least($3 - 1, floor(date_part('epoch', c.recorded_at - $2) * $3 / $5)::integer)
                   as slot,
                 -- = private.health_number(c.value), as in health_checks_series_number_idx
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
          -- not flattened: the number is an output of the scan, which an index-only scan
          -- reads from the index (flattened, the aggregates would work it out of "value")
          offset 0
        ) p
        where p.number is not null
        group by 1, 2
      $q$;
    else
      -- 171000: one sequential scan, the number worked out of "value" once per point.
      v_all := $q$
        select p.environment_id, p.metric_type, p.slot, avg(p.number) as value,
               count(*)::integer as n
        from (
          select c.environment_id, c.metric_type,
                 least($3 - 1, floor(date_part('epoch', c.recorded_at - $2) * $3 / $5)::integer)
                   as slot,
                 -- = private.health_number(c.value): the first number of "value", "percent", "ms"
                 case
                   when jsonb_typeof(c.value -> 'value') = 'number'
                     then (c.value ->> 'value')::float8
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
      $q$;
    end if;
  end if;
  -- x: per environment and metric with a point, the k slots with a point in order (k, slots,
  -- vals, ns); for the per-environment plans built inside each environment's lateral (~12 %
  -- less than sorting all 120,000 slots of 500 environments together).
  if v_all is null then
    v_arrays := format($q$
      select e.id as environment_id, h.metric_type, h.k, h.slots, h.vals, h.ns
      from (select distinct u.id from unnest($1) u(id)) e
      cross join lateral (
        select g.metric_type, count(*)::integer as k, array_agg(g.slot order by g.slot) as slots,
               array_agg(g.value order by g.slot) as vals, array_agg(g.n order by g.slot) as ns
        from (%s) g
        group by 1
      ) h
    $q$, v_per_env);
  else
    v_arrays := format($q$
      select b.environment_id, b.metric_type, count(*)::integer as k,
             array_agg(b.slot order by b.slot) as slots,
             array_agg(b.value order by b.slot) as vals, array_agg(b.n order by b.slot) as ns
      from (%s) b
      group by 1, 2
    $q$, v_all);
  end if;
  -- Each environment and metric with a point: its slots in order, the empty ones NULL / 0.
  -- A machine that reported all along has every slot; one that stopped (or started) within the
  -- window has slots 0 .. k-1 (or $3-k .. $3-1), padded at the end (or start) in one step;
  -- other gaps are placed slot by slot.
  return query execute format($q$
    select x.environment_id, x.metric_type, $2, $5 / $3,
           case when x.k = $3 then x.vals
                when x.slots[x.k] = x.k - 1
                  then x.vals || array_fill(null::float8, array[$3 - x.k])
                when x.slots[1] = $3 - x.k
                  then array_fill(null::float8, array[$3 - x.k]) || x.vals
                else array(select x.vals[array_position(x.slots, i)]
                           from generate_series(0, $3 - 1) i order by i) end,
           case when x.k = $3 then x.ns
                when x.slots[x.k] = x.k - 1 then x.ns || array_fill(0, array[$3 - x.k])
                when x.slots[1] = $3 - x.k then array_fill(0, array[$3 - x.k]) || x.ns
                else array(select coalesce(x.ns[array_position(x.slots, i)], 0)
                           from generate_series(0, $3 - 1) i order by i) end
    from (%s) x
    -- a stable order: the Supabase transport pages through max_rows-sized responses
    order by 1, 2
  $q$, v_arrays)
  using p_environment_ids, p_since, p_slots, v_until, v_span, date_part('epoch', p_since),
        (v_span / p_slots)::bigint;
end
$$;
comment on function public.health_sparklines(uuid[], timestamptz, integer, timestamptz) is
  'PERMISSIONS.md health_checks read: members (security invoker: the select policies of '
  'health_checks and health_rollup apply)';

revoke all on function public.health_sparklines(uuid[], timestamptz, integer, timestamptz)
  from public, anon;
grant execute on function public.health_sparklines(uuid[], timestamptz, integer, timestamptz)
  to authenticated;

drop function public.health_buckets(uuid[], timestamptz, integer, timestamptz);

comment on index public.health_checks_series_number_idx is
  'health_sparklines: index-only scans of one environment''s points with their number';
comment on table public.health_rollup is
  'Sum and count of health_checks numbers per environment, 12-minute cell (epoch grid) and '
  'metric; kept by triggers on health_checks, read by health_sparklines';
