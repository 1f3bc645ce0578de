-- Hostile input (issue 6): names and package fields are shown in other people's terminals, so
-- they may not carry control characters (an escape sequence would be replayed raw: clear the
-- screen, write the clipboard with OSC 52, retitle the window). Template JSON is copied into
-- environments, so its size is bounded. Values of configurations are checked by the RPCs.

alter table public.teams
  add constraint teams_name_printable check (name !~ '[[:cntrl:]]');
alter table public.projects
  add constraint projects_name_printable check (name !~ '[[:cntrl:]]'),
  add constraint projects_description_size check (char_length(description) <= 10000),
  add constraint projects_repository_url_printable
    check (repository_url !~ '[[:cntrl:]]' and char_length(repository_url) <= 2048);
alter table public.environments
  add constraint environments_name_printable check (name !~ '[[:cntrl:]]');
alter table public.env_templates
  add constraint env_templates_name_printable check (name !~ '[[:cntrl:]]'),
  -- 1 MiB of configuration, 4 MiB of dependencies (stored size)
  add constraint env_templates_size
    check (pg_column_size(config_json) <= 1048576 and pg_column_size(dependencies_json) <= 4194304);
alter table public.profiles
  add constraint profiles_full_name_printable check (full_name !~ '[[:cntrl:]]');
alter table public.dependencies
  add constraint dependencies_fields_printable
    check (package_name !~ '[[:cntrl:]]'
           and coalesce(version_constraint, '') !~ '[[:cntrl:]]'
           and coalesce(resolved_version, '') !~ '[[:cntrl:]]');
