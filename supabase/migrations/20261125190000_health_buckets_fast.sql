-- health_buckets within its goal (bench/README.md: <= 0.5 s for 200 environments x 4 metrics x
-- 60 slots over 1,000,000 points; it took ~0.9 s). Same signature, rules and results.
--
-- Where the time went (EXPLAIN ANALYZE as a member, large demo, 2 shared cores): the sequential
-- scan itself ~0.2 s, the number out of the jsonb "value" ~0.4 s (lookups, numeric -> text ->
-- float8), the slot ~0.1 s, the hash aggregate over one million rows ~0.2 s. The RLS check is not
-- among them: health_checks_select is `environment_id in (select private.my_env_ids())`, one
-- hashed probe per row; the same query as superuser (no RLS) takes as long. Parallel scans
-- would need private.my_env_ids parallel safe and the OFFSET 0 below gone, and take both cores;
-- a per-minute roll-up would not shrink anything (a machine reports about once a minute).
--
-- So: 1. A covering index on (environment_id, metric_type, recorded_at, number) including
-- "value" gives the number without touching the heap or the jsonb: index-only scans read it as
-- stored. "value" is included only because the planner allows an index-only scan just when
-- every column the query names is in the index; the number in the query must stay written
-- exactly as in the index (= private.health_number, checked by tests/db/test_health_buckets.py)
-- and be computed in the subquery kept apart by OFFSET 0, where the index column replaces it.
-- 2. One environment at a time (lateral): each reads its own index range (its points lie
-- together in the index, whereas in the heap they are spread among everyone's) and aggregates
-- ~5,000 points into ~240 groups in a small hash table; environments come out in id order, so
-- the final order is a sort of each environment's rows. Duplicate ids count once, as before.
-- The select policy still decides what the caller sees (security invoker, unchanged).
-- Measured as above: 0.31-0.34 s in the database (before: 0.75-0.95 s); 12 environments ~0.02 s
-- (as before); bench/bench_health_pane.py health_buckets_200_envs 0.42 s (before: 1.04 s).
-- Averages may differ from before in the last bits of a double: points are now summed in time
-- order per series (before: in heap order).
--
-- Index-only scans need the visibility map: pages written since the last vacuum are read from
-- the heap (correct, slower: a quarter of the day unvacuumed ~0.6 s, all of it ~1.2 s).
-- health_checks only grows between roll-ups, so autovacuum's insert trigger (20% of the table
-- by default, more than a day of points for a week kept) is set to every 10,000 new rows: each
-- run then visits only the pages written since the last one.
--
-- Cost: the index is about the size of the table (~90 bytes a point: 91 MB per million) and
-- one more index entry per reported point (inserting 200,000 points: ~3.0 s -> ~3.6 s).
create index if not exists health_checks_series_number_idx on public.health_checks (
  environment_id,
  metric_type,
  recorded_at,
  (case
     when jsonb_typeof(value -> 'value') = 'number' then (value ->> 'value')::float8
     when jsonb_typeof(value -> 'percent') = 'number' then (value ->> 'percent')::float8
     when jsonb_typeof(value -> 'ms') = 'number' then (value ->> 'ms')::float8
   end)
) include (value);
comment on index public.health_checks_series_number_idx is
  'health_buckets: index-only scans of one environment''s points with their number';

alter table public.health_checks set (
  autovacuum_vacuum_insert_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0
);

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
  -- EXECUTE plans with the actual values (the time range is estimated right, and the slot
  -- arithmetic folds its constants).
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
end
$$;
comment on function public.health_buckets(uuid[], timestamptz, integer, timestamptz) is
  'PERMISSIONS.md health_checks read: members (security invoker: the select policy applies)';

revoke all on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  from public, anon;
grant execute on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  to authenticated;
