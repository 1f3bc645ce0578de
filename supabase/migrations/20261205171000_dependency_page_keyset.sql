-- public.dependency_page read its page from the start of the project's range every time.
--
-- Measured (bench/bench_drift_million.py, 500 environments x 2,000 packages, as alice): the
-- first page of 20,000 rows came in 0.2-0.3 s, all 52 pages in 46-50 s, while every row at
-- once took ~10 s. EXPLAIN ANALYZE of a middle page as alice: 0.77 s, "Rows Removed by
-- Filter: 501001". Under row-level security PostgreSQL evaluates the policy before any
-- condition that calls a function not marked LEAKPROOF, so the keyset condition on
-- private.package_fold (regexp_replace, lower) could not bound the index scan: the scan began
-- at the project's first package and filtered every row up to the page. As the superuser (no
-- RLS) the same query is an index range scan (27 ms), which is all the earlier test saw. Only
-- a superuser may mark a function LEAKPROOF, and Supabase runs migrations as postgres.
--
-- Tried first: the page's keys from a security definer helper, joined to the rows under RLS
-- (security invoker): 0.19-0.23 s a page (20,000 primary-key probes, each row's policy
-- check), 15.5 s for the million rows.
--
-- Now the page is read by private.dependency_page, security definer, which applies the
-- dependencies_select policy itself, once, before reading: the caller must be a member of the
-- project's team (project_id in private.my_project_ids(), the policy's own condition) — or
-- the service role, which bypasses RLS. Anyone else gets no rows, as before. Keep this check
-- equal to the policy (tests/db/test_dependency_fold.py compares them for every demo user
-- and project). public.dependency_page stays security invoker (no definer in public) and
-- only calls it. Same signature, rows and order; the first page and the next ones are
-- separate queries so that each is an index range scan whatever plan is cached.
create or replace function private.dependency_page(
  p_project uuid, p_manager text, p_after_fold text,
  p_after_id uuid, p_limit integer
) returns table (
  package_fold text, id uuid, project_id uuid, environment_id uuid, package_manager text,
  package_name text, version_constraint text, resolved_version text, status text,
  updated_at timestamptz, kind text
)
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 1000), 0), 50000);
begin
  if (select auth.role()) is distinct from 'service_role'
     and not exists (select 1 from private.my_project_ids() as m(id) where m.id = p_project) then
    return;
  end if;
  if p_after_fold is null then
    return query
      select private.package_fold(d.package_name) collate "C", d.id, d.project_id,
             d.environment_id, d.package_manager, d.package_name, d.version_constraint,
             d.resolved_version, d.status, d.updated_at, d.kind
      from public.dependencies d
      where d.project_id = p_project and d.package_manager = p_manager
      order by private.package_fold(d.package_name) collate "C", d.id
      limit v_limit;
  else
    return query
      select private.package_fold(d.package_name) collate "C", d.id, d.project_id,
             d.environment_id, d.package_manager, d.package_name, d.version_constraint,
             d.resolved_version, d.status, d.updated_at, d.kind
      from public.dependencies d
      where d.project_id = p_project and d.package_manager = p_manager
        and (private.package_fold(d.package_name) collate "C", d.id)
            > (p_after_fold collate "C",
               coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
      order by private.package_fold(d.package_name) collate "C", d.id
      limit v_limit;
  end if;
end
$$;
comment on function private.dependency_page(uuid, text, text, uuid, integer) is
  'PERMISSIONS.md dependencies read: members (dependencies_select applied once, then an index range scan)';
revoke all on function private.dependency_page(uuid, text, text, uuid, integer)
  from public, anon;
grant execute on function private.dependency_page(uuid, text, text, uuid, integer)
  to authenticated, service_role;

create or replace function public.dependency_page(
  p_project uuid, p_manager text, p_after_fold text default null,
  p_after_id uuid default null, p_limit integer default 1000
) returns table (
  package_fold text, id uuid, project_id uuid, environment_id uuid, package_manager text,
  package_name text, version_constraint text, resolved_version text, status text,
  updated_at timestamptz, kind text
)
language sql stable security invoker set search_path = ''
as $$
  select * from private.dependency_page(p_project, p_manager, p_after_fold, p_after_id, p_limit)
$$;
