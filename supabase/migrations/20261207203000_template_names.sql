-- Template names: unique within their project, and at most 200 characters whole. A project
-- could hold two templates named "Node.js Starter", which a new environment's "From template"
-- list then showed twice with nothing to tell them apart; and the length check measured
-- btrim(name) only, so spaces around a name were unbounded. Now a name is unique per project
-- exactly as an environment's is (unique (project_id, name): the exact name, so
-- "node.js starter" is another name), and the whole name has 1 to 200 characters.
--
-- Existing rows: a name longer than 200 characters loses the spaces around it (its text was
-- within 200 already); then in each project the first template of a name (created_at, then
-- id) keeps it and each later one becomes "name (2)", "name (3)", …: the first number free in
-- the project, the name cut to leave room for it. Environments refer to templates by id, so
-- nothing else changes.

update public.env_templates set name = btrim(name) where char_length(name) > 200;

do $$
declare
  v_row record;
  v_n int;
  v_name text;
begin
  for v_row in
    select d.id, d.project_id, d.name
    from (select t.id, t.project_id, t.name,
                 row_number() over (partition by t.project_id, t.name
                                    order by t.created_at, t.id) as nth
          from public.env_templates t) d
    where d.nth > 1
    order by d.project_id, d.name, d.nth
  loop
    v_n := 2;
    loop
      v_name := rtrim(left(v_row.name, 200 - char_length(' (' || v_n || ')')))
                || ' (' || v_n || ')';
      exit when not exists (select 1 from public.env_templates t
                            where t.project_id = v_row.project_id and t.name = v_name);
      v_n := v_n + 1;
    end loop;
    update public.env_templates set name = v_name where id = v_row.id;
  end loop;
end
$$;

alter table public.env_templates
  drop constraint env_templates_name_check,
  add constraint env_templates_name_check
    check (char_length(btrim(name)) between 1 and 200 and char_length(name) <= 200),
  add constraint env_templates_project_id_name_key unique (project_id, name);
comment on constraint env_templates_project_id_name_key on public.env_templates is
  'A template name is unique within its project, exactly as an environment name is';
