-- health_sparklines (...20261206061000) without the cost of its rows: reading the cells is most
-- of what is left. A day of 500 machines is 240,000 cells (500 x 4 metrics x 120), read per
-- environment through the primary key and the heap; at 50M points one environment's cells of a
-- day lie on ~10 heap pages. This covering index makes it an index-only scan: 0.17 -> 0.11 s for
-- 500 machines' day as a user under RLS, at 50M points and load ~1 (bench_health_pane.py's
-- database).
--
-- Writes: updates of sum and n were not HOT before either (the partial index's predicate reads
-- sum), so a report's upsert of a cell writes one more index entry. autovacuum visits the
-- roll-up every 20,000 changed or inserted cells (not 20 % of the table): index-only scans need
-- the visibility map close behind the reports (the cells of the current hour are read from the
-- heap until then).
--
-- PERMISSIONS.md: no change (an index; health_rollup's policies and grants stay).

create index health_rollup_cells_idx on public.health_rollup (environment_id, bucket_start)
  include (metric_type, sum, n);

alter table public.health_rollup set (
  autovacuum_vacuum_threshold = 20000,
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_insert_threshold = 20000,
  autovacuum_vacuum_insert_scale_factor = 0
);
