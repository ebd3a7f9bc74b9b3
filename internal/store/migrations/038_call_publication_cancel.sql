-- A supervisor withdraws a call's publication while its budget commitment
-- is still unanswered (issue 15, part 4: "Annulla pubblicazione"). The
-- CallFunding workflow stops asking the accounting system and puts the
-- call back to draft with funding_refusal 'cancelled' and who withdrew it
-- and when (publication_cancelled_by, publication_cancelled_at); nothing
-- was committed or booked. Publishing it again clears them. The table's
-- row-level security (migration 026) covers the new columns.
ALTER TABLE calls
  ADD COLUMN publication_cancelled_by text,
  ADD COLUMN publication_cancelled_at timestamptz,
  ADD CONSTRAINT calls_publication_cancelled_whole
    CHECK ((publication_cancelled_by IS NULL) = (publication_cancelled_at IS NULL)),
  ADD CONSTRAINT calls_publication_cancelled_draft
    CHECK (publication_cancelled_by IS NULL OR status = 'draft');

---- create above / drop below ----

ALTER TABLE calls
  DROP CONSTRAINT calls_publication_cancelled_draft,
  DROP CONSTRAINT calls_publication_cancelled_whole,
  DROP COLUMN publication_cancelled_at,
  DROP COLUMN publication_cancelled_by;
