-- Billing (issue 5): every month each cooperative invoices each municipality
-- for the voucher-funded sessions delivered and confirmed there, and each
-- merchant claims the reimbursement of the food vouchers redeemed at its
-- till. Both are "invoices" here (kind cooperative or merchant): a header
-- with the structured data sent to the municipality's accounting system,
-- and one line per session or redemption. The PDF is rendered from the
-- stored data (internal/voucherpdf), so the same invoice always gives the
-- same document.
--
-- One to one, enforced here:
--   * a session or a redemption is on at most one line (UNIQUE);
--   * a cooperative has one invoice per municipality and month, a merchant
--     one claim per municipality and month (the municipality whose vouchers
--     it redeemed pays for them; partial unique indexes);
--   * an invoice is paid once: one payout transfer (UNIQUE, its ledger key
--     is derived from the invoice id) and one payment reference.
-- A merchant's claim waits for the merchant's self-declaration (no receipts
-- of what citizens bought) before it is sent.

CREATE SEQUENCE invoice_number_seq;

CREATE TABLE invoices (
  id                  uuid PRIMARY KEY,
  number              bigint NOT NULL UNIQUE DEFAULT nextval('invoice_number_seq'),
  kind                text NOT NULL CHECK (kind IN ('cooperative','merchant')),
  district_id         text NOT NULL REFERENCES districts(id),
  municipality_id     text NOT NULL REFERENCES municipalities(id),
  cooperative_id      text REFERENCES cooperatives(id),
  merchant_id         text REFERENCES merchants(id),
  period              date NOT NULL CHECK (extract(day FROM period) = 1), -- first day of the month billed
  status              text NOT NULL CHECK (status IN ('awaiting_declaration','ready','sent','paid')),
  total_cents         bigint NOT NULL CHECK (total_cents > 0),
  line_count          integer NOT NULL CHECK (line_count > 0),
  data                jsonb NOT NULL,                     -- the structured invoice sent to accounting
  declaration         jsonb,                              -- the merchant's self-declaration
  declared_at         timestamptz,
  declared_by         bigint REFERENCES users(id),
  workflow_id         text NOT NULL DEFAULT '',           -- the billing run that made it (signalled on declaration)
  accounting_id       text UNIQUE,                        -- the accounting system's id, once sent
  sent_at             timestamptz,
  payment_ref         text UNIQUE,                        -- the accounting system's payment reference
  paid_at             timestamptz,
  payout_transfer_id  bigint UNIQUE REFERENCES transfers(id),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'cooperative') = (cooperative_id IS NOT NULL)),
  CHECK ((kind = 'merchant') = (merchant_id IS NOT NULL)),
  CHECK (kind = 'merchant' OR status <> 'awaiting_declaration'),
  CHECK (kind = 'cooperative' OR status = 'awaiting_declaration' OR declared_at IS NOT NULL),
  CHECK (status NOT IN ('sent','paid') OR (accounting_id IS NOT NULL AND sent_at IS NOT NULL)),
  CHECK (status <> 'paid' OR (paid_at IS NOT NULL AND payout_transfer_id IS NOT NULL AND payment_ref IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_cooperative_month ON invoices (cooperative_id, municipality_id, period) WHERE kind = 'cooperative';
CREATE UNIQUE INDEX invoices_merchant_month ON invoices (merchant_id, municipality_id, period) WHERE kind = 'merchant';
CREATE INDEX invoices_tenant ON invoices (district_id, period DESC, number DESC);

CREATE TABLE invoice_lines (
  invoice_id     uuid NOT NULL REFERENCES invoices(id),
  seq            integer NOT NULL CHECK (seq >= 1),
  session_id     bigint UNIQUE REFERENCES booking_sessions(id),
  redemption_id  uuid UNIQUE REFERENCES redemptions(id),
  description    text NOT NULL,
  occurred_at    timestamptz NOT NULL,
  amount_cents   bigint NOT NULL CHECK (amount_cents > 0),
  PRIMARY KEY (invoice_id, seq),
  CHECK ((session_id IS NULL) <> (redemption_id IS NULL))
);

GRANT SELECT, INSERT, UPDATE ON invoices, invoice_lines TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE invoice_number_seq TO sportello_app;

-- The merchant of the acting merchant user ('' for everyone else).
CREATE FUNCTION billing_merchant() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT u.merchant_id FROM users u
    WHERE sportello_scope() = 'merchant' AND u.id = sportello_user() AND u.role = 'merchant'), '')
$$;

-- Supervisors read their district's invoices, a cooperative and a merchant
-- their own. Writes are the billing activities' (system scope); a merchant
-- updates its own claim only to sign the self-declaration.
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoices_read ON invoices FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district()))
  OR cooperative_id = (SELECT sportello_cooperative())
  OR merchant_id = (SELECT billing_merchant()));
CREATE POLICY invoices_insert ON invoices FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system');
CREATE POLICY invoices_update ON invoices FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system' OR merchant_id = (SELECT billing_merchant()))
  WITH CHECK ((SELECT sportello_scope()) = 'system' OR merchant_id = (SELECT billing_merchant()));

ALTER TABLE invoice_lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoice_lines_read ON invoice_lines FOR SELECT
  USING (EXISTS (SELECT 1 FROM invoices i WHERE i.id = invoice_id));
CREATE POLICY invoice_lines_write ON invoice_lines FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system');

---- create above / drop below ----

DROP TABLE invoice_lines, invoices;
DROP FUNCTION billing_merchant;
DROP SEQUENCE invoice_number_seq;
