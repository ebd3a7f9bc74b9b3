-- The marketplace's core: service-voucher funds, the cart, bookings with
-- their offers to cooperatives and their sessions, and the ledger accounts
-- that hold a booking's money until delivery.
--
-- Money of a booking (all in cents, see internal/store/ledger.go):
--   checkout       voucher:<v>                 -> booking:<b>:voucher   (hold)
--   online paid    payments:<district>         -> booking:<b>:online    (payment)
--   delivery ok    booking:<b>:voucher         -> cooperative:<c>       (post, per session)
--                  booking:<b>:online          -> cooperative:<c>:online (settle, per session)
--   cancellation   booking:<b>:voucher         -> voucher:<v>           (void, what is left)
--                  booking:<b>:online          -> payments:<district>   (refund, what is left)
--   invoice paid   cooperative:<c>             -> payout:<district>     (payout)
--   reimbursement  merchant:<m>                -> payout:<district>     (payout)

ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN (
  'funding','fund','voucher_pending','voucher','merchant',
  'booking_voucher','booking_online','payments','cooperative','cooperative_online','payout'));

ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN (
  'funding','award','release','redemption','expiry',
  'hold','void','payment','post','settle','refund','payout'));
ALTER TABLE transfers ADD COLUMN booking_id uuid;
CREATE INDEX transfers_booking ON transfers (booking_id) WHERE booking_id IS NOT NULL;

-- A fund awards food vouchers (spent at merchants) or service vouchers
-- (spent in the catalogue, only on the listed categories).
ALTER TABLE funds ADD COLUMN kind text NOT NULL DEFAULT 'food' CHECK (kind IN ('food','service'));
ALTER TABLE funds ADD COLUMN service_categories text[] NOT NULL DEFAULT '{}'
  CHECK (service_categories <@ ARRAY['youcare','childcare','silvercare','familycare','housepetcare']);
ALTER TABLE funds ADD CONSTRAINT funds_service_categories CHECK (kind = 'food' OR cardinality(service_categories) > 0);

-- How long a cooperative has to answer a booking request.
ALTER TABLE cooperatives ADD COLUMN response_hours integer NOT NULL DEFAULT 48 CHECK (response_hours BETWEEN 1 AND 720);
-- Days after which a delivered session counts as confirmed if the citizen says nothing.
ALTER TABLE districts ADD COLUMN delivery_autoconfirm_days integer NOT NULL DEFAULT 7 CHECK (delivery_autoconfirm_days BETWEEN 1 AND 60);

-- The citizen's cart: kept in the database so it survives devices and sessions.
CREATE TABLE cart_items (
  user_id      bigint NOT NULL REFERENCES users(id),
  service_id   bigint NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  quantity     integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
  added_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, service_id)
);

CREATE SEQUENCE booking_number_seq;

CREATE TABLE bookings (
  id                uuid PRIMARY KEY,
  number            bigint NOT NULL UNIQUE DEFAULT nextval('booking_number_seq'),
  district_id       text NOT NULL REFERENCES districts(id),
  municipality_id   text NOT NULL REFERENCES municipalities(id),
  citizen_id        bigint NOT NULL REFERENCES users(id),
  -- The service and cooperative currently holding the booking (they change
  -- when a request is declined and offered to the next cooperative).
  service_id        bigint NOT NULL REFERENCES services(id),
  cooperative_id    text NOT NULL REFERENCES cooperatives(id),
  service_name      text NOT NULL,                      -- as it was when booked or offered (services can be unpublished later)
  category          text NOT NULL,
  unit              text NOT NULL,
  quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
  unit_price_cents  bigint NOT NULL CHECK (unit_price_cents >= 0),
  total_cents       bigint NOT NULL CHECK (total_cents = unit_price_cents * quantity),
  price_basis       text NOT NULL DEFAULT '',           -- how the unit price was derived (ISEE band)
  voucher_id        uuid REFERENCES vouchers(id),
  voucher_cents     bigint NOT NULL DEFAULT 0 CHECK (voucher_cents >= 0),
  online_cents      bigint NOT NULL DEFAULT 0 CHECK (online_cents >= 0),
  payment_id        text UNIQUE,                        -- the provider's payment id
  payment_url       text,                               -- where the citizen pays
  payment_status    text NOT NULL DEFAULT 'none' CHECK (payment_status IN
                      ('none','pending','paid','failed','refunded','partially_refunded')),
  status            text NOT NULL CHECK (status IN
                      ('awaiting_payment','requested','confirmed','delivered','completed','cancelled')),
  cancel_reason     text,
  notes             text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
  workflow_id       text NOT NULL UNIQUE,
  idempotency_key   text,
  request_hash      text NOT NULL DEFAULT '',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (voucher_cents + online_cents = total_cents),
  CHECK ((voucher_id IS NULL) = (voucher_cents = 0)),
  UNIQUE (citizen_id, idempotency_key)
);
CREATE INDEX bookings_citizen ON bookings (citizen_id, created_at DESC);
CREATE INDEX bookings_cooperative ON bookings (cooperative_id, status, created_at DESC);
CREATE INDEX bookings_tenant ON bookings (district_id, municipality_id, created_at DESC);

