-- A call's budget is confirmed with its source before it is booked (issue
-- 15, part 4): publishing a call asks the municipality's accounting system
-- to commit the budget (an "impegno di spesa", idempotency key
-- "funding:<call id>"); the fund is created, funded through the ledger and
-- the call opened only once the commitment is confirmed.
--
-- calls.status gains 'publishing': the commitment has been asked and the
-- terms are frozen (the accounting system may have committed them) until it
-- is confirmed (published) or refused (back to draft, with the refusal's
-- code in funding_refusal). commitment_number, commitment_cents and
-- committed_at are the accounting system's confirmation, recorded with the
-- publication; every published call made from now on has one (`sportello
-- verify`, call_fund_committed). Calls published before this migration have
-- none and are reported by that check until an administrator records
-- theirs. The table's row-level security (migration 026) covers the new
-- columns: a district's supervisors read and write them, everyone else of
-- the district reads published calls only (a call being published is not
-- open to anyone).
ALTER TABLE calls DROP CONSTRAINT calls_status_check;
ALTER TABLE calls ADD CONSTRAINT calls_status_check CHECK (status IN ('draft', 'publishing', 'published'));
ALTER TABLE calls
  ADD COLUMN commitment_number text,
  ADD COLUMN commitment_cents  bigint CHECK (commitment_cents > 0),
  ADD COLUMN committed_at      timestamptz,
  ADD COLUMN funding_refusal   text,
  ADD CONSTRAINT calls_commitment_whole
    CHECK ((commitment_number IS NULL) = (commitment_cents IS NULL) AND (commitment_number IS NULL) = (committed_at IS NULL)),
  ADD CONSTRAINT calls_commitment_published
    CHECK (commitment_number IS NULL OR status = 'published');
CREATE UNIQUE INDEX calls_commitment_number ON calls (commitment_number) WHERE commitment_number IS NOT NULL;

---- create above / drop below ----

-- A call still being published goes back to draft: nothing was booked for it.
UPDATE calls SET status = 'draft' WHERE status = 'publishing';
DROP INDEX calls_commitment_number;
ALTER TABLE calls
  DROP CONSTRAINT calls_commitment_published,
  DROP CONSTRAINT calls_commitment_whole,
  DROP COLUMN funding_refusal,
  DROP COLUMN committed_at,
  DROP COLUMN commitment_cents,
  DROP COLUMN commitment_number;
ALTER TABLE calls DROP CONSTRAINT calls_status_check;
ALTER TABLE calls ADD CONSTRAINT calls_status_check CHECK (status IN ('draft', 'published'));
