-- The Dependencies view reads a big project a page of whole packages at a time (issue 16,
-- "Data on screen, not data in memory"): keyset pages per package manager, cut between
-- packages, so it never holds a million rows at once.
--
-- A page may only end where a package ends, and the client groups names the way each
-- ecosystem does (core/names.py: PEP 503 for pip, case and -/_ ignored for cargo, exact for
-- npm and gems, all stripped). private.package_fold is a key at least as coarse as all of
-- those rules — whitespace dropped, runs of -, _ and . one -, lower case — so the names of one
-- package share it and sit in one run of a page ordered by it. (Names with one fold that are two
-- packages, npm's JSONStream and jsonstream, are simply read together.) Compared bytewise
-- ("C"), whatever the database's collation.
--
-- A function and an index on it, not a column: a stored generated column cannot be in the
-- REPLICA IDENTITY FULL that Realtime needs for deletes, and a column kept by a trigger would
-- mean rewriting (and re-announcing) every stored row.

-- Whitespace is every character Python's str.strip() removes (core/names.py strips names),
-- written out so that it does not depend on the database's locale. Lower case is exact for
-- ASCII; PyPI and crates.io names are ASCII, and npm and gem names are compared exactly, so
-- only a made-up non-ASCII pip or cargo name could have two spellings in two pages (the view
-- would then show it as two rows; nothing is lost).
-- pg_catalog names spelled out instead of `set search_path`: a function with a SET clause is
-- never inlined, and this one runs once per row read.
create or replace function private.package_fold(p_name text) returns text
language sql immutable strict parallel safe
as $$
  select pg_catalog.lower(pg_catalog.regexp_replace(
    pg_catalog.regexp_replace(
      p_name,
      '[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+',
      '', 'g'),
    '[-_.]+', '-', 'g'))
$$;

create index dependencies_project_fold_idx on public.dependencies
  (project_id, package_manager, (private.package_fold(package_name)) collate "C", id);

-- Up to p_limit rows of one package manager of a project after the keyset (p_after_fold,
-- p_after_id) — from the start when p_after_fold is null — in (fold, id) order, each with its
-- fold. Security invoker: the rows are those the caller's dependencies policies let it see.
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
  select private.package_fold(d.package_name) collate "C", d.id, d.project_id,
         d.environment_id, d.package_manager, d.package_name, d.version_constraint,
         d.resolved_version, d.status, d.updated_at, d.kind
  from public.dependencies d
  where d.project_id = p_project and d.package_manager = p_manager
    and (p_after_fold is null
         or (private.package_fold(d.package_name) collate "C", d.id)
            > (p_after_fold collate "C",
               coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)))
  order by private.package_fold(d.package_name) collate "C", d.id
  limit least(greatest(coalesce(p_limit, 1000), 0), 50000)
$$;

revoke all on function public.dependency_page(uuid, text, text, uuid, integer) from public, anon;
grant execute on function public.dependency_page(uuid, text, text, uuid, integer)
  to authenticated, service_role;
-- The fold is a pure function of a name; the invoker above runs it as the caller.
revoke all on function private.package_fold(text) from public, anon;
grant execute on function private.package_fold(text) to authenticated, service_role;
