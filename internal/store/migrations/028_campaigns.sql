-- Local campaigns (issue 15, part 2): a supervisor or the Commerce
-- District's manager (role commerce_manager) creates a campaign of a
-- municipality ("A Natale... Compra Locale" in Tradate): a period, a budget,
-- a rule (the municipality adds `percent` % of what a resident spends at a
-- participating shop, at least `min_purchase_cents` per purchase, up to
-- `cap_per_person_cents` per person over the campaign) and the merchant
-- categories that may join. Merchants of the district apply, a manager
-- approves or rejects; the public page lists the approved shops of each
-- published campaign.
--
-- Money, in the same ledger as everything else:
--   publish   funding:<district>  -> campaign:<id>       (campaign_budget, the whole budget)
--   purchase  campaign:<id>       -> merchant:<m>        (campaign_credit, one per purchase)
--   close     campaign:<id>       -> funding:<district>  (campaign_return, what is left)
-- The merchant's account is then paid by the existing monthly billing run:
-- the merchant's claim to the campaign's municipality has one line per
-- campaign credit (invoice_lines.campaign_credit_id), like a redemption.
--
-- A purchase is recorded by the merchant with the resident's tax code; the
-- tax code itself is never stored: person_key is a SHA-256 of the campaign
-- id and the tax code, enough to apply the cap per person.

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant', 'cooperative', 'commerce_manager'));

-- The category of a merchant (what a campaign may admit).
ALTER TABLE merchants ADD COLUMN category text NOT NULL DEFAULT 'food'
  CHECK (category IN ('food', 'health', 'clothing', 'books', 'home', 'dining', 'services', 'other'));
UPDATE merchants SET category = 'health' WHERE kind = 'pharmacy';

ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout','campaign'));

ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN (
  'funding','award','release','redemption','expiry',
  'hold','void','payment','post','settle','refund','payout',
  'campaign_budget','campaign_credit','campaign_return'));

-- campaign_rule_valid: {"percent": 1..100, "cap_per_person_cents": >= 1,
-- "min_purchase_cents": >= 0}, integers, nothing else.
CREATE FUNCTION campaign_rule_valid(r jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  k text;
BEGIN
  IF jsonb_typeof(r) IS DISTINCT FROM 'object' THEN
    RETURN false;
  END IF;
  FOR k IN SELECT jsonb_object_keys(r) LOOP
    IF k NOT IN ('percent', 'cap_per_person_cents', 'min_purchase_cents') THEN
      RETURN false;
    END IF;
  END LOOP;
  FOREACH k IN ARRAY ARRAY['percent', 'cap_per_person_cents', 'min_purchase_cents'] LOOP
    IF jsonb_typeof(r->k) IS DISTINCT FROM 'number' OR (r->>k)::numeric <> trunc((r->>k)::numeric) THEN
      RETURN false;
    END IF;
  END LOOP;
  RETURN (r->>'percent')::numeric BETWEEN 1 AND 100
    AND (r->>'cap_per_person_cents')::numeric BETWEEN 1 AND 100000000
    AND (r->>'min_purchase_cents')::numeric BETWEEN 0 AND 100000000;
END
$$;

CREATE TABLE campaigns (
  id               uuid PRIMARY KEY,
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  name_it          text NOT NULL CHECK (length(name_it) BETWEEN 1 AND 200),
  name_en          text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
  description_it   text NOT NULL DEFAULT '' CHECK (length(description_it) <= 2000),
  description_en   text NOT NULL DEFAULT '' CHECK (length(description_en) <= 2000),
  starts_on        date NOT NULL,
  ends_on          date NOT NULL,
  budget_cents     bigint NOT NULL CHECK (budget_cents > 0),
  rule             jsonb NOT NULL CHECK (campaign_rule_valid(rule)),
  categories       text[] NOT NULL CHECK (cardinality(categories) > 0),
  status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'closed')),
  created_by       bigint NOT NULL REFERENCES users(id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  published_by     bigint REFERENCES users(id),
  published_at     timestamptz,
  closed_by        bigint REFERENCES users(id),
  closed_at        timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_on >= starts_on),
  CHECK (status = 'draft' OR published_at IS NOT NULL),
  CHECK (status <> 'closed' OR closed_at IS NOT NULL)
);
CREATE INDEX campaigns_district ON campaigns (district_id, starts_on DESC);

