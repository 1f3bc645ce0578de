-- A key created again after it was deleted continues its numbering (a QA finding). Before, the
-- new row started again at version 1, so the key's history (which keeps the deleted row's
-- versions: docs/DATABASE.md configuration_history) held two "version 1" and two "version 2",
-- and `devsync env restore KEY --version 2` could reach only the newer one: the value of the
-- older could no longer be named. Now a new row of (project, environment, key) starts one
-- above the highest version that scope and key ever had, so every version number names one
-- value. A key that never existed still starts at 1; updates still add exactly 1.
--
-- The look-up reads configuration_history by project and key (new index; the history query
-- of `env history` and the dashboard reads the same columns). Two sessions creating the same
-- key at once compute the same number, and the unique (project_id, environment_id, key) of
-- configurations lets only one of them in, as before.

create index configuration_history_project_key_idx
  on public.configuration_history (project_id, key);

create or replace function private.configurations_version() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.version := 1 + coalesce((
      select max(h.version) from public.configuration_history h
      where h.project_id = new.project_id and h.key = new.key
        and h.environment_id is not distinct from new.environment_id), 0);
  else
    if new.project_id is distinct from old.project_id
       or new.environment_id is distinct from old.environment_id then
      raise exception 'a configuration cannot move to another project or environment'
        using errcode = '22023';
    end if;
    new.version := old.version + 1;
  end if;
  return new;
end
$$;
revoke all on function private.configurations_version() from public, anon, authenticated;
