-- The dashboard's reads index-only again (issue 12; docs/benchmarks.md
-- "The dashboard at scale", "After the registered-cases policies").
--
-- 019 gave the dashboard's indexes every column its figures and the row-level
-- security policies of cases and tasks read, so that a week of a district is
-- a few thousand index entries whatever the size of the tables. Since then
-- two policies read one more column each:
--
--  - cases_registered_read (029) reads cases.id (the cases of citizens the
--    operator registered);
--  - tasks_tenant (025) reads tasks.id and tasks.kind (an operator's contact
--    tasks of citizens they registered).
--
-- PostgreSQL adds every permissive policy to a statement, whatever the
-- scope (the scope is only known when it runs), so no scan of cases or
-- tasks under row-level security could be index-only with these indexes.
-- The week's applications became a sequential scan of all the cases (1 s
-- at 1,000,000 cases, 1.7 ms before) and the task figures bitmap heap scans.
-- The indexes below are 019's with the columns the policies now read.
-- TestDashboardReadsAreIndexOnly holds it for every scope that reads the
-- dashboard.
DROP INDEX cases_dashboard;
CREATE INDEX cases_dashboard ON cases (district_id, created_at)
  INCLUDE (municipality_id, form_id, applicant_id, id);

DROP INDEX tasks_dashboard;
CREATE INDEX tasks_dashboard ON tasks (district_id, created_at)
  INCLUDE (municipality_id, kind, status, due_at, completed_at, id);

DROP INDEX tasks_backlog;
CREATE INDEX tasks_backlog ON tasks (district_id, team_id)
  INCLUDE (municipality_id, status, due_at, kind, id) WHERE status IN ('open', 'claimed');

---- create above / drop below ----

DROP INDEX tasks_backlog;
CREATE INDEX tasks_backlog ON tasks (district_id, team_id)
  INCLUDE (municipality_id, status, due_at) WHERE status IN ('open', 'claimed');

DROP INDEX tasks_dashboard;
CREATE INDEX tasks_dashboard ON tasks (district_id, created_at)
  INCLUDE (municipality_id, kind, status, due_at, completed_at);

DROP INDEX cases_dashboard;
CREATE INDEX cases_dashboard ON cases (district_id, created_at)
  INCLUDE (municipality_id, form_id, applicant_id);
