-- A case's workflow starts after the application's commit, off the request
-- (issue 12; docs/benchmarks.md "The POST answers from the commit").
--
-- The API answers 201 as soon as the case is committed and starts the case's
-- workflow right after, in the background. start_pending is the outbox of
-- that start: set by the insert, in the same transaction as the case, and
-- cleared by the workflow's pre-check (the first thing it writes, in the same
-- statement as the pre-check) or by the worker's starter, which starts the
-- workflow of every case still pending after a grace period (Temporal was
-- down, the API stopped between the commit and the start). A start is
-- idempotent (the workflow id is the case's), so the starter and the API
-- may both start the same case.
--
-- The index holds only the pending cases: a handful in normal operation,
-- whatever the size of the table.
ALTER TABLE cases ADD COLUMN start_pending boolean NOT NULL DEFAULT false;
CREATE INDEX cases_start_pending ON cases (created_at) WHERE start_pending;

---- create above / drop below ----

DROP INDEX cases_start_pending;
ALTER TABLE cases DROP COLUMN start_pending;