CREATE TABLE campaign_merchants (
  id           uuid PRIMARY KEY,
  campaign_id  uuid NOT NULL REFERENCES campaigns(id),
  merchant_id  text NOT NULL REFERENCES merchants(id),
  district_id  text NOT NULL REFERENCES districts(id),
  status       text NOT NULL CHECK (status IN ('applied', 'approved', 'rejected')),
  applied_by   bigint NOT NULL REFERENCES users(id),
  applied_at   timestamptz NOT NULL DEFAULT now(),
  decided_by   bigint REFERENCES users(id),
  decided_at   timestamptz,
  reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
  UNIQUE (campaign_id, merchant_id),
  CHECK ((status = 'applied') = (decided_by IS NULL)),
  CHECK ((status = 'applied') = (decided_at IS NULL))
);
CREATE INDEX campaign_merchants_merchant ON campaign_merchants (merchant_id);

CREATE TABLE campaign_credits (
  id               uuid PRIMARY KEY,
  campaign_id      uuid NOT NULL REFERENCES campaigns(id),
  merchant_id      text NOT NULL REFERENCES merchants(id),
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id), -- the campaign's: it pays
  person_key       text NOT NULL CHECK (length(person_key) = 64),
  purchase_cents   bigint NOT NULL CHECK (purchase_cents > 0),
  credit_cents     bigint NOT NULL CHECK (credit_cents > 0 AND credit_cents <= purchase_cents),
  idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  request_hash     text NOT NULL,
  transfer_id      bigint NOT NULL UNIQUE REFERENCES transfers(id),
  recorded_by      bigint NOT NULL REFERENCES users(id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX campaign_credits_person ON campaign_credits (campaign_id, person_key);
CREATE INDEX campaign_credits_merchant ON campaign_credits (merchant_id, created_at);

-- A merchant's claim bills campaign credits like redemptions.
ALTER TABLE invoice_lines ADD COLUMN campaign_credit_id uuid UNIQUE REFERENCES campaign_credits(id);
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_one_reference
  CHECK (num_nonnulls(session_id, redemption_id, campaign_credit_id) = 1);

GRANT SELECT, INSERT, UPDATE ON campaigns, campaign_merchants, campaign_credits TO sportello_app;

-- A campaign manager of the current scope's district: a supervisor or the
-- Commerce District's manager.
CREATE FUNCTION campaign_manager_of(d text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT sportello_scope() IN ('supervisor', 'commerce_manager') AND d = sportello_district()
$$;

-- What a person has been credited in a campaign, over every merchant (a
-- merchant sees only its own credits).
CREATE FUNCTION campaign_person_credited(c uuid, person text) RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(sum(credit_cents), 0)::bigint FROM campaign_credits WHERE campaign_id = c AND person_key = person
$$;

-- Is the tax code a resident of the municipality in the registry extract
-- (a merchant reads nothing of the registry)?
CREATE FUNCTION campaign_resident(tax text, m text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM residents WHERE tax_code = tax AND municipality_id = m)
$$;

-- Campaigns: anyone reads a published or closed campaign (the public
-- page); a draft only its district's managers. Writes: the district's
-- managers (and the system).
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY campaigns_read ON campaigns FOR SELECT USING (
  sportello_scope() = 'system' OR status <> 'draft' OR campaign_manager_of(district_id));
CREATE POLICY campaigns_insert ON campaigns FOR INSERT WITH CHECK (
  sportello_scope() = 'system' OR campaign_manager_of(district_id));
CREATE POLICY campaigns_update ON campaigns FOR UPDATE
  USING (sportello_scope() = 'system' OR campaign_manager_of(district_id))
  WITH CHECK (sportello_scope() = 'system' OR campaign_manager_of(district_id));

-- Applications: a merchant its own, the district's managers theirs, anyone
-- the approved shops of a campaign that is not a draft. A merchant applies
-- for itself in its district; only managers decide.
ALTER TABLE campaign_merchants ENABLE ROW LEVEL SECURITY;
CREATE POLICY campaign_merchants_read ON campaign_merchants FOR SELECT USING (
  sportello_scope() = 'system' OR campaign_manager_of(district_id)
  OR merchant_id = billing_merchant()
  OR (status = 'approved' AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = campaign_id AND c.status <> 'draft')));
CREATE POLICY campaign_merchants_insert ON campaign_merchants FOR INSERT WITH CHECK (
  sportello_scope() = 'system'
  OR (merchant_id = billing_merchant() AND district_id = sportello_district() AND status = 'applied'));
CREATE POLICY campaign_merchants_update ON campaign_merchants FOR UPDATE
  USING (sportello_scope() = 'system' OR campaign_manager_of(district_id))
  WITH CHECK (sportello_scope() = 'system' OR campaign_manager_of(district_id));

-- Credits: a merchant records and reads its own, the district's managers
-- read theirs.
ALTER TABLE campaign_credits ENABLE ROW LEVEL SECURITY;
CREATE POLICY campaign_credits_read ON campaign_credits FOR SELECT USING (
  sportello_scope() = 'system' OR campaign_manager_of(district_id) OR merchant_id = billing_merchant());
CREATE POLICY campaign_credits_insert ON campaign_credits FOR INSERT WITH CHECK (
  sportello_scope() = 'system' OR (merchant_id = billing_merchant() AND district_id = sportello_district()));

-- The Commerce District's manager's actions are audited like staff's.
DROP POLICY audit_log_insert ON audit_log;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant', 'cooperative', 'commerce_manager')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) NOT IN ('merchant', 'cooperative', 'commerce_manager') OR case_id IS NULL)));

---- create above / drop below ----

DROP POLICY audit_log_insert ON audit_log;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant', 'cooperative')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) NOT IN ('merchant', 'cooperative') OR case_id IS NULL)));

-- Going down undoes the campaigns' money in the ledger; once a campaign
-- credit is on a merchant's claim it has been reimbursed, and going down
-- is refused.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM invoice_lines WHERE campaign_credit_id IS NOT NULL) THEN
    RAISE EXCEPTION 'campaign credits are on merchants'' claims: migration 028 cannot go down';
  END IF;