-- Each time a booking is offered to a cooperative.
CREATE TABLE booking_offers (
  booking_id      uuid NOT NULL REFERENCES bookings(id),
  attempt         smallint NOT NULL CHECK (attempt >= 1),
  cooperative_id  text NOT NULL REFERENCES cooperatives(id),
  service_id      bigint NOT NULL REFERENCES services(id),
  offered_at      timestamptz NOT NULL DEFAULT now(),
  respond_by      timestamptz NOT NULL,
  outcome         text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending','confirmed','declined','expired','withdrawn')),
  reason          text NOT NULL DEFAULT '',
  responded_at    timestamptz,
  responded_by    bigint REFERENCES users(id),
  PRIMARY KEY (booking_id, attempt),
  UNIQUE (booking_id, cooperative_id)
);
CREATE INDEX booking_offers_inbox ON booking_offers (cooperative_id, outcome, respond_by);

-- One row per unit booked (hour, session, visit...): scheduled, delivered,
-- confirmed, billed once. Voucher and online shares are fixed at checkout.
CREATE TABLE booking_sessions (
  id              bigserial PRIMARY KEY,
  booking_id      uuid NOT NULL REFERENCES bookings(id),
  seq             integer NOT NULL CHECK (seq >= 1),
  voucher_cents   bigint NOT NULL CHECK (voucher_cents >= 0),
  online_cents    bigint NOT NULL CHECK (online_cents >= 0),
  scheduled_at    timestamptz,
  status          text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned','delivered','confirmed','cancelled')),
  cooperative_id  text REFERENCES cooperatives(id),      -- who delivered it
  delivered_at    timestamptz,
  delivered_by    bigint REFERENCES users(id),
  delivery_note   text NOT NULL DEFAULT '' CHECK (length(delivery_note) <= 2000),
  confirmed_at    timestamptz,
  confirmed_by    text CHECK (confirmed_by IN ('citizen','auto')),
  UNIQUE (booking_id, seq),
  CHECK (status NOT IN ('delivered','confirmed') OR (delivered_at IS NOT NULL AND cooperative_id IS NOT NULL)),
  CHECK (status <> 'confirmed' OR confirmed_at IS NOT NULL)
);
CREATE INDEX booking_sessions_billing ON booking_sessions (cooperative_id, status, confirmed_at)
  WHERE status = 'confirmed' AND voucher_cents > 0;

GRANT SELECT, INSERT, UPDATE, DELETE ON cart_items, bookings, booking_offers, booking_sessions TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE booking_number_seq, booking_sessions_id_seq TO sportello_app;

ALTER TABLE cart_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY cart_items_owner ON cart_items
  USING ((SELECT sportello_scope()) = 'system' OR user_id = (SELECT sportello_user()))
  WITH CHECK ((SELECT sportello_scope()) = 'system' OR user_id = (SELECT sportello_user()));

-- Citizens see their bookings, staff those of their district/municipality, a
-- cooperative those it holds or was offered. Writes go through the system
-- scope (workflow activities) or the citizen's own checkout.
CREATE FUNCTION booking_visible(b_id uuid, d text, m text, citizen bigint, coop text) RETURNS boolean
  LANGUAGE sql STABLE AS $$
  SELECT sportello_visible(d, m, citizen)
    OR (sportello_scope() = 'cooperative' AND (coop = sportello_cooperative()
        OR EXISTS (SELECT 1 FROM booking_offers o WHERE o.booking_id = b_id AND o.cooperative_id = sportello_cooperative())))
