-- The nine tables of the schema plan (names and types binding, see docs/DATABASE.md), their
-- constraints, the updated_at triggers and the profile trigger on auth.users.

-- Helpers that policies and RPCs use live here; the schema is never exposed through the API.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Keeps updated_at true whatever road a row is changed by.
create or replace function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- Templates are readable by every member (and by everyone signed in when public), so they
-- never hold a secret value: a secret entry names the key only ({"is_secret": true}) and an
-- environment created from the template gets it empty, to be filled by someone allowed.
create or replace function private.template_config_has_no_secret_values(p_config jsonb)
returns boolean
language sql immutable set search_path = ''
as $$
  select not exists (
    select 1 from jsonb_each(p_config) as e(k, v)
    where jsonb_typeof(v) = 'object'
      and v ->> 'is_secret' = 'true'
      and coalesce(v ->> 'value', '') <> ''
  )
$$;

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text not null unique
    check (username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
  full_name text check (char_length(full_name) <= 200),
  avatar_url text check (char_length(avatar_url) <= 2048),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  owner_id uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index teams_owner_id_idx on public.teams (owner_id);

create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role text not null default 'member' check (role in ('admin', 'member', 'viewer')),
  joined_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
-- The composite PK indexes team_id only; every policy filters on user_id.
create index team_members_user_id_idx on public.team_members (user_id);

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  name text not null check (char_length(btrim(name)) between 1 and 200),
  description text,
  repository_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, name)
);

create table public.env_templates (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  name text not null check (char_length(btrim(name)) between 1 and 200),
  config_json jsonb not null default '{}'::jsonb check (jsonb_typeof(config_json) = 'object'),
  constraint env_templates_no_secret_values
    check (private.template_config_has_no_secret_values(config_json)),
  dependencies_json jsonb not null default '[]'::jsonb
    check (jsonb_typeof(dependencies_json) = 'array'),
  is_public boolean not null default false,
  created_by uuid default auth.uid() references public.profiles (id) on delete set null,
  created_at timestamptz not null default now()
);
create index env_templates_project_id_idx on public.env_templates (project_id);
create index env_templates_created_by_idx on public.env_templates (created_by);
create index env_templates_is_public_idx on public.env_templates (is_public) where is_public;

create table public.environments (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  template_id uuid references public.env_templates (id) on delete set null,
  user_id uuid not null references public.profiles (id) on delete cascade,
  name text not null check (char_length(btrim(name)) between 1 and 200),
  status text not null default 'offline' check (status in ('active', 'offline', 'syncing', 'error')),
  last_sync_at timestamptz,
  created_at timestamptz not null default now(),
  unique (project_id, name),
  -- Target of the (environment_id, project_id) foreign keys below: an environment-scoped row
  -- always belongs to the environment's own project.
  unique (id, project_id)
);
create index environments_user_id_idx on public.environments (user_id);

create table public.configurations (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  environment_id uuid references public.environments (id) on delete cascade,
  key text not null,
  value text,
  is_secret boolean not null default false,
  type text not null default 'env_var' check (type in ('env_var', 'file')),
  version integer not null default 1 check (version >= 1),
  updated_at timestamptz not null default now(),
  constraint configurations_scope_key unique nulls not distinct (project_id, environment_id, key),
  constraint configurations_env_project_fk foreign key (environment_id, project_id)
    references public.environments (id, project_id) on delete cascade,
  -- A secret's value lives in configuration_secrets, never here.
  constraint configurations_secret_value_null check (not is_secret or value is null)
);
create index configurations_environment_id_idx on public.configurations (environment_id);

create table public.dependencies (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  environment_id uuid references public.environments (id) on delete cascade,
  package_manager text not null check (package_manager in ('npm', 'pip', 'gem', 'cargo')),
  package_name text not null check (char_length(package_name) between 1 and 512),
  version_constraint text check (char_length(version_constraint) <= 512),
  resolved_version text check (char_length(resolved_version) <= 512),
  status text not null default 'healthy' check (status in ('healthy', 'outdated', 'vulnerable')),
  updated_at timestamptz not null default now(),
  constraint dependencies_scope_package
    unique nulls not distinct (project_id, environment_id, package_manager, package_name),
  constraint dependencies_env_project_fk foreign key (environment_id, project_id)
    references public.environments (id, project_id) on delete cascade
);
create index dependencies_environment_id_idx on public.dependencies (environment_id);

create table public.health_checks (
  id uuid primary key default gen_random_uuid(),
  environment_id uuid not null references public.environments (id) on delete cascade,
  metric_type text not null check (metric_type in ('cpu', 'memory', 'disk', 'ping')),
  value jsonb not null check (jsonb_typeof(value) = 'object'),
  recorded_at timestamptz not null default now(),
  unique (environment_id, metric_type, recorded_at)
);
create index health_checks_recorded_at_idx on public.health_checks (recorded_at);

create trigger profiles_touch before update on public.profiles
  for each row execute function private.touch_updated_at();
create trigger teams_touch before update on public.teams
  for each row execute function private.touch_updated_at();
create trigger projects_touch before update on public.projects
  for each row execute function private.touch_updated_at();
create trigger configurations_touch before update on public.configurations
  for each row execute function private.touch_updated_at();
create trigger dependencies_touch before update on public.dependencies
  for each row execute function private.touch_updated_at();

-- Version starts at 1 and rises by exactly 1 per change, whoever writes the row.
create or replace function private.configurations_version() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.version := 1;
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
create trigger configurations_version before insert or update on public.configurations
  for each row execute function private.configurations_version();

-- A profile for every new auth user: username from the sign-up metadata, else the e-mail's
-- local part, cleaned to the allowed characters and made unique with a numeric suffix.
create or replace function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_base text;
  v_name text;
  v_n integer := 1;
begin
  v_base := coalesce(
    nullif(btrim(new.raw_user_meta_data ->> 'username'), ''),
    nullif(split_part(coalesce(new.email, ''), '@', 1), ''),
    'user'
  );
  v_base := regexp_replace(v_base, '[^A-Za-z0-9_.-]', '', 'g');
  v_base := regexp_replace(v_base, '^[^A-Za-z0-9]+', '');
  if v_base = '' then
    v_base := 'user';
  end if;
  v_base := left(v_base, 50);
  v_name := v_base;
  while exists (select 1 from public.profiles p where lower(p.username) = lower(v_name)) loop
    v_n := v_n + 1;
    v_name := v_base || v_n::text;
  end loop;
  insert into public.profiles (id, username, full_name, avatar_url)
  values (
    new.id,
    v_name,
    nullif(new.raw_user_meta_data ->> 'full_name', ''),
    nullif(new.raw_user_meta_data ->> 'avatar_url', '')
  );
  return new;
end
$$;
revoke all on function private.handle_new_user() from public;
comment on function private.handle_new_user() is
  'PERMISSIONS.md profiles: created by a trigger on auth.users (username made unique)';
create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

-- Nothing is reachable until the RLS migration grants it back.
revoke all on public.profiles, public.teams, public.team_members, public.projects,
  public.env_templates, public.environments, public.configurations, public.dependencies,
  public.health_checks
  from anon, authenticated, public;
revoke all on function private.touch_updated_at(), private.configurations_version(),
  private.template_config_has_no_secret_values(jsonb)
  from public;
