-- Incidents (issue 10): money that could not be moved as the platform
-- promised, made visible to the district's supervisors instead of staying in
-- a log line. Today: a refund the payment provider refused for good (or that
-- still failed after many attempts), and a captured payment whose amount is
-- not the booking's online part. One incident per key (the refund's or the
-- payment's idempotency key), however often the activity that reports it is
-- retried.

CREATE TABLE incidents (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key              text NOT NULL UNIQUE,
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  kind             text NOT NULL CHECK (kind IN ('refund_failed','payment_mismatch')),
  booking_id       uuid REFERENCES bookings(id),
  amount_cents     bigint NOT NULL CHECK (amount_cents >= 0),
  details          text NOT NULL DEFAULT '' CHECK (length(details) <= 2000),
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open','resolved')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  resolved_at      timestamptz,
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX incidents_tenant ON incidents (district_id, status, created_at DESC);

GRANT SELECT, INSERT, UPDATE ON incidents TO sportello_app;

-- Supervisors read their district's incidents; the activities and the API's
-- callback path (system scope) write them.
ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;
CREATE POLICY incidents_read ON incidents FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())));
CREATE POLICY incidents_insert ON incidents FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system');
CREATE POLICY incidents_update ON incidents FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

---- create above / drop below ----

DROP TABLE incidents;
