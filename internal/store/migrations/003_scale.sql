-- Scale (issue 4): inboxes and timelines stay fast with a million cases.
--
-- The 001 policies call sportello_visible(), which PostgreSQL inlines into a
-- CASE over current_setting() calls: correct, but evaluated again for every
-- row the query reads, and estimated so selective (under 1%) that the planner
-- picks plans for a handful of rows when there are thousands. The policies
-- of the two hot tables below say exactly the same thing with each setting
-- read once per statement, as an InitPlan ((SELECT sportello_scope()) and
-- friends): the per-row check becomes a comparison with a constant.
--
-- A policy that must also let the system scope see everything can never be
-- an index condition by itself (an OR arm without a column test defeats
-- index scans), so the store's staff queries also name the scope's district
-- and municipality as plain predicates (see tenantTaskSQL in api_tasks.go);
-- the policies stay the authority on what is visible.
--
-- What each scope sees is unchanged:
--   system      everything
--   supervisor  rows of their district
--   operator    rows of their district and municipality
--   citizen     their own cases (applicant_id), no tasks
--   anything else (merchant, anonymous, no scope): nothing

DROP POLICY cases_tenant ON cases;
CREATE POLICY cases_tenant ON cases
  USING (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND municipality_id = (SELECT sportello_municipality())
    WHEN 'citizen'    THEN coalesce(applicant_id = (SELECT sportello_user()), false)
    ELSE false
  END)
  WITH CHECK (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND municipality_id = (SELECT sportello_municipality())
    WHEN 'citizen'    THEN coalesce(applicant_id = (SELECT sportello_user()), false)
    ELSE false
  END);

DROP POLICY tasks_tenant ON tasks;
CREATE POLICY tasks_tenant ON tasks
  USING (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND municipality_id = (SELECT sportello_municipality())
    ELSE false
  END)
  WITH CHECK (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND municipality_id = (SELECT sportello_municipality())
    ELSE false
  END);

-- Active tasks of a municipality in due-date order: the inbox ("active") and
-- its overdue filter read one page of this small index (a few percent of all
-- tasks) and stop. Single-status inboxes use tasks_queue from 001.
CREATE INDEX tasks_active ON tasks (district_id, municipality_id, due_at, id)
  WHERE status IN ('open', 'claimed');

---- create above / drop below ----

DROP INDEX tasks_active;

DROP POLICY tasks_tenant ON tasks;
CREATE POLICY tasks_tenant ON tasks USING (sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL))
  WITH CHECK (sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL));

DROP POLICY cases_tenant ON cases;
CREATE POLICY cases_tenant ON cases USING (sportello_visible(district_id, municipality_id, applicant_id))
  WITH CHECK (sportello_visible(district_id, municipality_id, applicant_id));
