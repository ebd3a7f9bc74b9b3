-- Company welfare (issue 15, part 1): the credit returned at withdrawals is
-- an employee's unspent credit, so a month's returned credit summed over
-- one or two withdrawals tells what those employees spent. A statement
-- keeps how many employees returned credit in its month
-- (revoked_employees: the distinct employee credit accounts of its revoke
-- transfers, at the withdrawal and when a withdrawn employee's booking is
-- cancelled later); the small-group suppression of
-- internal/app/company hides the returned figure below its group size,
-- as it hides spending cells. The totals (opening, top-ups, allotted,
-- closing) stay the ledger's, reconciled to the cent by 034's CHECK.

ALTER TABLE company_statements ADD COLUMN revoked_employees integer NOT NULL DEFAULT 0 CHECK (revoked_employees >= 0);

-- Statements issued before: counted from the ledger, as the issue does.
UPDATE company_statements s SET revoked_employees = (
  SELECT count(DISTINCT t.from_account) FROM transfers t
  WHERE t.to_account = 'company:' || s.company_id AND t.kind = 'revoke'
    AND t.created_at >= (s.month::timestamp AT TIME ZONE 'Europe/Rome')
    AND t.created_at < ((s.month + interval '1 month')::timestamp AT TIME ZONE 'Europe/Rome'));

ALTER TABLE company_statements ADD CONSTRAINT company_statements_revoked_employees
  CHECK ((revoked_cents = 0) = (revoked_employees = 0));

---- create above / drop below ----

ALTER TABLE company_statements DROP COLUMN revoked_employees;
