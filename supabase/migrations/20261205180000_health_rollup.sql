-- health_buckets for the Health pane's own windows in a fraction of the time (issue 16: 200
-- machines x 1,000,000 points, <= 0.25 s; ~0.31-0.56 s before). Even index-only, the plan of
-- ...190000 reads every point of the day; a day of one series is ~1,250 points, so no per-minute
-- summary shrinks it. The pane asks for windows whose ends and slot length are whole 12-minute
-- cells of an epoch grid (dashboard/widgets/health_series.sparkline_window); for those a slot's
-- average is the sum of its cells' sums over the sum of their counts, read from
-- public.health_rollup (one row per environment, 12-minute cell and metric: 96,000 rows for the
-- large demo's day instead of 1,000,000 points). Any other window is computed from the points
-- as before.
--
-- The roll-up is kept by statement-level triggers with transition tables on health_checks:
-- inserts add each cell's sum and count (one upsert per touched cell and statement); deletes,
-- updates (retention merges its hourly points with ON CONFLICT DO UPDATE) recount the touched
-- cells from the points left; TRUNCATE empties it. The triggers are ENABLE ALWAYS: a bulk load
-- with session_replication_role = replica (demo_large.py) keeps it right too. A point counts
-- as in health_buckets: its number is private.health_number's (written inline, as in
-- health_checks_series_number_idx), a point without one is not counted.
--
-- Exactness: a cell whose points include a number of magnitude >= 1e290 keeps no sum (NULL):
-- summing such numbers may overflow a double, and an insert must not fail for it; a window
-- touching such a cell is computed from the points (which fail or not exactly as before).
-- Averages may differ from the points' in the last bits of a double (another summing order).
-- A point exactly at the window's end belongs to the last slot (as before): those few are read
-- from the points (one probe of the unique index per environment and metric).
--
-- Slots of the point path are now floor(offset * slots / span), not floor(offset / span *
-- slots): the latter put some points lying exactly on a slot boundary into the slot before
-- (e.g. 90 slots, boundaries 13, 26, 49, 52, 63), against the documented [since + i*w, ...).
--
-- PERMISSIONS.md health_checks read: members. The roll-up is readable exactly as the points
-- are (policy health_rollup_select = health_checks_select); nobody writes it but the triggers
-- (no insert/update/delete grant, no write policy). Machines read neither (anon: no grant).
-- health_buckets stays security invoker: each caller sees the sums of the environments whose
-- points they may read, and nothing of other teams'.

create table public.health_rollup (
  environment_id uuid not null references public.environments (id) on delete cascade,
  bucket_start timestamptz not null,
  metric_type text not null check (metric_type in ('cpu', 'memory', 'disk', 'ping')),
  -- NULL: a number of magnitude >= 1e290 fell in this cell (the window is read from points)
  sum double precision,
  n integer not null check (n > 0),
  primary key (environment_id, bucket_start, metric_type)
);
comment on table public.health_rollup is
  'Sum and count of health_checks numbers per environment, 12-minute cell (epoch grid) and '
  'metric; kept by triggers on health_checks, read by health_buckets';
create index health_rollup_unsummed_idx on public.health_rollup (environment_id, bucket_start)
  where sum is null;

alter table public.health_rollup enable row level security;
create policy health_rollup_select on public.health_rollup for select to authenticated
  using (environment_id in (select private.my_env_ids()));
comment on policy health_rollup_select on public.health_rollup is
  'PERMISSIONS.md health_checks read: members (the roll-up of the points they may read)';
revoke all on public.health_rollup from public, anon, authenticated;
grant select on public.health_rollup to authenticated;
grant all on public.health_rollup to service_role;