END
$$;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_one_reference;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_check CHECK ((session_id IS NULL) <> (redemption_id IS NULL));
ALTER TABLE invoice_lines DROP COLUMN campaign_credit_id;

DROP TABLE campaign_credits, campaign_merchants, campaigns;
DROP FUNCTION campaign_resident, campaign_person_credited, campaign_manager_of, campaign_rule_valid;

WITH moves AS (
    SELECT to_account AS id, -amount_cents AS d FROM transfers WHERE kind IN ('campaign_budget', 'campaign_credit', 'campaign_return')
    UNION ALL
    SELECT from_account, amount_cents FROM transfers WHERE kind IN ('campaign_budget', 'campaign_credit', 'campaign_return')),
  sums AS (SELECT id, sum(d) AS s FROM moves GROUP BY id)
UPDATE accounts a SET balance_cents = a.balance_cents + sums.s FROM sums WHERE a.id = sums.id;
DELETE FROM transfers WHERE kind IN ('campaign_budget', 'campaign_credit', 'campaign_return');
DELETE FROM accounts WHERE kind = 'campaign';
ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN (
  'funding','award','release','redemption','expiry',
  'hold','void','payment','post','settle','refund','payout'));
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout'));

ALTER TABLE merchants DROP COLUMN category;

DELETE FROM users WHERE role = 'commerce_manager';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant', 'cooperative'));
