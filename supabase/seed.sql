-- The demo workspace (docs/DATABASE.md, tests/support/demo.py): team Acme with its people,
-- projects, templates, environments, configurations (secrets obviously fake), dependencies
-- with real drift and a day of health checks. SQL only; runs on the local embedded database
-- and on a Supabase project (`supabase db reset`). Users go into auth.users so the profile
-- trigger runs; configurations go through private.write_configuration so history and secret
-- storage are exactly what the RPCs produce. Password of every demo user: devsync-demo.

-- Writers are attributed through the same claim PostgREST sets (auth.uid()); reset at the end.
do $$ begin
perform set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-a000-000000000001", "role": "authenticated"}', false);
end $$;

insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  confirmation_token, recovery_token, email_change_token_new, email_change
)
select '00000000-0000-0000-0000-000000000000', u.id::uuid, 'authenticated', 'authenticated',
       u.email,
       -- bcrypt of 'devsync-demo' (pgcrypto is not on every server, so the hash is literal)
       '$2a$10$qosWQqzh74ojTn.BTavRteCo6RaVavPnclUd3qOJwttIQe39NFAIC',
       now() - interval '30 days',
       '{"provider": "email", "providers": ["email"]}'::jsonb,
       jsonb_build_object('username', u.username, 'full_name', u.full_name),
       now() - interval '30 days', now() - interval '30 days', '', '', '', ''
from (values
  ('00000000-0000-4000-a000-000000000001', 'alice@example.com', 'alice', 'Alice Anders'),
  ('00000000-0000-4000-a000-000000000002', 'bob@example.com', 'bob', 'Bob Brandt'),
  ('00000000-0000-4000-a000-000000000003', 'carol@example.com', 'carol', 'Carol Chen'),
  ('00000000-0000-4000-a000-000000000004', 'dave@example.com', 'dave', 'Dave Diaz'),
  ('00000000-0000-4000-a000-000000000005', 'erin@example.com', 'erin', 'Erin Eze'),
  ('00000000-0000-4000-a000-000000000006', 'mallory@example.com', 'mallory', 'Mallory Moss')
) as u(id, email, username, full_name);

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at,
                             created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true),
       'email', now() - interval '1 day', now() - interval '30 days', now() - interval '30 days'
from auth.users u
where u.id::text like '00000000-0000-4000-a000-00000000000_';

insert into public.teams (id, name, slug, owner_id)
values ('00000000-0000-4000-b000-000000000001', 'Acme', 'acme',
        '00000000-0000-4000-a000-000000000001');

insert into public.team_members (team_id, user_id, role, joined_at)
values
  ('00000000-0000-4000-b000-000000000001', '00000000-0000-4000-a000-000000000001', 'admin', now() - interval '30 days'),
  ('00000000-0000-4000-b000-000000000001', '00000000-0000-4000-a000-000000000002', 'member', now() - interval '25 days'),
  ('00000000-0000-4000-b000-000000000001', '00000000-0000-4000-a000-000000000003', 'viewer', now() - interval '20 days'),
  ('00000000-0000-4000-b000-000000000001', '00000000-0000-4000-a000-000000000004', 'member', now() - interval '10 days'),
  ('00000000-0000-4000-b000-000000000001', '00000000-0000-4000-a000-000000000005', 'admin', now() - interval '28 days');

insert into public.projects (id, team_id, name, description, repository_url)
values
  ('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-b000-000000000001', 'storefront',
   'The customer-facing web shop (Next.js)', 'https://github.com/acme/storefront'),
  ('00000000-0000-4000-c000-000000000002', '00000000-0000-4000-b000-000000000001', 'billing-api',
   'Invoices, payments and webhooks (Django)', 'https://github.com/acme/billing-api');

