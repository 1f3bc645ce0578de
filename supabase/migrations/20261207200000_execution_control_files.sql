-- File configurations that control execution. Migration 20261205100200 let file keys through
-- ("written in the run's private folder, where nothing loads it by name"), but
-- `devsync env pull` writes a file configuration at its path in the checkout, and some paths
-- make a program run code chosen by their content: `.git/config` (core.fsmonitor runs on the
-- next `git status`), `.git/hooks/*`, `.envrc` (direnv), `.npmrc` (node-options,
-- script-shell), `.yarnrc.yml` (yarnPath), `.cargo/config.toml` (rustc-wrapper), `.vscode/`
-- tasks, a dotenv file that carries NODE_OPTIONS past the variable rule … A member could then
-- run code on an admin's machine or a CI runner, which is what the variable rule forbids.
--
-- So a file key whose path is one of these is created, changed, restored or deleted only by
-- admins of the team, like an execution-control variable (same trigger, same 42501 sentence).
-- Parts of the path compare in any case (macOS and Windows file systems ignore case):
--   - a folder (any part of the path) whose content tools run: version control with its
--     hooks and configuration (.git, .hg, .svn, .bzr, .jj), Cargo's and Bundler's
--     configuration (.cargo, .bundle), Maven's (.mvn: jvm.config, extensions), editors' and
--     dev containers' tasks (.vscode, .idea, .devcontainer), git hooks (.husky);
--   - a dotenv file (.env, .env.*, *.env): it carries variables to whatever loads it;
--   - a file that names a program or code to run: .envrc (direnv runs it), .flaskenv, .npmrc,
--     .yarnrc, .yarnrc.yml, .pnpmfile.cjs, .pnpmfile.mjs, .devcontainer.json,
--     .pre-commit-config.yaml, lefthook.yml, .lefthook.yml, gradle.properties (JVM options),
--     gradle-wrapper.properties (the URL of the Gradle it downloads and runs).
-- Left off on purpose: files that pin a version only (.nvmrc, .python-version,
-- .tool-versions), and files that are code themselves or read only by the project's own code
-- (package.json, Makefile, config/app.json, *.config.js): they do what the project does when
-- it runs. Mirrored by devsync_tui/core/execution_control.py (a test asserts they agree).

create or replace function private.execution_control_folders() returns text[]
language sql immutable set search_path = ''
as $$
  select array[
    '.git', '.hg', '.svn', '.bzr', '.jj', '.cargo', '.bundle', '.mvn', '.vscode', '.idea',
    '.devcontainer', '.husky'
  ]::text[]
$$;
comment on function private.execution_control_folders() is
  'PERMISSIONS.md execution control: folders (lower case) whose files tools run';

create or replace function private.execution_control_file_names() returns text[]
language sql immutable set search_path = ''
as $$
  select array[
    '.envrc', '.flaskenv', '.npmrc', '.yarnrc', '.yarnrc.yml', '.pnpmfile.cjs', '.pnpmfile.mjs',
    '.devcontainer.json', '.pre-commit-config.yaml', 'lefthook.yml', '.lefthook.yml',
    'gradle.properties', 'gradle-wrapper.properties'
  ]::text[]
$$;
comment on function private.execution_control_file_names() is
  'PERMISSIONS.md execution control: file names (lower case) that make a tool run code';

-- Each part is compared as Windows would open it: from its first ':' on (an NTFS stream,
-- `.npmrc::$DATA` is `.npmrc`) and trailing dots and spaces (`.npmrc.`, `.git /config`) are
-- not part of the name; leading spaces go too (` .git` must not pass for something else).
create or replace function private.is_execution_control_path(p_path text) returns boolean
language sql immutable set search_path = ''
as $$
  with parts as (
         select array(
                  select regexp_replace(split_part(x.part, ':', 1), '^ +|[. ]+$', '', 'g')
                  from unnest(string_to_array(lower(p_path), '/')) with ordinality x(part, n)
                  order by x.n) as part),
       named as (select part, part[cardinality(part)] as name from parts)
  select part && private.execution_control_folders()
         or name = any (private.execution_control_file_names())
         or name = '.env' or starts_with(name, '.env.') or right(name, 4) = '.env'
  from named
$$;
comment on function private.is_execution_control_path(text) is
  'PERMISSIONS.md execution control: whether a file configuration path is one (any case)';

create or replace function private.is_execution_control(p_key text, p_type text)
returns boolean
language sql immutable set search_path = ''
as $$
  select p_key is not null and case coalesce(p_type, 'env_var')
    when 'env_var' then
      upper(p_key) = any (private.execution_control_names())
      or exists (select 1 from unnest(private.execution_control_prefixes()) x(prefix)
                 where starts_with(upper(p_key), x.prefix))
    when 'file' then private.is_execution_control_path(p_key)
    else false
  end
$$;
comment on function private.is_execution_control(text, text) is
  'PERMISSIONS.md execution control: an env_var key by name, a file key by path (any case)';

revoke all on function private.execution_control_folders(),
  private.execution_control_file_names(), private.is_execution_control_path(text)
  from public, anon, authenticated;
