-- The supervisors' dashboard (issue 13): every figure reads one period
-- (a week, a month, chosen dates) of one district, or of one of its
-- municipalities, through an index that starts with the district and the
-- time, so that its cost follows the period's rows, not the table's
-- (1,000,000 cases: a week is a few thousand index entries). The INCLUDE
-- columns are what the figures and the row-level security policies read,
-- so the reads stay index-only.

-- Applications per day or week and form.
CREATE INDEX cases_dashboard ON cases (district_id, created_at)
  INCLUDE (municipality_id, form_id, applicant_id);

-- Review tasks opened in the period: time to decision against the due date.
CREATE INDEX tasks_dashboard ON tasks (district_id, created_at)
  INCLUDE (municipality_id, kind, status, due_at, completed_at);

-- The backlog per team: the tasks still to do, whatever their age.
CREATE INDEX tasks_backlog ON tasks (district_id, team_id)
  INCLUDE (municipality_id, status, due_at) WHERE status IN ('open', 'claimed');

-- Budget burn: a fund's movements of one kind over a period.
CREATE INDEX transfers_fund_time ON transfers (fund_id, kind, created_at)
  INCLUDE (amount_cents) WHERE fund_id IS NOT NULL;

-- Redemptions and bookings of the period.
CREATE INDEX redemptions_time ON redemptions (created_at);
CREATE INDEX bookings_dashboard ON bookings (district_id, created_at);
CREATE INDEX incidents_dashboard ON incidents (district_id, created_at);

---- create above / drop below ----

DROP INDEX incidents_dashboard;
DROP INDEX bookings_dashboard;
DROP INDEX redemptions_time;
DROP INDEX transfers_fund_time;
DROP INDEX tasks_backlog;
DROP INDEX tasks_dashboard;
DROP INDEX cases_dashboard;
