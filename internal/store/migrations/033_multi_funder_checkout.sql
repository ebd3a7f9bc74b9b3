-- The multi-funder checkout of company welfare (issue 15, part 1): an
-- employee enrolled in a company plan pays a booking with any mix of
-- company credit, a municipal service voucher and an online payment. The
-- split is computed by one rule (internal/funding) and each funder's share
-- is kept to the cent on the booking and on each of its sessions.
--
-- Money of the company's part (all in cents, see internal/store/checkout.go):
--   checkout       company_credit:<e>   -> booking:<b>:company   (hold)
--   delivery ok    booking:<b>:company  -> cooperative:<c>       (post, per session)
--   cancellation   booking:<b>:company  -> company_credit:<e>    (void, per session)
-- The cooperative's monthly invoice shows each session's parts by funder
-- (invoice_lines.funder): the municipality's (voucher) and the company's,
-- named, so that the company's part can be charged to the company.

ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout','campaign',
  'company','company_credit','booking_company'));

ALTER TABLE bookings
  ADD COLUMN company_employee_id uuid REFERENCES company_employees(id),
  ADD COLUMN company_cents bigint NOT NULL DEFAULT 0 CHECK (company_cents >= 0);
-- The funders add up to the total (the unnamed check of migration 010 said
-- it of the voucher and online parts alone).
DO $$
DECLARE c text;
BEGIN
  SELECT conname INTO STRICT c FROM pg_constraint WHERE conrelid = 'bookings'::regclass AND contype = 'c'
    AND pg_get_constraintdef(oid) = 'CHECK (((voucher_cents + online_cents) = total_cents))';
  EXECUTE format('ALTER TABLE bookings DROP CONSTRAINT %I', c);
END
$$;
ALTER TABLE bookings ADD CONSTRAINT bookings_funders_add_up CHECK (company_cents + voucher_cents + online_cents = total_cents);
ALTER TABLE bookings ADD CONSTRAINT bookings_company_named CHECK ((company_employee_id IS NULL) = (company_cents = 0));

ALTER TABLE booking_sessions ADD COLUMN company_cents bigint NOT NULL DEFAULT 0 CHECK (company_cents >= 0);

-- A session is billed once per funder: its voucher part to the
-- municipality, its company part (named) for the company.
ALTER TABLE invoice_lines
  ADD COLUMN funder text NOT NULL DEFAULT 'municipality' CHECK (funder IN ('municipality', 'company')),
  ADD COLUMN company_id text REFERENCES companies(id);
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_company_named CHECK ((funder = 'company') = (company_id IS NOT NULL));
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_session_id_key;
CREATE UNIQUE INDEX invoice_lines_session_funder ON invoice_lines (session_id, funder) WHERE session_id IS NOT NULL;

DROP INDEX booking_sessions_billing;
CREATE INDEX booking_sessions_billing ON booking_sessions (cooperative_id, status, confirmed_at)
  WHERE status = 'confirmed' AND (voucher_cents > 0 OR company_cents > 0);

---- create above / drop below ----

-- Going down would lose the company's share of bookings: refused once a
-- booking has one.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM bookings WHERE company_cents > 0) OR EXISTS (SELECT 1 FROM invoice_lines WHERE funder <> 'municipality') THEN
    RAISE EXCEPTION 'bookings are paid with company credit: migration 033 cannot go down';
  END IF;
END
$$;
DROP INDEX booking_sessions_billing;
CREATE INDEX booking_sessions_billing ON booking_sessions (cooperative_id, status, confirmed_at)
  WHERE status = 'confirmed' AND voucher_cents > 0;
DROP INDEX invoice_lines_session_funder;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_session_id_key UNIQUE (session_id);
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_company_named;
ALTER TABLE invoice_lines DROP COLUMN company_id, DROP COLUMN funder;
ALTER TABLE booking_sessions DROP COLUMN company_cents;
ALTER TABLE bookings DROP CONSTRAINT bookings_company_named;
ALTER TABLE bookings DROP CONSTRAINT bookings_funders_add_up;
ALTER TABLE bookings ADD CONSTRAINT bookings_check1 CHECK (voucher_cents + online_cents = total_cents);
ALTER TABLE bookings DROP COLUMN company_cents, DROP COLUMN company_employee_id;
DELETE FROM accounts WHERE kind = 'booking_company' AND balance_cents = 0;
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout','campaign',
  'company','company_credit'));
