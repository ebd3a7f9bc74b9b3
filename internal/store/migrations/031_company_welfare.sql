-- Company welfare (issue 15, part 1): a company of a district signs a plan
-- (an annual credit per employee, the service categories it may be spent
-- on, a validity) and funds it through the ledger; its welfare manager (a
-- new role) enrols employees by tax code and sees spending in aggregate.
--
-- Money of a company (all in cents, see internal/store/company.go):
--   top-up         payments:<district>:companies -> company:<c>    (topup, once the provider confirms)
--   enrolment      company:<c>           -> company_credit:<e>     (allot, the plan's annual credit)
--   withdrawal     company_credit:<e>    -> company:<c>            (revoke, what is left)
--
-- Who sees what, by row-level security:
--   * a welfare manager reads and writes only their own company (its plan,
--     employees and top-ups), through company_managers;
--   * an employee (a citizen whose tax code is enrolled) reads their own
--     enrolment, and the company and plan that fund it;
--   * the district's supervisors read the companies and plans of their
--     district and never an employee row (the aggregates go through
--     company_aggregates, which returns counts and sums only).

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant', 'cooperative', 'commerce_manager', 'welfare_manager'));

ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout','campaign',
  'company','company_credit'));

ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN (
  'funding','award','release','redemption','expiry',
  'hold','void','payment','post','settle','refund','payout',
  'campaign_budget','campaign_credit','campaign_return',
  'topup','allot','revoke'));

CREATE TABLE companies (
  id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  district_id  text NOT NULL REFERENCES districts(id),
  name         text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
  -- The Italian VAT number (partita IVA): 11 digits, the last a Luhn-style
  -- check digit (checked in Go, store.ValidVATNumber, before it gets here).
  vat_number   text NOT NULL UNIQUE CHECK (vat_number ~ '^[0-9]{11}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (district_id, name)
);

-- Which company a welfare manager acts for.
CREATE TABLE company_managers (
  user_id     bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  company_id  text NOT NULL REFERENCES companies(id)
);

CREATE TABLE company_plans (
  id                   text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  company_id           text NOT NULL REFERENCES companies(id),
  district_id          text NOT NULL REFERENCES districts(id),
  name                 text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
  annual_credit_cents  bigint NOT NULL CHECK (annual_credit_cents > 0),
  categories           text[] NOT NULL CHECK (cardinality(categories) > 0
                         AND categories <@ ARRAY['youcare','childcare','silvercare','familycare','housepetcare']),
  valid_from           date NOT NULL,
  valid_until          date NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_from <= valid_until)
);
CREATE INDEX company_plans_company ON company_plans (company_id, valid_from DESC);

CREATE TABLE company_employees (
  id           uuid PRIMARY KEY,
  plan_id      text NOT NULL REFERENCES company_plans(id),
  company_id   text NOT NULL REFERENCES companies(id),
  district_id  text NOT NULL REFERENCES districts(id),
  tax_code     text NOT NULL CHECK (tax_code ~ '^[A-Z0-9]{16}$'),
  status       text NOT NULL CHECK (status IN ('enrolled','withdrawn')),
  enrolled_at  timestamptz NOT NULL DEFAULT now(),
  enrolled_by  bigint REFERENCES users(id),
  withdrawn_at timestamptz,
  CHECK ((status = 'withdrawn') = (withdrawn_at IS NOT NULL))
);
-- A tax code is enrolled at most once in a plan at a time.
CREATE UNIQUE INDEX company_employees_enrolled ON company_employees (plan_id, tax_code) WHERE status = 'enrolled';
CREATE INDEX company_employees_tax_code ON company_employees (tax_code);
CREATE INDEX company_employees_company ON company_employees (company_id, status, enrolled_at);

