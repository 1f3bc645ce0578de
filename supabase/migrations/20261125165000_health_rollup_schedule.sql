-- Retention runs by itself (issue 5: health_checks must not grow without end). Where pg_cron is
-- installed (on Supabase: enable the extension, then re-run this migration or the statement
-- below by hand) the roll-up is scheduled hourly; the local embedded database runs it on every
-- `devsync local start`, and an admin's `devsync agent` runs it once a day.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule(
      'devsync-health-rollup', '17 * * * *', 'select public.rollup_health_checks()'
    );
  end if;
end
$$;
