-- The case of a citizen the operator registered (issue 16), after 025: the
-- operator who registered a citizen of another municipality at a shared
-- desk records that citizen's contacts (025), and now also opens the staff
-- case page, reads the case's voucher and prints the voucher and the letter
-- that carries it, so that a citizen without e-mail can be served by the
-- desk they know. Nothing else: the case stays the municipality's (its
-- lists, its review tasks, its decisions and every write), colleagues of
-- the operator get nothing, and the operator's reads are audited at their
-- own desk (the application layer writes the audit row with the
-- operator's municipality, as 025's contacts are).
--
-- Which cases: those with a contact task of a citizen the current user
-- registered, the rule of 025's sportello_registered_contact_case. The
-- policies below ask it through its set form, sportello_registered_cases(),
-- evaluated once per statement (a hashed subplan), not once per row: an
-- operator's voucher list reads every voucher their scope might see. The
-- two say the same thing (TestTheOperatorWhoRegisteredACitizenReadsTheirCase checks
-- that they agree).
CREATE FUNCTION sportello_registered_cases() RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT DISTINCT t.case_id FROM tasks t JOIN contact_tasks ct ON ct.task_id = t.id JOIN users u ON u.id = ct.citizen_id
    WHERE t.kind = 'contact' AND u.registered_by = sportello_user()
$$;
REVOKE ALL ON FUNCTION sportello_registered_cases() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_registered_cases() TO sportello_app;

-- Read only (FOR SELECT): inserts, updates and deletes still need
-- cases_tenant and vouchers_tenant, which stay the municipality's.
CREATE POLICY cases_registered_read ON cases FOR SELECT
  USING ((SELECT sportello_scope()) = 'operator' AND district_id = (SELECT sportello_district())
         AND id IN (SELECT sportello_registered_cases()));
CREATE POLICY vouchers_registered_read ON vouchers FOR SELECT
  USING ((SELECT sportello_scope()) = 'operator' AND district_id = (SELECT sportello_district())
         AND case_id IN (SELECT sportello_registered_cases()));

-- The timeline: case_events_tenant admitted any event of a visible case,
-- for writing too, and the cases above are now visible to that operator.
-- Writes keep the tenant rule of the case (sportello_visible is
-- cases_tenant's rule, see 003) besides 025's contact events; the operator
-- reads the whole timeline of those cases, as the case page shows it.
DROP POLICY case_events_tenant ON case_events;
CREATE POLICY case_events_tenant ON case_events
  USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id
                 AND sportello_visible(c.district_id, c.municipality_id, c.applicant_id)));
CREATE POLICY case_events_registered_read ON case_events FOR SELECT
  USING ((SELECT sportello_scope()) = 'operator' AND case_id IN (SELECT sportello_registered_cases()));

---- create above / drop below ----

DROP POLICY case_events_registered_read ON case_events;
DROP POLICY case_events_tenant ON case_events;
CREATE POLICY case_events_tenant ON case_events USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id));

DROP POLICY vouchers_registered_read ON vouchers;
DROP POLICY cases_registered_read ON cases;

DROP FUNCTION sportello_registered_cases();