-- A top-up of the company's account, paid through the payment provider and
-- booked only once the provider confirms it (store.ConfirmTopUp).
CREATE TABLE company_topups (
  id            uuid PRIMARY KEY,
  company_id    text NOT NULL REFERENCES companies(id),
  district_id   text NOT NULL REFERENCES districts(id),
  amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
  status        text NOT NULL CHECK (status IN ('pending','paid','failed')),
  payment_id    text UNIQUE,
  payment_url   text,
  transfer_id   bigint REFERENCES transfers(id),
  requested_by  bigint REFERENCES users(id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  paid_at       timestamptz,
  CHECK ((status = 'paid') = (transfer_id IS NOT NULL AND paid_at IS NOT NULL))
);
CREATE INDEX company_topups_company ON company_topups (company_id, created_at DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON companies, company_managers, company_plans, company_employees, company_topups TO sportello_app;

-- The company of the acting welfare manager ('' for everyone else). It
-- reads company_managers past row-level security.
CREATE FUNCTION sportello_company() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce((SELECT cm.company_id FROM company_managers cm JOIN users u ON u.id = cm.user_id
    WHERE sportello_scope() = 'welfare_manager' AND u.id = sportello_user() AND u.role = 'welfare_manager'), '')
$$;

-- The tax code of the acting citizen ('' for everyone else).
CREATE FUNCTION sportello_tax_code() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce((SELECT u.tax_code FROM users u
    WHERE sportello_scope() = 'citizen' AND u.id = sportello_user() AND u.role = 'citizen'), '')
$$;

-- Is the acting citizen enrolled (now or before) in a plan of company c?
CREATE FUNCTION company_employs_me(c text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM company_employees e
    WHERE e.company_id = c AND e.tax_code = sportello_tax_code() AND sportello_tax_code() <> '')
$$;

ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
CREATE POLICY companies_read ON companies FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district()))
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND id = (SELECT sportello_company()))
  OR ((SELECT sportello_scope()) = 'citizen' AND company_employs_me(id)));
CREATE POLICY companies_write ON companies FOR ALL
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE company_managers ENABLE ROW LEVEL SECURITY;
CREATE POLICY company_managers_read ON company_managers FOR SELECT USING (
  (SELECT sportello_scope()) = 'system' OR user_id = (SELECT sportello_user()));
CREATE POLICY company_managers_write ON company_managers FOR ALL
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE company_plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY company_plans_read ON company_plans FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district()))
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company()))
  OR ((SELECT sportello_scope()) = 'citizen' AND company_employs_me(company_id)));
CREATE POLICY company_plans_write ON company_plans FOR ALL
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

-- Employees: the manager of their company, the employee themself; never a
-- supervisor, an operator or a cooperative (aggregates only).
ALTER TABLE company_employees ENABLE ROW LEVEL SECURITY;
CREATE POLICY company_employees_read ON company_employees FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company()))
  OR ((SELECT sportello_scope()) = 'citizen' AND tax_code = (SELECT sportello_tax_code())));
CREATE POLICY company_employees_insert ON company_employees FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company())));
CREATE POLICY company_employees_update ON company_employees FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system'
    OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company())))
  WITH CHECK ((SELECT sportello_scope()) = 'system'
    OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company())));

ALTER TABLE company_topups ENABLE ROW LEVEL SECURITY;
CREATE POLICY company_topups_read ON company_topups FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company())));
CREATE POLICY company_topups_insert ON company_topups FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'welfare_manager' AND company_id = (SELECT sportello_company())
      AND status = 'pending' AND transfer_id IS NULL));
-- Only the system scope books a confirmed top-up.
CREATE POLICY company_topups_update ON company_topups FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

-- The district's companies in aggregate, for its supervisors: per company,
-- the employees enrolled and the credit allotted and left; never a row of
-- an employee.
CREATE FUNCTION company_aggregates() RETURNS TABLE (company_id text, name text, enrolled bigint,
    allotted_cents bigint, balance_cents bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT c.id, c.name,
    (SELECT count(*) FROM company_employees e WHERE e.company_id = c.id AND e.status = 'enrolled'),
    coalesce((SELECT sum(t.amount_cents) FROM transfers t WHERE t.kind = 'allot' AND t.from_account = 'company:' || c.id), 0)::bigint,
    coalesce((SELECT a.balance_cents FROM accounts a WHERE a.id = 'company:' || c.id), 0)
  FROM companies c
  WHERE sportello_scope() = 'system' OR (sportello_scope() = 'supervisor' AND c.district_id = sportello_district())
  ORDER BY c.name
$$;

-- The acting welfare manager's company's spending by month (Europe/Rome)
-- and service category: what its employees' credits paid into bookings
-- (hold) less what came back (void); sums and counts only, never a
-- booking or an employee.
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

---- create above / drop below ----

DROP FUNCTION company_spending;
DROP FUNCTION company_aggregates;
DROP TABLE company_topups, company_employees, company_plans, company_managers, companies;
DROP FUNCTION company_employs_me, sportello_tax_code, sportello_company;
DELETE FROM transfers WHERE kind IN ('topup','allot','revoke');
ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN (
  'funding','award','release','redemption','expiry',
  'hold','void','payment','post','settle','refund','payout',
  'campaign_budget','campaign_credit','campaign_return'));
DELETE FROM accounts WHERE kind IN ('company','company_credit');
-- The companies' external top-up source holds nothing but their top-ups.
DELETE FROM accounts WHERE kind = 'payments' AND id LIKE 'payments:%:companies';
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout','campaign'));
DELETE FROM users WHERE role = 'welfare_manager';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant', 'cooperative', 'commerce_manager'));