$$;

-- Was the booking offered to the acting cooperative? Read past row-level
-- security (as the tables' owner): booking_visible asking booking_offers,
-- whose policy asks bookings, would otherwise recurse without end for a
-- cooperative that was offered a booking it does not hold.
CREATE FUNCTION booking_offered_to_me(b_id uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM booking_offers o WHERE o.booking_id = b_id AND o.cooperative_id = sportello_cooperative())
$$;
CREATE OR REPLACE FUNCTION booking_visible(b_id uuid, d text, m text, citizen bigint, coop text) RETURNS boolean
  LANGUAGE sql STABLE AS $$
  SELECT sportello_visible(d, m, citizen)
    OR (sportello_scope() = 'cooperative' AND (coop = sportello_cooperative() OR booking_offered_to_me(b_id)))
$$;

ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY bookings_read ON bookings FOR SELECT
  USING (booking_visible(id, district_id, municipality_id, citizen_id, cooperative_id));
CREATE POLICY bookings_insert ON bookings FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system'
    OR ((SELECT sportello_scope()) = 'citizen' AND citizen_id = (SELECT sportello_user())));
CREATE POLICY bookings_update ON bookings FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE booking_offers ENABLE ROW LEVEL SECURITY;
CREATE POLICY booking_offers_read ON booking_offers FOR SELECT
  USING (EXISTS (SELECT 1 FROM bookings b WHERE b.id = booking_id));
CREATE POLICY booking_offers_write ON booking_offers FOR ALL
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE booking_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY booking_sessions_read ON booking_sessions FOR SELECT
  USING (EXISTS (SELECT 1 FROM bookings b WHERE b.id = booking_id));
CREATE POLICY booking_sessions_insert ON booking_sessions FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system'
    OR EXISTS (SELECT 1 FROM bookings b WHERE b.id = booking_id AND b.citizen_id = (SELECT sportello_user())));
CREATE POLICY booking_sessions_update ON booking_sessions FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

-- The cart tells a withdrawn service from an id that never existed, and
-- names a withdrawn service still in the caller's cart (row-level security
-- hides both from citizens otherwise).
CREATE FUNCTION service_exists(service bigint) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM services WHERE id = service)
$$;
CREATE FUNCTION cart_service_name(service bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT s.name FROM services s JOIN cart_items ci ON ci.service_id = s.id
  WHERE s.id = service AND ci.user_id = sportello_user()
$$;

-- Cooperative users' reads and actions on bookings are audited like staff's
-- and merchants' (rows about themselves in their district, never naming a case).
DROP POLICY audit_log_insert ON audit_log;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant', 'cooperative')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) NOT IN ('merchant', 'cooperative') OR case_id IS NULL)));

---- create above / drop below ----

DROP FUNCTION cart_service_name, service_exists;

DROP POLICY audit_log_insert ON audit_log;
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) <> 'merchant' OR case_id IS NULL)));

DROP TABLE booking_sessions, booking_offers, bookings, cart_items;
DROP FUNCTION booking_visible;
DROP FUNCTION booking_offered_to_me;
DROP SEQUENCE booking_number_seq;
ALTER TABLE districts DROP COLUMN delivery_autoconfirm_days;
ALTER TABLE cooperatives DROP COLUMN response_hours;
ALTER TABLE funds DROP CONSTRAINT funds_service_categories;
ALTER TABLE funds DROP COLUMN service_categories;
ALTER TABLE funds DROP COLUMN kind;
DELETE FROM transfers WHERE kind IN ('hold','void','payment','post','settle','refund','payout');
DROP INDEX transfers_booking;
ALTER TABLE transfers DROP COLUMN booking_id;
ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN ('funding','award','release','redemption','expiry'));
DELETE FROM accounts WHERE kind IN ('booking_voucher','booking_online','payments','cooperative','cooperative_online','payout');
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('funding','fund','voucher_pending','voucher','merchant'));