-- Recount the given cells from the points that are left (deletes, updates).
create or replace function private.health_rollup_recount(
  p_environment_ids uuid[], p_buckets timestamptz[], p_metrics text[]
) returns void
language sql security definer set search_path = ''
as $$
  with k as (
    select distinct u.environment_id, u.bucket_start, u.metric_type
    from unnest(p_environment_ids, p_buckets, p_metrics) u(environment_id, bucket_start, metric_type)
  ),
  a as (
    select k.environment_id, k.bucket_start, k.metric_type,
           case when bool_or(abs(p.x) >= 1e290) then null
                else sum(p.x) filter (where abs(p.x) < 1e290) end as sum,
           count(p.x)::integer as n
    from k
    left join lateral (
      select case
               when jsonb_typeof(c.value -> 'value') = 'number' then (c.value ->> 'value')::float8
               when jsonb_typeof(c.value -> 'percent') = 'number'
                 then (c.value ->> 'percent')::float8
               when jsonb_typeof(c.value -> 'ms') = 'number' then (c.value ->> 'ms')::float8
             end as x
      from public.health_checks c
      where c.environment_id = k.environment_id and c.metric_type = k.metric_type
        and c.recorded_at >= k.bucket_start and c.recorded_at < k.bucket_start + interval '12 minutes'
    ) p on true
    group by 1, 2, 3
  ),
  gone as (
    delete from public.health_rollup r
    using a
    where a.n = 0 and r.environment_id = a.environment_id and r.bucket_start = a.bucket_start
      and r.metric_type = a.metric_type
  )
  insert into public.health_rollup as r (environment_id, bucket_start, metric_type, sum, n)
  select a.environment_id, a.bucket_start, a.metric_type, a.sum, a.n
  from a
  where a.n > 0
  order by 1, 2, 3
  on conflict (environment_id, bucket_start, metric_type) do update
    set sum = excluded.sum, n = excluded.n
$$;
comment on function private.health_rollup_recount(uuid[], timestamptz[], text[]) is
  'PERMISSIONS.md health_checks: internal writer of the roll-up (triggers only, not granted to users)';

create or replace function private.health_rollup_add() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.health_rollup as r (environment_id, bucket_start, metric_type, sum, n)
  select p.environment_id, p.bucket_start, p.metric_type,
         case when bool_or(abs(p.x) >= 1e290) then null
              else sum(p.x) filter (where abs(p.x) < 1e290) end,
         count(*)::integer
  from (
    select w.environment_id, w.metric_type,
           date_bin('12 minutes', w.recorded_at, timestamptz '1970-01-01 00:00:00+00')
             as bucket_start,
           case
             when jsonb_typeof(w.value -> 'value') = 'number' then (w.value ->> 'value')::float8
             when jsonb_typeof(w.value -> 'percent') = 'number'
               then (w.value ->> 'percent')::float8
             when jsonb_typeof(w.value -> 'ms') = 'number' then (w.value ->> 'ms')::float8
           end as x
    from new_rows w
  ) p
  where p.x is not null
  group by 1, 2, 3
  -- one order for every writer: two reports touching the same cells wait, never deadlock
  order by 1, 2, 3
  on conflict (environment_id, bucket_start, metric_type) do update
    set sum = r.sum + excluded.sum, n = r.n + excluded.n;
  return null;
end
$$;
comment on function private.health_rollup_add() is
  'PERMISSIONS.md health_checks: internal writer of the roll-up (insert trigger, not granted to users)';

create or replace function private.health_rollup_removed() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.health_rollup_recount(
    array_agg(k.environment_id), array_agg(k.bucket_start), array_agg(k.metric_type))
  from (
    select distinct o.environment_id, o.metric_type,
           date_bin('12 minutes', o.recorded_at, timestamptz '1970-01-01 00:00:00+00')
             as bucket_start
    from old_rows o
  ) k;
  return null;
end
$$;
comment on function private.health_rollup_removed() is
  'PERMISSIONS.md health_checks: internal writer of the roll-up (delete trigger, not granted to users)';

