-- Accepted risks (issue 13): a project says "we accept advisory X until a date, because …".
-- Until then a version whose every known advisory is accepted is shown as ignored, with the
-- reason and the date, not as vulnerable; once the date has passed the entry counts no more
-- and the version is vulnerable again. Admins and members may accept and withdraw (viewers
-- never); every member reads the list; both changes are in the audit log.

-- Two audit actions more. The allowed list is read from the constraint as it stands and
-- extended, so that other migrations adding actions of their own need not know these.
do $$
declare
  v_actions text[];
begin
  select array_agg(distinct m[1]) into v_actions
    from pg_constraint c,
         regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g') m
    where c.conname = 'audit_log_action_check' and c.conrelid = 'public.audit_log'::regclass;
  v_actions := array(select distinct a from unnest(
    coalesce(v_actions, '{}') || array['risk.accept', 'risk.withdraw']) a order by a);
  alter table public.audit_log drop constraint audit_log_action_check;
  execute format('alter table public.audit_log add constraint audit_log_action_check'
                 ' check (action = any (%L::text[]))', v_actions);
end
$$;

create table public.accepted_risks (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  advisory_id text not null check (advisory_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'),
  reason text not null check (char_length(btrim(reason)) between 1 and 1000),
  until date not null,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint accepted_risks_project_advisory unique (project_id, advisory_id),
  constraint accepted_risks_printable check (reason !~ '[[:cntrl:]]')
);
create index accepted_risks_created_by_idx on public.accepted_risks (created_by);

alter table public.accepted_risks enable row level security;
revoke all on public.accepted_risks from anon, authenticated, service_role, public;
create policy accepted_risks_select on public.accepted_risks for select to authenticated
  using (project_id in (select private.my_project_ids()));
comment on policy accepted_risks_select on public.accepted_risks is
  'PERMISSIONS.md accepted risks read: members of the project''s team';
grant select on public.accepted_risks to authenticated;

create or replace function private.ignore_advisory(
  p_project_id uuid, p_advisory_id text, p_until date, p_reason text
) returns public.accepted_risks
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.accepted_risks;
begin
  if not exists (select 1 from public.projects p where p.id = p_project_id) then
    raise exception 'project not found' using errcode = 'P0002';
  end if;
  if p_project_id not in (select private.my_writer_project_ids()) then
    raise exception 'only admins and members may accept a risk for this project'
      using errcode = '42501';
  end if;
  if p_advisory_id is null or p_advisory_id !~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$' then
    raise exception 'an advisory id is letters, digits and . _ : - (at most 100)'
      using errcode = '22023';
  end if;
  if p_until is null or p_until <= current_date then
    raise exception 'the date until which the risk is accepted must be in the future'
      using errcode = '22023';
  end if;
  if p_reason is null or char_length(btrim(p_reason)) not between 1 and 1000
     or p_reason ~ '[[:cntrl:]]' then
    raise exception 'a reason of 1 to 1,000 characters, on one line, is needed'
      using errcode = '22023';
  end if;
  insert into public.accepted_risks as r (project_id, advisory_id, reason, until, created_by)
  values (p_project_id, p_advisory_id, btrim(p_reason), p_until, auth.uid())
  on conflict on constraint accepted_risks_project_advisory do update
    set reason = excluded.reason, until = excluded.until, created_by = excluded.created_by,
        created_at = now()
  returning * into v_row;
  perform private.audit(
    (select p.team_id from public.projects p where p.id = p_project_id), 'risk.accept',
    'accepted_risk', v_row.id::text, p_project_id, null,
    jsonb_build_object('advisory_id', v_row.advisory_id, 'until', v_row.until,
                       'reason', v_row.reason));
  return v_row;
end
$$;
comment on function private.ignore_advisory(uuid, text, date, text) is
  'PERMISSIONS.md accepted risks write: admins and members (audited)';

create or replace function private.unignore_advisory(p_project_id uuid, p_advisory_id text)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.accepted_risks;
begin
  if p_project_id not in (select private.my_writer_project_ids()) then
    raise exception 'only admins and members may withdraw an accepted risk of this project'
      using errcode = '42501';
  end if;
  delete from public.accepted_risks r
    where r.project_id = p_project_id and r.advisory_id = p_advisory_id
    returning * into v_row;
  if not found then
    raise exception 'that advisory is not on this project''s accepted list'
      using errcode = 'P0002';
  end if;
  perform private.audit(
    (select p.team_id from public.projects p where p.id = p_project_id), 'risk.withdraw',
    'accepted_risk', v_row.id::text, p_project_id, null,
    jsonb_build_object('advisory_id', v_row.advisory_id, 'until', v_row.until));
end
$$;
comment on function private.unignore_advisory(uuid, text) is
  'PERMISSIONS.md accepted risks write: admins and members (audited)';

create or replace function public.ignore_advisory(
  p_project_id uuid, p_advisory_id text, p_until date, p_reason text
) returns public.accepted_risks
language sql volatile set search_path = ''
as $$ select * from private.ignore_advisory(p_project_id, p_advisory_id, p_until, p_reason) $$;

create or replace function public.unignore_advisory(p_project_id uuid, p_advisory_id text)
returns void
language sql volatile set search_path = ''
as $$ select private.unignore_advisory(p_project_id, p_advisory_id) $$;

revoke all on function private.ignore_advisory(uuid, text, date, text),
  private.unignore_advisory(uuid, text), public.ignore_advisory(uuid, text, date, text),
  public.unignore_advisory(uuid, text) from public, anon;
grant execute on function private.ignore_advisory(uuid, text, date, text),
  private.unignore_advisory(uuid, text), public.ignore_advisory(uuid, text, date, text),
  public.unignore_advisory(uuid, text) to authenticated, service_role;
