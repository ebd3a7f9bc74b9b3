-- Company welfare, the rest of issue 15 part 1:
--
--   * the monthly statement of a company (company_statements): its
--     account's opening balance, top-ups, credit allotted and withdrawn and
--     closing balance, reconciled with the ledger to the cent (the CHECK
--     below), with its employees' spending by category kept as raw cells
--     (the small-group suppression of internal/app/company is applied when
--     it is shown, in one place) and, when the company topped up that
--     month, an invoice numbered per district and year without gaps
--     (company_invoice_counters, taken in the statement's transaction);
--   * the spending functions count distinct employees per cell, for that
--     suppression, and the system (the monthly schedule) reads any
--     company's spending;
--   * welfare managers write audit rows about themselves (enrolment,
--     withdrawal, CSV import, top-up, statement download), never naming a
--     case; supervisors read them as every audit row of their district;
--   * a Social Point may be hosted by a company (host_company_id); its
--     hours are its own and its welfare manager keeps them.

CREATE TABLE company_invoice_counters (
  district_id  text NOT NULL REFERENCES districts(id),
  year         integer NOT NULL CHECK (year BETWEEN 2000 AND 2200),
  last_number  integer NOT NULL CHECK (last_number > 0),
  PRIMARY KEY (district_id, year)
);

CREATE TABLE company_statements (
  id              uuid PRIMARY KEY,
  company_id      text NOT NULL REFERENCES companies(id),
  district_id     text NOT NULL REFERENCES districts(id),
  month           date NOT NULL CHECK (month = date_trunc('month', month)::date),
  opening_cents   bigint NOT NULL,
  topups_cents    bigint NOT NULL CHECK (topups_cents >= 0),
  allotted_cents  bigint NOT NULL CHECK (allotted_cents >= 0),
  revoked_cents   bigint NOT NULL CHECK (revoked_cents >= 0),
  closing_cents   bigint NOT NULL,
  -- The employees' spending of the month by category, raw:
  -- [{"category","spent_cents","bookings","employees"}]; shown only through
  -- the suppression rule (company.Suppress).
  spending        jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- The invoice of the month's top-ups (none without a top-up): its number
  -- is the next of its district and year, taken in the same transaction.
  invoice_year    integer,
  invoice_number  integer,
  invoice_date    date,
  issuer          jsonb NOT NULL DEFAULT '{}'::jsonb, -- the district, as it was
  customer        jsonb NOT NULL DEFAULT '{}'::jsonb, -- the company, as it was
  issued_by       text NOT NULL,                      -- "schedule" or a username
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (company_id, month),
  UNIQUE (district_id, invoice_year, invoice_number),
  -- Reconciled to the cent: the closing balance is the opening one moved
  -- by the month's transfers (and both were read from the ledger).
  CHECK (opening_cents + topups_cents - allotted_cents + revoked_cents = closing_cents),
  CHECK ((invoice_number IS NULL) = (invoice_year IS NULL) AND (invoice_number IS NULL) = (invoice_date IS NULL)),
  CHECK ((invoice_number IS NOT NULL) = (topups_cents > 0))
);
CREATE INDEX company_statements_district ON company_statements (district_id, month DESC);

GRANT SELECT ON company_statements, company_invoice_counters TO sportello_app;
GRANT INSERT ON company_statements TO sportello_app;
GRANT INSERT, UPDATE ON company_invoice_counters TO sportello_app;

ALTER TABLE company_statements ENABLE ROW LEVEL SECURITY;
CREATE POLICY company_statements_read ON company_statements FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district()))
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company())));
-- Only the system scope issues (the schedule, or the service on demand
-- once it has checked the caller).
CREATE POLICY company_statements_insert ON company_statements FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE company_invoice_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY company_invoice_counters_all ON company_invoice_counters FOR ALL
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

