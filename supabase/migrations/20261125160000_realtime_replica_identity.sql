-- Realtime (Supabase) for the Supabase transport's change feed (backend/supabase_realtime.py).
-- The feed subscribes per team (`team_id=eq.<id>`) and per project (`project_id=eq.<id>`),
-- DELETE included. Realtime can only evaluate such a filter on a deleted row when the table logs
-- the whole old row; with RLS on it still sends only the primary key to subscribers. Without
-- this, deletes would either be missed or have to be subscribed unfiltered (every user would
-- get every team's delete signals). Plain PostgreSQL (the local transport) is unaffected.
alter table public.team_members replica identity full;
alter table public.projects replica identity full;
alter table public.env_templates replica identity full;
alter table public.environments replica identity full;
alter table public.configurations replica identity full;
alter table public.dependencies replica identity full;
