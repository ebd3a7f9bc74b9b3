-- Core schema: tenancy, people, forms cases, tasks, ledger, vouchers, audit.
-- Tenancy is enforced with row-level security: every request runs inside a
-- transaction that switches to the sportello_app role and sets
-- sportello.scope / sportello.district / sportello.municipality / sportello.user.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sportello_app') THEN
    CREATE ROLE sportello_app NOLOGIN;
  END IF;
END
$$;

GRANT sportello_app TO CURRENT_USER;

CREATE TABLE districts (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE municipalities (
  id             text PRIMARY KEY,
  district_id    text NOT NULL REFERENCES districts(id),
  name           text NOT NULL,
  cadastral_code text NOT NULL,
  residents      integer NOT NULL DEFAULT 0,
  UNIQUE (district_id, name)
);

-- Extract of the municipal population registry (anagrafe) used by pre-checks.
CREATE TABLE residents (
  tax_code        text PRIMARY KEY,
  municipality_id text NOT NULL REFERENCES municipalities(id),
  first_name      text NOT NULL,
  last_name       text NOT NULL
);

CREATE TABLE merchants (
  id              text PRIMARY KEY,
  district_id     text NOT NULL REFERENCES districts(id),
  municipality_id text NOT NULL REFERENCES municipalities(id),
  name            text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('shop', 'pharmacy')),
  address         text NOT NULL DEFAULT ''
);

CREATE TABLE users (
  id              bigserial PRIMARY KEY,
  username        text NOT NULL UNIQUE,
  password_hash   text NOT NULL,
  role            text NOT NULL CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant')),
  display_name    text NOT NULL,
  district_id     text NOT NULL REFERENCES districts(id),
  municipality_id text REFERENCES municipalities(id),
  merchant_id     text REFERENCES merchants(id),
  tax_code        text,
  email           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (role <> 'operator' OR municipality_id IS NOT NULL),
  CHECK (role <> 'merchant' OR merchant_id IS NOT NULL)
);