-- Spending of company c by month and category, with the distinct employees
-- of each cell: for the system scope, the company's welfare manager and
-- the supervisors of its district; nothing for anyone else.
CREATE FUNCTION company_spending_of(c text) RETURNS TABLE (month date, category text, spent_cents bigint,
    bookings bigint, employees bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  WITH allowed AS (
    SELECT 1 FROM companies co WHERE co.id = c AND (sportello_scope() = 'system'
      OR (sportello_scope() = 'welfare_manager' AND co.id = sportello_company())
      OR (sportello_scope() = 'supervisor' AND co.district_id = sportello_district()))),
  mine AS (
    SELECT 'company_credit:' || e.id AS account, e.id AS employee FROM company_employees e
    WHERE e.company_id = c AND EXISTS (SELECT 1 FROM allowed)),
  moves AS (
    SELECT t.created_at, t.booking_id, mine.employee, t.amount_cents AS cents, true AS hold FROM transfers t JOIN mine ON t.from_account = mine.account
    WHERE t.kind = 'hold' AND t.booking_id IS NOT NULL
    UNION ALL
    SELECT t.created_at, t.booking_id, mine.employee, -t.amount_cents, false FROM transfers t JOIN mine ON t.to_account = mine.account
    WHERE t.kind = 'void' AND t.booking_id IS NOT NULL)
  SELECT date_trunc('month', m.created_at AT TIME ZONE 'Europe/Rome')::date, b.category,
    sum(m.cents)::bigint, count(DISTINCT m.booking_id) FILTER (WHERE m.hold), count(DISTINCT m.employee)
  FROM moves m JOIN bookings b ON b.id = m.booking_id
  GROUP BY 1, 2 ORDER BY 1, 2
$$;

DROP FUNCTION company_spending;
CREATE FUNCTION company_spending() RETURNS TABLE (month date, category text, spent_cents bigint, bookings bigint, employees bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT * FROM company_spending_of(sportello_company()) WHERE sportello_company() <> ''
$$;

-- Welfare managers write audit rows about themselves in their district,
-- never naming a case.
DROP POLICY audit_log_insert ON audit_log;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant', 'cooperative', 'commerce_manager', 'welfare_manager')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) NOT IN ('merchant', 'cooperative', 'commerce_manager', 'welfare_manager') OR case_id IS NULL)));

-- A Social Point hosted by a company: public like every point (its
-- address and hours are no personal data, and hosting one is the
-- company's offer to the district); its welfare manager keeps its hours.
ALTER TABLE social_points ADD COLUMN host_company_id text REFERENCES companies(id);
CREATE INDEX social_points_host ON social_points (host_company_id) WHERE host_company_id IS NOT NULL;
-- The name of a company hosting a Social Point: public, as the point is
-- (companies themselves are not).
CREATE FUNCTION social_point_host_name(c text) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT co.name FROM companies co WHERE co.id = c AND EXISTS (SELECT 1 FROM social_points p WHERE p.host_company_id = c)
$$;
DROP POLICY social_point_hours_write ON social_point_hours;
CREATE POLICY social_point_hours_write ON social_point_hours FOR ALL
  USING ((sportello_scope() IN ('system','supervisor','operator') AND EXISTS (SELECT 1 FROM social_points p
      WHERE p.id = point_id AND sportello_visible(p.district_id, p.municipality_id, NULL)))
    OR (sportello_scope() = 'welfare_manager' AND EXISTS (SELECT 1 FROM social_points p
      WHERE p.id = point_id AND p.host_company_id = sportello_company())))
  WITH CHECK ((sportello_scope() IN ('system','supervisor','operator') AND EXISTS (SELECT 1 FROM social_points p
      WHERE p.id = point_id AND sportello_visible(p.district_id, p.municipality_id, NULL)))
    OR (sportello_scope() = 'welfare_manager' AND EXISTS (SELECT 1 FROM social_points p
      WHERE p.id = point_id AND p.host_company_id = sportello_company())));

---- create above / drop below ----

DROP POLICY social_point_hours_write ON social_point_hours;
CREATE POLICY social_point_hours_write ON social_point_hours FOR ALL
  USING (sportello_scope() IN ('system','supervisor','operator') AND EXISTS (SELECT 1 FROM social_points p
    WHERE p.id = point_id AND sportello_visible(p.district_id, p.municipality_id, NULL)))
  WITH CHECK (sportello_scope() IN ('system','supervisor','operator') AND EXISTS (SELECT 1 FROM social_points p
    WHERE p.id = point_id AND sportello_visible(p.district_id, p.municipality_id, NULL)));
DROP FUNCTION social_point_host_name;
DROP INDEX social_points_host;
ALTER TABLE social_points DROP COLUMN host_company_id;

DROP POLICY audit_log_insert ON audit_log;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant', 'cooperative', 'commerce_manager')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) NOT IN ('merchant', 'cooperative', 'commerce_manager') OR case_id IS NULL)));

DROP FUNCTION company_spending;
CREATE FUNCTION company_spending() RETURNS TABLE (month date, category text, spent_cents bigint, bookings bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  WITH mine AS (
    SELECT 'company_credit:' || e.id AS account FROM company_employees e
    WHERE e.company_id = sportello_company() AND sportello_company() <> ''),
  moves AS (
    SELECT t.created_at, t.booking_id, t.amount_cents AS cents, true AS hold FROM transfers t JOIN mine ON t.from_account = mine.account
    WHERE t.kind = 'hold' AND t.booking_id IS NOT NULL
    UNION ALL
    SELECT t.created_at, t.booking_id, -t.amount_cents, false FROM transfers t JOIN mine ON t.to_account = mine.account
    WHERE t.kind = 'void' AND t.booking_id IS NOT NULL)
  SELECT date_trunc('month', m.created_at AT TIME ZONE 'Europe/Rome')::date, b.category,
    sum(m.cents)::bigint, count(DISTINCT m.booking_id) FILTER (WHERE m.hold)
  FROM moves m JOIN bookings b ON b.id = m.booking_id
  GROUP BY 1, 2 ORDER BY 1, 2
$$;
DROP FUNCTION company_spending_of;
DROP TABLE company_statements, company_invoice_counters;
