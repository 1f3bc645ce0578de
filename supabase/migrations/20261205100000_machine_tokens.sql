-- Machine tokens (issue 12): a machine (a CI runner, a server's `devsync agent`) acts for one
-- environment with a token instead of a person's session. PERMISSIONS.md "machine" and
-- "machine tokens". The token itself is made here, in SQL, shown once, and never stored: the
-- table keeps its SHA-256 only.
--
-- How a request proves it is a machine: it carries the token in the HTTP header
-- `x-devsync-token` (with the anon key, no session). PostgREST hands every request header to
-- SQL as the transaction-local setting `request.headers` (a JSON object, lowercase names); the
-- local transport sets the same. private.machine_token() below reads it, hashes it and answers
-- which environment this is, or refuses (SQLSTATE PT401, see docs/DATABASE.md). Only the
-- machine RPCs of the next migration call it; nothing else is granted to anon.
--
-- Randomness: two gen_random_uuid() (core since PostgreSQL 13, pg_strong_random: the OS's
-- CSPRNG) give 244 random bits; sha256() is core since PostgreSQL 11. No extension is needed,
-- so the same SQL runs on plain PostgreSQL 15 and on Supabase.

create table public.machine_tokens (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  environment_id uuid not null,
  name text not null,
  token_hash bytea not null,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  -- null: never expires
  expires_at timestamptz,
  -- kept to the minute: written at most once a minute per token
  last_used_at timestamptz,
  -- when the last hourly `token.use` audit row was written
  use_logged_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid references public.profiles (id) on delete set null,
  constraint machine_tokens_token_hash_key unique (token_hash),
  constraint machine_tokens_token_hash_size check (octet_length(token_hash) = 32),
  constraint machine_tokens_name_check check (char_length(btrim(name)) between 1 and 200),
  constraint machine_tokens_name_printable check (name !~ '[[:cntrl:]]'),
  -- a token always belongs to its environment's own project, and goes with it
  constraint machine_tokens_env_project_fk foreign key (environment_id, project_id)
    references public.environments (id, project_id) on delete cascade
);
create index machine_tokens_project_id_idx on public.machine_tokens (project_id);
create index machine_tokens_environment_id_idx on public.machine_tokens (environment_id);
create index machine_tokens_created_by_idx on public.machine_tokens (created_by);
create index machine_tokens_revoked_by_idx on public.machine_tokens (revoked_by);

-- Reads by policy (admins of the team; the env owner for their environment's tokens), never
-- the hash; writes only through the RPCs below.
alter table public.machine_tokens enable row level security;
create policy machine_tokens_select on public.machine_tokens for select to authenticated
  using (project_id in (select private.my_admin_project_ids())
         or environment_id in (select private.my_owned_env_ids()));
comment on policy machine_tokens_select on public.machine_tokens is
  'PERMISSIONS.md machine tokens read: admins; env owner for their environment''s tokens';
revoke all on public.machine_tokens from anon, authenticated, service_role, public;
grant select (id, project_id, environment_id, name, created_by, created_at, expires_at,
              last_used_at, revoked_at, revoked_by)
  on public.machine_tokens to authenticated, service_role;

-- The audit log learns the token actions (existing rows are unchanged).
alter table public.audit_log drop constraint audit_log_action_check;
alter table public.audit_log add constraint audit_log_action_check check (action in (
  'config.create', 'config.update', 'config.delete', 'secret.reveal',
  'member.add', 'member.role', 'member.remove', 'team.create',
  'token.create', 'token.revoke', 'token.use'));

-- The SHA-256 of a token as stored. A token is 'dsm_' and 64 lowercase hex digits.
create or replace function private.machine_token_hash(p_token text) returns bytea
language sql immutable set search_path = ''
as $$ select sha256(convert_to(p_token, 'UTF8')) $$;

-- Whether the token's creator still may create it: an admin of the team, or the owner of the
-- environment while a member. A token does not outlive its creator's access (PERMISSIONS.md:
-- membership changes take effect at once), whoever holds a copy of it.
create or replace function private.machine_token_creator_ok(p_token public.machine_tokens)
returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.projects p
    join public.team_members m on m.team_id = p.team_id
    join public.environments e on e.id = p_token.environment_id
    where p.id = p_token.project_id and m.user_id = p_token.created_by
      and (m.role = 'admin' or (m.role = 'member' and e.user_id = p_token.created_by)))
$$;
comment on function private.machine_token_creator_ok(public.machine_tokens) is
  'PERMISSIONS.md machine tokens: created by an admin or the env owner, and valid only while '
  'that person still may';

-- Raises PT401 with detail {"reason": …, "at": …} (at: when it expired or was revoked).
create or replace function private.refuse_machine_token(
  p_reason text, p_message text, p_at timestamptz
) returns void
language plpgsql volatile set search_path = ''
as $$
begin
  raise exception '%', p_message
    using errcode = 'PT401',
          detail = jsonb_build_object('reason', p_reason, 'at', p_at)::text,
          hint = 'ask an admin of the team or the environment''s owner for a new token';