insert into public.env_templates (id, project_id, name, config_json, dependencies_json, is_public, created_by)
values
  ('00000000-0000-4000-e000-000000000001', '00000000-0000-4000-c000-000000000001', 'Node.js Starter',
   '{"NODE_ENV": "development", "PORT": "3000", "LOG_LEVEL": {"value": "debug"},
     "STRIPE_SECRET_KEY": {"is_secret": true},
     ".nvmrc": {"value": "20\n", "type": "file"}}',
   '[{"package_manager": "npm", "package_name": "react", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
     {"package_manager": "npm", "package_name": "next", "version_constraint": "^14.1.0", "resolved_version": "14.1.0"},
     {"package_manager": "npm", "package_name": "typescript", "version_constraint": "~5.3.0", "resolved_version": "5.3.3"}]',
   false, '00000000-0000-4000-a000-000000000002'),
  ('00000000-0000-4000-e000-000000000002', '00000000-0000-4000-c000-000000000001', 'Storefront CI',
   '{"CI": "true", "NODE_ENV": "test", "LOG_LEVEL": "warn"}',
   '[{"package_manager": "npm", "package_name": "jest", "version_constraint": "^29.7.0", "resolved_version": "29.7.0"}]',
   false, '00000000-0000-4000-a000-000000000001'),
  ('00000000-0000-4000-e000-000000000003', '00000000-0000-4000-c000-000000000002', 'Python Service',
   '{"DJANGO_SETTINGS_MODULE": "billing.settings.dev", "DEBUG": "true",
     "SECRET_KEY": {"is_secret": true}}',
   '[{"package_manager": "pip", "package_name": "django", "version_constraint": ">=4.2,<5", "resolved_version": "4.2.11"},
     {"package_manager": "pip", "package_name": "psycopg", "version_constraint": "==3.1.18", "resolved_version": "3.1.18"}]',
   false, '00000000-0000-4000-a000-000000000005'),
  ('00000000-0000-4000-e000-000000000004', '00000000-0000-4000-c000-000000000002', 'Python Data Science',
   '{"PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}',
   '[{"package_manager": "pip", "package_name": "numpy", "version_constraint": ">=1.26", "resolved_version": "1.26.4"},
     {"package_manager": "pip", "package_name": "pandas", "version_constraint": ">=2.2", "resolved_version": "2.2.1"},
     {"package_manager": "pip", "package_name": "jupyterlab", "version_constraint": ">=4.1", "resolved_version": "4.1.5"}]',
   true, '00000000-0000-4000-a000-000000000001');

insert into public.environments (id, project_id, template_id, user_id, name, status, last_sync_at, created_at)
values
  ('00000000-0000-4000-d000-000000000001', '00000000-0000-4000-c000-000000000001',
   '00000000-0000-4000-e000-000000000001', '00000000-0000-4000-a000-000000000002',
   'bob-laptop', 'active', now() - interval '2 minutes', now() - interval '24 days'),
  ('00000000-0000-4000-d000-000000000002', '00000000-0000-4000-c000-000000000001', null,
   '00000000-0000-4000-a000-000000000005', 'staging', 'active', now() - interval '4 minutes',
   now() - interval '27 days'),
  ('00000000-0000-4000-d000-000000000003', '00000000-0000-4000-c000-000000000001',
   '00000000-0000-4000-e000-000000000002', '00000000-0000-4000-a000-000000000001',
   'ci-runner', 'syncing', now() - interval '1 minute', now() - interval '15 days'),
  ('00000000-0000-4000-d000-000000000004', '00000000-0000-4000-c000-000000000002',
   '00000000-0000-4000-e000-000000000003', '00000000-0000-4000-a000-000000000001',
   'alice-mbp', 'offline', now() - interval '3 hours', now() - interval '29 days');

-- Configurations --------------------------------------------------------------------------
-- storefront, project defaults (written by alice)
do $$ begin
perform private.write_configuration(p, null, k, v, s, t, null)
from (values
  ('API_BASE_URL', 'https://api.storefront.example.com', false, 'env_var'),
  ('LOG_LEVEL', 'info', false, 'env_var'),
  ('FEATURE_FLAGS', 'checkout-v2,search-suggestions', false, 'env_var'),
  ('NODE_ENV', 'production', false, 'env_var'),
  ('DATABASE_URL', 'postgres://storefront:demo-db-password-not-real@db.example.com:5432/storefront', true, 'env_var'),
  ('STRIPE_SECRET_KEY', 'demo-stripe-key-not-real', true, 'env_var'),
  ('.npmrc', E'registry=https://registry.npmjs.org/\nsave-exact=true\n', false, 'file'),
  ('config/app.json', E'{\n  "theme": "light",\n  "currency": "EUR"\n}\n', false, 'file')
) as c(k, v, s, t)
cross join (values ('00000000-0000-4000-c000-000000000001'::uuid)) as x(p);
end $$;

-- LOG_LEVEL edited by bob then erin (history v1..v3); the Stripe key rotated by erin (v2).
do $$ begin
perform set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-a000-000000000002", "role": "authenticated"}', false);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000001', null, 'LOG_LEVEL', 'debug', false, 'env_var', 1);
end $$;

do $$ begin
perform set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-a000-000000000005", "role": "authenticated"}', false);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000001', null, 'LOG_LEVEL', 'warn', false, 'env_var', 2);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000001', null, 'STRIPE_SECRET_KEY', 'demo-stripe-key-rotated-not-real', true, 'env_var', 1);
end $$;

