-- Scanners before this release stored git/tarball dependency URLs as they were written in the
-- lockfile, credentials included (`git+https://oauth2:TOKEN@github.com/…`, `…?token=…`), where
-- every member of the team, viewers too, reads them. The CLI now cuts them out before it
-- reports (core/urls.py); this removes the ones already stored, the same way: the user info of
-- any URL, and its query string.

create or replace function private.without_url_credentials(p_text text) returns text
language sql immutable set search_path = ''
as $$
  select regexp_replace(
    regexp_replace(p_text, '([A-Za-z][A-Za-z0-9+.-]*://)[^/?#[:space:]]*@', '\1', 'g'),
    '(://[^[:space:]?#]*)\?[^[:space:]#]*', '\1', 'g')
$$;
comment on function private.without_url_credentials(text) is
  'PERMISSIONS.md: no credential of a dependency URL in what the team reads';
revoke all on function private.without_url_credentials(text) from public, anon, authenticated;

update public.dependencies
  set version_constraint = private.without_url_credentials(version_constraint),
      resolved_version = private.without_url_credentials(resolved_version)
  where version_constraint like '%://%' or resolved_version like '%://%';

-- And on every road from now on (an older CLI, a direct table write the policies allow).
create or replace function private.dependencies_scrub() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  new.version_constraint := private.without_url_credentials(new.version_constraint);
  new.resolved_version := private.without_url_credentials(new.resolved_version);
  return new;
end
$$;
comment on function private.dependencies_scrub() is
  'PERMISSIONS.md: no credential of a dependency URL in what the team reads, whatever road';
revoke all on function private.dependencies_scrub() from public, anon, authenticated;
create trigger dependencies_scrub before insert or update on public.dependencies
  for each row execute function private.dependencies_scrub();