end
$$;

-- Which machine is calling: the token row named by this request's `x-devsync-token` header,
-- or PT401. Records the use: last_used_at (at most once a minute) and a `token.use` audit row
-- (at most once an hour per token). Only definer functions call it; never granted.
create or replace function private.machine_token() returns public.machine_tokens
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_headers text := nullif(current_setting('request.headers', true), '');
  v_token text;
  v_row public.machine_tokens;
begin
  if v_headers is not null then
    v_token := v_headers::json ->> 'x-devsync-token';
  end if;
  if v_token is null or v_token = '' then
    perform private.refuse_machine_token(
      'missing', 'no machine token was sent (header x-devsync-token)', null);
  end if;
  if v_token !~ '^dsm_[0-9a-f]{64}$' then
    perform private.refuse_machine_token('unknown', 'this is not a DevSync machine token', null);
  end if;
  select * into v_row from public.machine_tokens t
    where t.token_hash = private.machine_token_hash(v_token);
  if not found then
    perform private.refuse_machine_token(
      'unknown', 'this machine token is not valid (unknown, or its environment was deleted)',
      null);
  end if;
  if v_row.revoked_at is not null then
    perform private.refuse_machine_token(
      'revoked', 'this machine token was revoked', v_row.revoked_at);
  end if;
  if v_row.expires_at is not null and v_row.expires_at <= now() then
    perform private.refuse_machine_token(
      'expired', 'this machine token has expired', v_row.expires_at);
  end if;
  if not private.machine_token_creator_ok(v_row) then
    perform private.refuse_machine_token(
      'creator', 'the creator of this machine token no longer has access to its environment',
      null);
  end if;
  -- Bounded writes: a busy agent must not turn every request into a row update.
  if v_row.last_used_at is null or v_row.last_used_at < now() - interval '1 minute' then
    update public.machine_tokens t set last_used_at = now()
      where t.id = v_row.id
        and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute');
  end if;
  if v_row.use_logged_at is null or v_row.use_logged_at < now() - interval '1 hour' then
    update public.machine_tokens t set use_logged_at = now()
      where t.id = v_row.id
        and (t.use_logged_at is null or t.use_logged_at < now() - interval '1 hour');
    if found then
      perform private.audit(
        (select p.team_id from public.projects p where p.id = v_row.project_id), 'token.use',
        'machine_token', v_row.id::text, v_row.project_id, v_row.environment_id,
        jsonb_build_object('token_id', v_row.id, 'token', v_row.name));
    end if;
  end if;
  return v_row;
end
$$;
comment on function private.machine_token() is
  'PERMISSIONS.md machine: the token of this request (header x-devsync-token), or PT401 when it '
  'is missing, unknown, revoked, expired or its creator lost access; use audited hourly';

-- The listing shape (no hash), shared by list_machine_tokens and revoke_machine_token.
create or replace function private.machine_token_rows()
returns table (
  id uuid, project_id uuid, environment_id uuid, environment_name text, name text,
  created_by uuid, created_by_username text, created_at timestamptz, expires_at timestamptz,
  last_used_at timestamptz, revoked_at timestamptz, revoked_by uuid, revoked_by_username text
)
language sql stable set search_path = ''
as $$
  select t.id, t.project_id, t.environment_id, e.name, t.name, t.created_by, pc.username,
         t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.revoked_by, pr.username
  from public.machine_tokens t
  join public.environments e on e.id = t.environment_id
  left join public.profiles pc on pc.id = t.created_by
  left join public.profiles pr on pr.id = t.revoked_by
$$;

create or replace function private.create_machine_token(
  p_environment_id uuid, p_name text, p_expires_at timestamptz
) returns table (id uuid, token text)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_env public.environments;
  v_token text;
  v_id uuid;
begin
  if auth.uid() is null then
    raise exception 'sign in to create a machine token' using errcode = '42501';
  end if;
  select * into v_env from public.environments e where e.id = p_environment_id;
  if not found then
    raise exception 'environment not found' using errcode = 'P0002';
  end if;
  if not (v_env.project_id in (select private.my_admin_project_ids())
          or v_env.id in (select private.my_owned_env_ids())) then
    raise exception 'only an admin of the team or the environment''s owner can create tokens '
      'for it' using errcode = '42501';
  end if;
  if p_name is null or char_length(btrim(p_name)) not between 1 and 200 then
    raise exception 'a token name must have 1 to 200 characters' using errcode = '22023';
  end if;
  if p_name ~ '[[:cntrl:]]' then
    raise exception 'a token name must not contain control characters' using errcode = '22023';
  end if;
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception 'a token must expire in the future' using errcode = '22023';
  end if;
  v_token := 'dsm_' || replace(gen_random_uuid()::text, '-', '')
                    || replace(gen_random_uuid()::text, '-', '');
  insert into public.machine_tokens
    (project_id, environment_id, name, token_hash, created_by, expires_at)
  values (v_env.project_id, v_env.id, btrim(p_name), private.machine_token_hash(v_token),
          auth.uid(), p_expires_at)
  returning machine_tokens.id into v_id;
  perform private.audit(
    (select p.team_id from public.projects p where p.id = v_env.project_id), 'token.create',
    'machine_token', v_id::text, v_env.project_id, v_env.id,
    jsonb_build_object('token_id', v_id, 'name', btrim(p_name), 'expires_at', p_expires_at));
  return query select v_id, v_token;