create or replace function private.health_rollup_changed() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.health_rollup_recount(
    array_agg(k.environment_id), array_agg(k.bucket_start), array_agg(k.metric_type))
  from (
    select o.environment_id, o.metric_type,
           date_bin('12 minutes', o.recorded_at, timestamptz '1970-01-01 00:00:00+00')
             as bucket_start
    from old_rows o
    union
    select w.environment_id, w.metric_type,
           date_bin('12 minutes', w.recorded_at, timestamptz '1970-01-01 00:00:00+00')
    from new_rows w
  ) k;
  return null;
end
$$;
comment on function private.health_rollup_changed() is
  'PERMISSIONS.md health_checks: internal writer of the roll-up (update trigger, not granted to users)';

create or replace function private.health_rollup_emptied() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  truncate public.health_rollup;
  return null;
end
$$;
comment on function private.health_rollup_emptied() is
  'PERMISSIONS.md health_checks: internal writer of the roll-up (truncate trigger, not granted to users)';

revoke all on function private.health_rollup_recount(uuid[], timestamptz[], text[]),
  private.health_rollup_add(), private.health_rollup_removed(),
  private.health_rollup_changed(), private.health_rollup_emptied()
  from public, anon, authenticated;

create trigger health_rollup_insert after insert on public.health_checks
  referencing new table as new_rows
  for each statement execute function private.health_rollup_add();
create trigger health_rollup_delete after delete on public.health_checks
  referencing old table as old_rows
  for each statement execute function private.health_rollup_removed();
create trigger health_rollup_update after update on public.health_checks
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.health_rollup_changed();
create trigger health_rollup_truncate after truncate on public.health_checks
  for each statement execute function private.health_rollup_emptied();
alter table public.health_checks enable always trigger health_rollup_insert;
alter table public.health_checks enable always trigger health_rollup_delete;
alter table public.health_checks enable always trigger health_rollup_update;
alter table public.health_checks enable always trigger health_rollup_truncate;

-- The points already stored (CREATE TRIGGER above locks out writers until this commits).
insert into public.health_rollup (environment_id, bucket_start, metric_type, sum, n)
select p.environment_id, p.bucket_start, p.metric_type,
       case when bool_or(abs(p.x) >= 1e290) then null
            else sum(p.x) filter (where abs(p.x) < 1e290) end,
       count(*)::integer
from (
  select c.environment_id, c.metric_type,
         date_bin('12 minutes', c.recorded_at, timestamptz '1970-01-01 00:00:00+00') as bucket_start,
         case
           when jsonb_typeof(c.value -> 'value') = 'number' then (c.value ->> 'value')::float8
           when jsonb_typeof(c.value -> 'percent') = 'number' then (c.value ->> 'percent')::float8
           when jsonb_typeof(c.value -> 'ms') = 'number' then (c.value ->> 'ms')::float8
         end as x
  from public.health_checks c
) p
where p.x is not null
group by 1, 2, 3;

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
    return query execute $q$
      select e.id, g.metric_type, g.slot, g.value, g.n
      from (select distinct u.id from unnest($1) u(id)) e
      cross join lateral (
        select p.metric_type, p.slot, sum(p.s) / sum(p.k) as value, sum(p.k)::integer as n
        from (
          select r.metric_type,
                 ((date_part('epoch', r.bucket_start) - $5)::bigint / $6)::integer as slot,
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
      ) g
      -- a stable order: the Supabase transport pages through max_rows-sized responses
      order by 1, 2, 3
    $q$ using p_environment_ids, p_since, p_slots, v_until, date_part('epoch', p_since),
              (v_span / p_slots)::bigint;
    return;
  end if;
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
                 least($3 - 1, floor(date_part('epoch', c.recorded_at - $2) * $3 / $5)::integer)
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
               least($3 - 1, floor(date_part('epoch', c.recorded_at - $2) * $3 / $5)::integer)
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
  'PERMISSIONS.md health_checks read: members (security invoker: the select policies of '
  'health_checks and health_rollup apply)';

revoke all on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  from public, anon;
grant execute on function public.health_buckets(uuid[], timestamptz, integer, timestamptz)
  to authenticated;