-- staging (erin's)
do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-d000-000000000002', k, v, s, 'env_var', null)
from (values
  ('API_BASE_URL', 'https://staging-api.storefront.example.com', false),
  ('STRIPE_SECRET_KEY', 'demo-stripe-staging-key-not-real', true),
  ('SENTRY_DSN', 'https://demo-sentry-key-not-real@sentry.example.com/42', true)
) as c(k, v, s);
end $$;

-- bob-laptop (bob's)
do $$ begin
perform set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-a000-000000000002", "role": "authenticated"}', false);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-d000-000000000001', k, v, s, 'env_var', null)
from (values
  ('API_BASE_URL', 'http://localhost:4000', false),
  ('LOG_LEVEL', 'debug', false),
  ('BOB_DEBUG_PORT', '9229', false),
  ('DATABASE_URL', 'postgres://bob:demo-local-password-not-real@localhost:5432/storefront_dev', true)
) as c(k, v, s);
end $$;

-- ci-runner and billing-api (alice's)
do $$ begin
perform set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-a000-000000000001", "role": "authenticated"}', false);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-d000-000000000003', k, v, false, 'env_var', null)
from (values ('CI', 'true'), ('LOG_LEVEL', 'warn')) as c(k, v);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000002', null, k, v, s, t, null)
from (values
  ('PAYMENT_PROVIDER', 'demo-pay', false, 'env_var'),
  ('DJANGO_SETTINGS_MODULE', 'billing.settings.production', false, 'env_var'),
  ('DATABASE_URL', 'postgres://billing:demo-billing-password-not-real@db.example.com:5432/billing', true, 'env_var'),
  ('WEBHOOK_SIGNING_SECRET', 'demo-webhook-secret-not-real', true, 'env_var'),
  ('settings.toml', E'[billing]\ncurrency = "EUR"\nretry_limit = 5\n', false, 'file')
) as c(k, v, s, t);
end $$;

do $$ begin
perform private.write_configuration('00000000-0000-4000-c000-000000000002', '00000000-0000-4000-d000-000000000004', 'DEBUG', 'true', false, 'env_var', null);
end $$;

-- Dependencies: baselines and what each machine really runs -------------------------------
do $$ begin
perform private.store_dependencies('00000000-0000-4000-c000-000000000001', null, '[
  {"package_manager": "npm", "package_name": "react", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "react-dom", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "next", "version_constraint": "^14.1.0", "resolved_version": "14.1.4"},
  {"package_manager": "npm", "package_name": "lodash", "version_constraint": "^4.17.21", "resolved_version": "4.17.21"},
  {"package_manager": "npm", "package_name": "axios", "version_constraint": "^1.6.0", "resolved_version": "1.6.8"},
  {"package_manager": "npm", "package_name": "typescript", "version_constraint": "~5.3.0", "resolved_version": "5.3.3"},
  {"package_manager": "npm", "package_name": "express", "version_constraint": "^4.18.2", "resolved_version": "4.19.2"},
  {"package_manager": "pip", "package_name": "requests", "version_constraint": ">=2.31", "resolved_version": "2.31.0"}
]');
end $$;

-- bob-laptop: next behind its constraint, a vulnerable lodash, express missing, an extra package
do $$ begin
perform private.store_dependencies('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-d000-000000000001', '[
  {"package_manager": "npm", "package_name": "react", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "react-dom", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "next", "version_constraint": "^14.1.0", "resolved_version": "13.5.6", "status": "outdated"},
  {"package_manager": "npm", "package_name": "lodash", "version_constraint": "^4.17.21", "resolved_version": "4.17.20", "status": "vulnerable"},
  {"package_manager": "npm", "package_name": "axios", "version_constraint": "^1.6.0", "resolved_version": "1.6.8"},
  {"package_manager": "npm", "package_name": "typescript", "version_constraint": "~5.3.0", "resolved_version": "5.3.3"},
  {"package_manager": "npm", "package_name": "left-pad", "version_constraint": "^1.3.0", "resolved_version": "1.3.0"},
  {"package_manager": "pip", "package_name": "requests", "version_constraint": ">=2.31", "resolved_version": "2.28.2", "status": "vulnerable"}
]');
end $$;

-- staging: an older axios inside its range
do $$ begin
perform private.store_dependencies('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-d000-000000000002', '[
  {"package_manager": "npm", "package_name": "react", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "react-dom", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "next", "version_constraint": "^14.1.0", "resolved_version": "14.1.4"},
  {"package_manager": "npm", "package_name": "lodash", "version_constraint": "^4.17.21", "resolved_version": "4.17.21"},
  {"package_manager": "npm", "package_name": "axios", "version_constraint": "^1.6.0", "resolved_version": "1.6.2", "status": "outdated"},
  {"package_manager": "npm", "package_name": "typescript", "version_constraint": "~5.3.0", "resolved_version": "5.3.3"},
  {"package_manager": "npm", "package_name": "express", "version_constraint": "^4.18.2", "resolved_version": "4.19.2"},
  {"package_manager": "pip", "package_name": "requests", "version_constraint": ">=2.31", "resolved_version": "2.31.0"}
]');
end $$;

-- ci-runner: a typescript outside ~5.3.0 (constraint violated)
do $$ begin
perform private.store_dependencies('00000000-0000-4000-c000-000000000001', '00000000-0000-4000-d000-000000000003', '[
  {"package_manager": "npm", "package_name": "react", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "react-dom", "version_constraint": "^18.2.0", "resolved_version": "18.2.0"},
  {"package_manager": "npm", "package_name": "next", "version_constraint": "^14.1.0", "resolved_version": "14.1.4"},
  {"package_manager": "npm", "package_name": "lodash", "version_constraint": "^4.17.21", "resolved_version": "4.17.21"},
  {"package_manager": "npm", "package_name": "axios", "version_constraint": "^1.6.0", "resolved_version": "1.6.8"},
  {"package_manager": "npm", "package_name": "typescript", "version_constraint": "~5.3.0", "resolved_version": "5.4.2"},
  {"package_manager": "npm", "package_name": "express", "version_constraint": "^4.18.2", "resolved_version": "4.19.2"},
  {"package_manager": "npm", "package_name": "jest", "version_constraint": "^29.7.0", "resolved_version": "29.7.0"},
  {"package_manager": "pip", "package_name": "requests", "version_constraint": ">=2.31", "resolved_version": "2.31.0"}
]');
end $$;

do $$ begin
perform private.store_dependencies('00000000-0000-4000-c000-000000000002', null, '[
  {"package_manager": "pip", "package_name": "django", "version_constraint": ">=4.2,<5", "resolved_version": "4.2.11"},
  {"package_manager": "pip", "package_name": "psycopg", "version_constraint": "==3.1.18", "resolved_version": "3.1.18"},
  {"package_manager": "pip", "package_name": "celery", "version_constraint": ">=5.3", "resolved_version": "5.3.6"},
  {"package_manager": "pip", "package_name": "requests", "version_constraint": ">=2.31", "resolved_version": "2.31.0"},
  {"package_manager": "pip", "package_name": "cryptography", "version_constraint": ">=42", "resolved_version": "42.0.5"},
  {"package_manager": "npm", "package_name": "prettier", "version_constraint": "^3.2.0", "resolved_version": "3.2.5"}
]');
end $$;

-- alice-mbp: an outdated django, a vulnerable cryptography below its constraint, celery missing
do $$ begin
perform private.store_dependencies('00000000-0000-4000-c000-000000000002', '00000000-0000-4000-d000-000000000004', '[
  {"package_manager": "pip", "package_name": "django", "version_constraint": ">=4.2,<5", "resolved_version": "4.2.7", "status": "outdated"},
  {"package_manager": "pip", "package_name": "psycopg", "version_constraint": "==3.1.18", "resolved_version": "3.1.18"},
  {"package_manager": "pip", "package_name": "requests", "version_constraint": ">=2.31", "resolved_version": "2.31.0"},
  {"package_manager": "pip", "package_name": "cryptography", "version_constraint": ">=42", "resolved_version": "41.0.7", "status": "vulnerable"},
  {"package_manager": "pip", "package_name": "ipython", "version_constraint": ">=8", "resolved_version": "8.22.2"},
  {"package_manager": "npm", "package_name": "prettier", "version_constraint": "^3.2.0", "resolved_version": "3.2.5"}
]');
end $$;

-- What OSV said about the versions marked vulnerable above, as each machine's agent reports it
-- (machine_report_package_facts: stored for the team of the machine's project, Acme). Real
-- advisories as OSV names them, two a version (OSV lists more), severity in OSV's
-- database_specific word, as core/advisories.py keeps it. checked_at: the machine's last report
-- (bob-laptop 2 minutes ago, alice-mbp before it went offline), so a scan run in the demo is
-- newer and replaces them. Skipped on a schema older than the facts (tests seed databases
-- migrated part-way: tests/db/helpers.py demo_before).
do $$ begin
if to_regprocedure('private.store_package_facts(uuid, jsonb)') is null then
  return;
end if;
perform private.store_package_facts('00000000-0000-4000-d000-000000000001', jsonb_build_object(
  'freshness', '[]'::jsonb,
  'advisories', jsonb_build_array(
    jsonb_build_object('package_manager', 'npm', 'package_name', 'lodash', 'version', '4.17.20',
      'checked_at', now() - interval '2 minutes', 'advisories', '[
      {"id": "GHSA-29mw-wpgm-hmr9", "aliases": ["CVE-2020-28500"], "severity": "MODERATE",
       "summary": "Regular Expression Denial of Service (ReDoS) in lodash", "fixed_version": "4.17.21"},
      {"id": "GHSA-35jh-r3h4-6jhm", "aliases": ["CVE-2021-23337"], "severity": "HIGH",
       "summary": "Command Injection in lodash", "fixed_version": "4.17.21"}
    ]'::jsonb),
    jsonb_build_object('package_manager', 'pip', 'package_name', 'requests', 'version', '2.28.2',
      'checked_at', now() - interval '2 minutes', 'advisories', '[
      {"id": "GHSA-9wx4-h78v-vm56", "aliases": ["CVE-2024-35195"], "severity": "MODERATE",
       "summary": "Requests `Session` object does not verify requests after making first request with verify=False",
       "fixed_version": "2.32.0"},
      {"id": "GHSA-j8r2-6x86-q33q", "aliases": ["CVE-2023-32681"], "severity": "MODERATE",
       "summary": "Unintended leak of Proxy-Authorization header in requests", "fixed_version": "2.31.0"}
    ]'::jsonb))));
perform private.store_package_facts('00000000-0000-4000-d000-000000000004', jsonb_build_object(
  'freshness', '[]'::jsonb,
  'advisories', jsonb_build_array(
    jsonb_build_object('package_manager', 'pip', 'package_name', 'cryptography', 'version', '41.0.7',
      'checked_at', now() - interval '3 hours 5 minutes', 'advisories', '[
      {"id": "GHSA-3ww4-gg4f-jr7f", "aliases": ["CVE-2023-50782"], "severity": "HIGH",
       "summary": "Python Cryptography package vulnerable to Bleichenbacher timing oracle attack",
       "fixed_version": "42.0.0"},
      {"id": "GHSA-9v9h-cgj8-h64p", "aliases": ["CVE-2024-0727"], "severity": "MODERATE",
       "summary": "Bundled OpenSSL: a maliciously formatted PKCS12 file can crash the process (NULL pointer dereference)",
       "fixed_version": "42.0.2"}
    ]'::jsonb))));
end $$;

-- Health: cpu, memory, disk, ping every 5 minutes over the last day, per environment.
-- Values are smooth deterministic curves; alice-mbp went offline three hours ago and bob's
-- laptop runs hot on memory in the last hour.
insert into public.health_checks (environment_id, metric_type, value, recorded_at)
select e.id, m.metric,
       case m.metric
         when 'cpu' then jsonb_build_object('value', round((e.base + 18 * sin(s.n / 14.0) + 6 * sin(s.n / 3.0))::numeric, 1), 'unit', '%')
         when 'memory' then jsonb_build_object(
           'value', round((least(97, e.base + 30 + 8 * sin(s.n / 40.0)
                                     + case when e.name = 'bob-laptop' and s.n > 275 then 30 else 0 end))::numeric, 1),
           'unit', '%', 'total_mb', 16384)
         when 'disk' then jsonb_build_object('value', round((55 + e.base / 4 + s.n / 96.0)::numeric, 1), 'unit', '%')
         else jsonb_build_object('value', round((12 + e.base / 5 + 4 * sin(s.n / 7.0))::numeric, 1), 'unit', 'ms', 'ok', true)
       end,
       s.at
from (values
  ('00000000-0000-4000-d000-000000000001'::uuid, 'bob-laptop', 35.0, 0),
  ('00000000-0000-4000-d000-000000000002'::uuid, 'staging', 22.0, 0),
  ('00000000-0000-4000-d000-000000000003'::uuid, 'ci-runner', 48.0, 0),
  ('00000000-0000-4000-d000-000000000004'::uuid, 'alice-mbp', 15.0, 36)
) as e(id, name, base, silent_points)
cross join (values ('cpu'), ('memory'), ('disk'), ('ping')) as m(metric)
cross join lateral (
  select g.n, date_trunc('minute', now()) - make_interval(mins => 5 * (287 - g.n)) as at
  from generate_series(0, 287 - e.silent_points) as g(n)
) as s;

do $$ begin
perform set_config('request.jwt.claims', '', false);
end $$;
