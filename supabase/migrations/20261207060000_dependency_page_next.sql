-- The Dependencies view's pages in one keyset over every package manager.
--
-- public.dependency_page reads one manager: a reader walked the four (cargo, gem, npm, pip)
-- one after the other, so a project of npm packages cost three requests that answer nothing,
-- two of them before its first rows. On Supabase each is a round trip (150 ms away: 0.3 s
-- before the first rows, 0.45 s in all). dependency_page_next goes on after (manager, fold, id)
-- across managers, in (package_manager, fold, id) order: the same index range scan
-- (dependencies_project_fold_idx is (project_id, package_manager, fold "C", id)), rows and
-- columns as dependency_page's, which stays for clients that call it.
--
-- Security as private.dependency_page (migration 20261205171000): security definer, applying
-- the dependencies_select policy's condition once, before reading (a member of the project's
-- team, or the service role); anyone else gets no rows. The public function is security
-- invoker and only calls it. tests/db/test_dependency_fold.py compares its rows with the
-- policy's for every demo user and project.
create function private.dependency_page_next(
  p_project uuid, p_after_manager text, p_after_fold text,
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
  if p_after_manager is null then
    return query
      select private.package_fold(d.package_name) collate "C", d.id, d.project_id,
             d.environment_id, d.package_manager, d.package_name, d.version_constraint,
             d.resolved_version, d.status, d.updated_at, d.kind
      from public.dependencies d
      where d.project_id = p_project
      order by d.package_manager, private.package_fold(d.package_name) collate "C", d.id
      limit v_limit;
  else
    return query
      select private.package_fold(d.package_name) collate "C", d.id, d.project_id,
             d.environment_id, d.package_manager, d.package_name, d.version_constraint,
             d.resolved_version, d.status, d.updated_at, d.kind
      from public.dependencies d
      where d.project_id = p_project
        and (d.package_manager, private.package_fold(d.package_name) collate "C", d.id)
            > (p_after_manager, coalesce(p_after_fold, '') collate "C",
               coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
      order by d.package_manager, private.package_fold(d.package_name) collate "C", d.id
      limit v_limit;
  end if;
end
$$;
comment on function private.dependency_page_next(uuid, text, text, uuid, integer) is
  'PERMISSIONS.md dependencies read: members (dependencies_select applied once, then an index range scan)';
revoke all on function private.dependency_page_next(uuid, text, text, uuid, integer)
  from public, anon;
grant execute on function private.dependency_page_next(uuid, text, text, uuid, integer)
  to authenticated, service_role;

-- Up to p_limit rows of a project after the keyset (p_after_manager, p_after_fold, p_after_id)
-- — from the start when p_after_manager is null — in (package_manager, fold, id) order, each
-- with its fold.
create function public.dependency_page_next(
  p_project uuid, p_after_manager text default null, p_after_fold text default null,
  p_after_id uuid default null, p_limit integer default 1000
) returns table (
  package_fold text, id uuid, project_id uuid, environment_id uuid, package_manager text,
  package_name text, version_constraint text, resolved_version text, status text,
  updated_at timestamptz, kind text
)
language sql stable security invoker set search_path = ''
as $$
  select * from private.dependency_page_next(
    p_project, p_after_manager, p_after_fold, p_after_id, p_limit)
$$;
comment on function public.dependency_page_next(uuid, text, text, uuid, integer) is
  'PERMISSIONS.md dependencies read: members';
revoke all on function public.dependency_page_next(uuid, text, text, uuid, integer)
  from public, anon;
grant execute on function public.dependency_page_next(uuid, text, text, uuid, integer)
  to authenticated, service_role;
