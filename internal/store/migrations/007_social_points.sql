-- Social Points (issue 4): the listening desks of the district, their weekly
-- opening hours, and the appointments citizens book there. A slot is booked
-- at most once (partial unique index on the bookings that hold it); the
-- personal plan an operator writes after the meeting lives on the
-- appointment. Tenancy as elsewhere: operators see their municipality's
-- points and appointments, supervisors their district's, citizens their own
-- appointments; the points and their hours are public.

CREATE TABLE social_points (
  id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  name             text NOT NULL,
  address          text NOT NULL,
  phone            text NOT NULL DEFAULT '',
  email            text NOT NULL DEFAULT '',
  slot_minutes     integer NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 10 AND 240),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX social_points_tenant ON social_points (district_id, municipality_id);

-- Weekly opening hours: several intervals per weekday (ISO: 1 = Monday).
CREATE TABLE social_point_hours (
  point_id  text NOT NULL REFERENCES social_points(id) ON DELETE CASCADE,
  weekday   smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  opens     time NOT NULL,
  closes    time NOT NULL,
  PRIMARY KEY (point_id, weekday, opens),
  CHECK (opens < closes)
);

CREATE TABLE appointments (
  id                uuid PRIMARY KEY,
  point_id          text NOT NULL REFERENCES social_points(id),
  district_id       text NOT NULL REFERENCES districts(id),
  municipality_id   text NOT NULL REFERENCES municipalities(id),
  citizen_id        bigint NOT NULL REFERENCES users(id),
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  topic             text NOT NULL DEFAULT '' CHECK (length(topic) <= 1000),
  status            text NOT NULL CHECK (status IN ('booked','attended','not_attended','cancelled','no_show')),
  workflow_id       text NOT NULL UNIQUE,
  idempotency_key   text,
  confirmed_at      timestamptz,
  reminded_at       timestamptz,
  closed_at         timestamptz,
  closed_by         text,              -- username, or "system" for a no-show
  cancel_reason     text,
  plan              jsonb,             -- {"needs","services","next_steps","notes"}
  created_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at),
  UNIQUE (citizen_id, idempotency_key)
);
-- A slot is taken by every booking that was not cancelled.
CREATE UNIQUE INDEX appointments_slot_taken ON appointments (point_id, starts_at) WHERE status <> 'cancelled';
CREATE INDEX appointments_agenda ON appointments (district_id, municipality_id, starts_at);
CREATE INDEX appointments_citizen ON appointments (citizen_id, starts_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON social_points, social_point_hours TO sportello_app;
GRANT SELECT, INSERT, UPDATE ON appointments TO sportello_app;

ALTER TABLE social_points ENABLE ROW LEVEL SECURITY;
-- The points are public (the page needs no login); only staff of the point's
-- municipality (supervisors: district) or the system change them.
CREATE POLICY social_points_read ON social_points FOR SELECT USING (true);
CREATE POLICY social_points_insert ON social_points FOR INSERT WITH CHECK (
  sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL));
CREATE POLICY social_points_update ON social_points FOR UPDATE USING (
  sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL));
CREATE POLICY social_points_delete ON social_points FOR DELETE USING (
  sportello_scope() IN ('system','supervisor','operator') AND sportello_visible(district_id, municipality_id, NULL));

ALTER TABLE social_point_hours ENABLE ROW LEVEL SECURITY;
CREATE POLICY social_point_hours_read ON social_point_hours FOR SELECT USING (true);
CREATE POLICY social_point_hours_write ON social_point_hours FOR ALL
  USING (sportello_scope() IN ('system','supervisor','operator') AND EXISTS (SELECT 1 FROM social_points p
    WHERE p.id = point_id AND sportello_visible(p.district_id, p.municipality_id, NULL)))
  WITH CHECK (sportello_scope() IN ('system','supervisor','operator') AND EXISTS (SELECT 1 FROM social_points p
    WHERE p.id = point_id AND sportello_visible(p.district_id, p.municipality_id, NULL)));

ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY appointments_tenant ON appointments
  USING (sportello_visible(district_id, municipality_id, citizen_id))
  WITH CHECK (sportello_visible(district_id, municipality_id, citizen_id));

---- create above / drop below ----

DROP TABLE appointments, social_point_hours, social_points;