end
$$;
comment on function private.create_machine_token(uuid, text, timestamptz) is
  'PERMISSIONS.md machine tokens create: admins; env owner for their own environment (not '
  'viewers). Returns the token once; only its hash is stored';

create or replace function private.revoke_machine_token(p_token_id uuid)
returns table (
  id uuid, project_id uuid, environment_id uuid, environment_name text, name text,
  created_by uuid, created_by_username text, created_at timestamptz, expires_at timestamptz,
  last_used_at timestamptz, revoked_at timestamptz, revoked_by uuid, revoked_by_username text
)
language plpgsql volatile security definer set search_path = ''
as $$
declare
  v_row public.machine_tokens;
begin
  select * into v_row from public.machine_tokens t where t.id = p_token_id for update;
  if not found then
    raise exception 'machine token not found' using errcode = 'P0002';
  end if;
  if not (v_row.created_by is not distinct from auth.uid() and auth.uid() is not null
          or v_row.project_id in (select private.my_admin_project_ids())) then
    raise exception 'only an admin of the team or the token''s creator can revoke it'
      using errcode = '42501';
  end if;
  -- Revoking twice changes nothing and writes no second audit row.
  if v_row.revoked_at is null then
    update public.machine_tokens t set revoked_at = now(), revoked_by = auth.uid()
      where t.id = v_row.id;
    perform private.audit(
      (select p.team_id from public.projects p where p.id = v_row.project_id), 'token.revoke',
      'machine_token', v_row.id::text, v_row.project_id, v_row.environment_id,
      jsonb_build_object('token_id', v_row.id, 'name', v_row.name));
  end if;
  return query select * from private.machine_token_rows() r where r.id = v_row.id;
end
$$;
comment on function private.revoke_machine_token(uuid) is
  'PERMISSIONS.md machine tokens revoke: admins, the token''s creator';

create or replace function public.create_machine_token(
  p_environment_id uuid, p_name text, p_expires_at timestamptz default null
) returns table (id uuid, token text)
language sql volatile set search_path = ''
as $$ select * from private.create_machine_token(p_environment_id, p_name, p_expires_at) $$;

-- Invoker: the select policy of machine_tokens decides which rows the caller sees.
create or replace function public.list_machine_tokens(p_project_id uuid default null)
returns table (
  id uuid, project_id uuid, environment_id uuid, environment_name text, name text,
  created_by uuid, created_by_username text, created_at timestamptz, expires_at timestamptz,
  last_used_at timestamptz, revoked_at timestamptz, revoked_by uuid, revoked_by_username text
)
language sql stable set search_path = ''
as $$
  select * from private.machine_token_rows() r
  where p_project_id is null or r.project_id = p_project_id
  order by r.created_at desc, r.id
$$;

create or replace function public.revoke_machine_token(p_token_id uuid)
returns table (
  id uuid, project_id uuid, environment_id uuid, environment_name text, name text,
  created_by uuid, created_by_username text, created_at timestamptz, expires_at timestamptz,
  last_used_at timestamptz, revoked_at timestamptz, revoked_by uuid, revoked_by_username text
)
language sql volatile set search_path = ''
as $$ select * from private.revoke_machine_token(p_token_id) $$;

revoke all on function
  private.machine_token_hash(text), private.machine_token_creator_ok(public.machine_tokens),
  private.refuse_machine_token(text, text, timestamptz), private.machine_token()
  from public, anon, authenticated;
revoke all on function
  private.machine_token_rows(), private.create_machine_token(uuid, text, timestamptz),
  private.revoke_machine_token(uuid),
  public.create_machine_token(uuid, text, timestamptz), public.list_machine_tokens(uuid),
  public.revoke_machine_token(uuid)
  from public, anon;
grant execute on function
  private.machine_token_rows(), private.create_machine_token(uuid, text, timestamptz),
  private.revoke_machine_token(uuid),
  public.create_machine_token(uuid, text, timestamptz), public.list_machine_tokens(uuid),
  public.revoke_machine_token(uuid)
  to authenticated;