CREATE TABLE auth_sessions (
  token_hash  bytea PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

-- A fund finances one form in one municipality for a period.
-- tranches: [{"percent":50,"after_days":0},{"percent":50,"after_days":14}]
-- rule: {"base_cents":15000,"per_extra_member_cents":10000,"per_minor_cents":5000,"max_cents":55000}
CREATE TABLE funds (
  id                    text PRIMARY KEY,
  district_id           text NOT NULL REFERENCES districts(id),
  municipality_id       text NOT NULL REFERENCES municipalities(id),
  form_id               text NOT NULL,
  name                  text NOT NULL,
  isee_threshold_cents  bigint NOT NULL CHECK (isee_threshold_cents >= 0),
  rule                  jsonb NOT NULL,
  tranches              jsonb NOT NULL,
  review_working_days   integer NOT NULL DEFAULT 3 CHECK (review_working_days > 0),
  opens_at              timestamptz NOT NULL,
  closes_at             timestamptz NOT NULL,
  expires_at            timestamptz NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (opens_at < closes_at AND closes_at <= expires_at)
);
CREATE INDEX funds_lookup ON funds (municipality_id, form_id);

CREATE SEQUENCE case_number_seq;

CREATE TABLE cases (
  id                text PRIMARY KEY,
  district_id       text NOT NULL REFERENCES districts(id),
  municipality_id   text NOT NULL REFERENCES municipalities(id),
  applicant_id      bigint NOT NULL REFERENCES users(id),
  tax_code          text NOT NULL,
  form_id           text NOT NULL,
  form_version      integer NOT NULL,
  fund_id           text NOT NULL REFERENCES funds(id),
  data              jsonb NOT NULL,
  status            text NOT NULL CHECK (status IN ('submitted','in_review','info_requested','approved','rejected','closed')),
  precheck          jsonb,
  info_request      text,
  award_cents       bigint,
  decision_reason   text,
  workflow_id       text NOT NULL UNIQUE,
  idempotency_key   text,
  request_hash      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (applicant_id, idempotency_key)
);
CREATE INDEX cases_tenant ON cases (district_id, municipality_id, created_at DESC);
CREATE INDEX cases_tax_code ON cases (tax_code);
-- One application in progress per tax code and fund.
CREATE UNIQUE INDEX cases_one_in_progress ON cases (fund_id, tax_code)
  WHERE status IN ('submitted','in_review','info_requested');

CREATE TABLE case_events (
  id          bigserial PRIMARY KEY,
  case_id     text NOT NULL REFERENCES cases(id),
  event_key   text NOT NULL UNIQUE,
  at          timestamptz NOT NULL,
  type        text NOT NULL,
  actor       text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_events_case ON case_events (case_id, at, id);

CREATE TABLE tasks (
  id               uuid PRIMARY KEY,
  case_id          text NOT NULL REFERENCES cases(id),
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  kind             text NOT NULL DEFAULT 'review',
  status           text NOT NULL CHECK (status IN ('open','claimed','done','cancelled')),
  claimed_by       bigint REFERENCES users(id),
  claimed_at       timestamptz,
  due_at           timestamptz NOT NULL,
  escalated_at     timestamptz,
  outcome          text,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz
);
CREATE INDEX tasks_queue ON tasks (district_id, municipality_id, status, due_at);
CREATE INDEX tasks_case ON tasks (case_id);

-- Double-entry ledger. Every movement is one transfer between two accounts.
CREATE TABLE accounts (
  id              text PRIMARY KEY,
  district_id     text NOT NULL REFERENCES districts(id),
  kind            text NOT NULL CHECK (kind IN ('funding','fund','voucher_pending','voucher','merchant')),
  balance_cents   bigint NOT NULL DEFAULT 0,
  allow_negative  boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (allow_negative OR balance_cents >= 0)
);

CREATE TABLE transfers (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  from_account     text NOT NULL REFERENCES accounts(id),
  to_account       text NOT NULL REFERENCES accounts(id),
  amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
  kind             text NOT NULL CHECK (kind IN ('funding','award','release','redemption','expiry')),
  fund_id          text REFERENCES funds(id),
  voucher_id       uuid,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (from_account <> to_account)
);
CREATE INDEX transfers_from ON transfers (from_account);
CREATE INDEX transfers_to ON transfers (to_account);
CREATE INDEX transfers_fund ON transfers (fund_id, kind);
CREATE INDEX transfers_voucher ON transfers (voucher_id);

CREATE TABLE vouchers (
  id               uuid PRIMARY KEY,
  code             text NOT NULL UNIQUE,
  case_id          text NOT NULL UNIQUE REFERENCES cases(id),
  fund_id          text NOT NULL REFERENCES funds(id),
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  holder_id        bigint NOT NULL REFERENCES users(id),
  tax_code         text NOT NULL,
  amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
  status           text NOT NULL CHECK (status IN ('active','expired')),
  expires_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vouchers_holder ON vouchers (holder_id);
CREATE INDEX vouchers_fund_tax ON vouchers (fund_id, tax_code);

CREATE TABLE redemptions (
  id               uuid PRIMARY KEY,
  voucher_id       uuid NOT NULL REFERENCES vouchers(id),
  merchant_id      text NOT NULL REFERENCES merchants(id),
  amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
  idempotency_key  text,
  request_hash     text NOT NULL,
  remaining_cents  bigint NOT NULL,
  transfer_id      bigint NOT NULL REFERENCES transfers(id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX redemptions_voucher ON redemptions (voucher_id);

-- Row-level security. The scope is set per transaction by the store.
CREATE FUNCTION sportello_scope() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('sportello.scope', true), '') $$;
CREATE FUNCTION sportello_district() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('sportello.district', true), '') $$;
CREATE FUNCTION sportello_municipality() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('sportello.municipality', true), '') $$;
CREATE FUNCTION sportello_user() RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT nullif(coalesce(current_setting('sportello.user', true), ''), '')::bigint $$;

-- Can the current scope see a row of this district / municipality / owner?
CREATE FUNCTION sportello_visible(d text, m text, owner bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE sportello_scope()
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN d = sportello_district()
    WHEN 'operator'   THEN d = sportello_district() AND m = sportello_municipality()
    WHEN 'citizen'    THEN owner IS NOT NULL AND owner = sportello_user()
    ELSE false
  END
$$;

ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY cases_tenant ON cases USING (sportello_visible(district_id, municipality_id, applicant_id))
  WITH CHECK (sportello_visible(district_id, municipality_id, applicant_id));

ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tasks_tenant ON tasks USING (sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL))
  WITH CHECK (sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL));

ALTER TABLE case_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_events_tenant ON case_events USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id));

ALTER TABLE vouchers ENABLE ROW LEVEL SECURITY;
-- Merchants look vouchers up by code only; they never read the holder (the API never selects it for them).
CREATE POLICY vouchers_tenant ON vouchers USING (
  sportello_scope() = 'merchant' AND district_id = sportello_district()
  OR sportello_visible(district_id, municipality_id, holder_id));

ALTER TABLE funds ENABLE ROW LEVEL SECURITY;
CREATE POLICY funds_tenant ON funds USING (sportello_scope() = 'system' OR district_id = sportello_district());

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sportello_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sportello_app;

---- create above / drop below ----

DROP TABLE redemptions, vouchers, transfers, accounts, tasks, case_events, cases, funds,
  auth_sessions, users, merchants, residents, municipalities, districts CASCADE;
DROP SEQUENCE case_number_seq;
DROP FUNCTION sportello_visible, sportello_user, sportello_municipality, sportello_district, sportello_scope;
