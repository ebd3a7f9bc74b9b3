-- The cooperative marketplace's catalogue (issue 5): the district's
-- accredited social cooperatives and the services they publish, with the
-- municipalities each service is offered in and its prices by ISEE band
-- (set per municipality). A new user role, cooperative, manages its own
-- cooperative's services. Who sees what is decided here, by row-level
-- security:
--   * everyone (anonymous visitors, citizens) reads the cooperatives that are
--     accredited with a valid quality certification, and their published
--     services;
--   * staff of the cooperative's district read every cooperative and service;
--   * a cooperative user reads and writes its own cooperative's services.

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant', 'cooperative'));
-- The ISEE a citizen declared in their profile (whole euro), used for prices
-- when no application of theirs states one.
ALTER TABLE users ADD COLUMN isee_euro integer CHECK (isee_euro >= 0);

CREATE TABLE cooperatives (
  id                      text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  district_id             text NOT NULL REFERENCES districts(id),
  name                    text NOT NULL,
  description             text NOT NULL DEFAULT '',
  address                 text NOT NULL DEFAULT '',
  phone                   text NOT NULL DEFAULT '',
  email                   text NOT NULL DEFAULT '',
  website                 text NOT NULL DEFAULT '',
  accreditation_status    text NOT NULL CHECK (accreditation_status IN ('accredited','suspended','expired')),
  accredited_from         date NOT NULL,
  accredited_until        date NOT NULL,
  certification           text NOT NULL DEFAULT '',          -- e.g. "ISO 9001:2015"
  certification_expires   date,                              -- NULL: no certification
  created_at              timestamptz NOT NULL DEFAULT now(),
  CHECK (accredited_from <= accredited_until),
  UNIQUE (district_id, name)
);

ALTER TABLE users ADD COLUMN cooperative_id text REFERENCES cooperatives(id);
ALTER TABLE users ADD CONSTRAINT users_cooperative_check CHECK (role <> 'cooperative' OR cooperative_id IS NOT NULL);

-- Is a cooperative shown to citizens today? Accredited, within its
-- accreditation, with a certification that has not expired.
CREATE FUNCTION cooperative_public(status text, acc_until date, cert_expires date) RETURNS boolean
  LANGUAGE sql STABLE AS $$
  SELECT status = 'accredited' AND acc_until >= current_date AND cert_expires IS NOT NULL AND cert_expires >= current_date
$$;

-- The cooperative of the acting cooperative user ('' for everyone else).
CREATE FUNCTION sportello_cooperative() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT u.cooperative_id FROM users u
    WHERE sportello_scope() = 'cooperative' AND u.id = sportello_user() AND u.role = 'cooperative'), '')
$$;

CREATE TABLE services (
  id                bigserial PRIMARY KEY,
  cooperative_id    text NOT NULL REFERENCES cooperatives(id),
  district_id       text NOT NULL REFERENCES districts(id),
  category          text NOT NULL CHECK (category IN ('youcare','childcare','silvercare','familycare','housepetcare')),
  name              text NOT NULL CHECK (length(name) BETWEEN 3 AND 200),
  description       text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
  unit              text NOT NULL CHECK (unit IN ('hour','session','day','week','month','visit')),
  price_cents       bigint NOT NULL CHECK (price_cents >= 0),
  capacity          integer NOT NULL CHECK (capacity > 0),
  capacity_period   text NOT NULL CHECK (capacity_period IN ('week','month')),
  published         boolean NOT NULL DEFAULT false,
  search            tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('italian', name), 'A') ||
                      setweight(to_tsvector('italian', description), 'B') ||
                      setweight(to_tsvector('simple', name || ' ' || description), 'D')) STORED,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (cooperative_id, name)
);
CREATE INDEX services_search ON services USING gin (search);

-- The query of a catalogue search: every word (of 3+ letters, not an Italian
-- stop word) must match, either by its Italian stem or, ignoring its final
-- vowel, as the prefix of a word of the text. Italian's Snowball stemmer
-- leaves gender and number apart in places ("anziani" -> anzian, "anziano"
-- -> anzi); the prefix without the final vowel brings them together. NULL
-- when no word is left.
CREATE FUNCTION catalogue_query(q text) RETURNS tsquery LANGUAGE sql STABLE AS $$
  SELECT string_agg('(' || plainto_tsquery('italian', w)::text || ' | '''
      || regexp_replace(w, '[aeiouàèéìòù]$', '') || ''':*)', ' & ')::tsquery
  FROM regexp_split_to_table(lower(coalesce(q, '')), '[^[:alpha:]]+') AS w
  WHERE length(w) >= 3 AND numnode(plainto_tsquery('italian', w)) > 0
$$;
CREATE INDEX services_browse ON services (district_id, category, price_cents) WHERE published;
CREATE INDEX services_cooperative ON services (cooperative_id);

CREATE TABLE service_municipalities (
  service_id       bigint NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  PRIMARY KEY (service_id, municipality_id)
);
CREATE INDEX service_municipalities_municipality ON service_municipalities (municipality_id, service_id);

-- Prices by ISEE band, per municipality: bands ordered by position, each up
-- to max_isee_euro (inclusive; NULL = above every other band), each either a
-- price or a percentage of the list price.
CREATE TABLE service_price_bands (
  service_id       bigint NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  position         smallint NOT NULL CHECK (position >= 0),
  max_isee_euro    integer CHECK (max_isee_euro >= 0),
  price_cents      bigint CHECK (price_cents >= 0),
  percent          smallint CHECK (percent BETWEEN 0 AND 100),
  PRIMARY KEY (service_id, municipality_id, position),
  CHECK ((price_cents IS NULL) <> (percent IS NULL))
);

GRANT SELECT, INSERT, UPDATE, DELETE ON cooperatives, services, service_municipalities, service_price_bands TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE services_id_seq TO sportello_app;

-- Policies read the settings once per statement ((SELECT sportello_scope())
-- and friends become InitPlans, as in 003_scale.sql), not once per row.
ALTER TABLE cooperatives ENABLE ROW LEVEL SECURITY;
CREATE POLICY cooperatives_read ON cooperatives FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('supervisor','operator') AND district_id = (SELECT sportello_district()))
  OR id = (SELECT sportello_cooperative())
  OR cooperative_public(accreditation_status, accredited_until, certification_expires));
CREATE POLICY cooperatives_write ON cooperatives FOR ALL
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE services ENABLE ROW LEVEL SECURITY;
CREATE POLICY services_read ON services FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('supervisor','operator') AND district_id = (SELECT sportello_district()))
  OR cooperative_id = (SELECT sportello_cooperative())
  OR (published AND EXISTS (SELECT 1 FROM cooperatives c WHERE c.id = cooperative_id
        AND cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires))));
CREATE POLICY services_insert ON services FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system' OR cooperative_id = (SELECT sportello_cooperative()));
CREATE POLICY services_update ON services FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system' OR cooperative_id = (SELECT sportello_cooperative()))
  WITH CHECK ((SELECT sportello_scope()) = 'system' OR cooperative_id = (SELECT sportello_cooperative()));
CREATE POLICY services_delete ON services FOR DELETE USING (
  (SELECT sportello_scope()) = 'system' OR cooperative_id = (SELECT sportello_cooperative()));

-- The details follow their service: readable when the service is, written
-- by whoever may write it.
CREATE FUNCTION service_writable(sid bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM services s WHERE s.id = sid
    AND ((SELECT sportello_scope()) = 'system' OR s.cooperative_id = (SELECT sportello_cooperative())))
$$;

ALTER TABLE service_municipalities ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_municipalities_read ON service_municipalities FOR SELECT
  USING (EXISTS (SELECT 1 FROM services s WHERE s.id = service_id));
CREATE POLICY service_municipalities_write ON service_municipalities FOR ALL
  USING (service_writable(service_id)) WITH CHECK (service_writable(service_id));

ALTER TABLE service_price_bands ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_price_bands_read ON service_price_bands FOR SELECT
  USING (EXISTS (SELECT 1 FROM services s WHERE s.id = service_id));
CREATE POLICY service_price_bands_write ON service_price_bands FOR ALL
  USING (service_writable(service_id)) WITH CHECK (service_writable(service_id));

---- create above / drop below ----

DROP TABLE service_price_bands, service_municipalities;
DROP FUNCTION service_writable;
DROP TABLE services;
DELETE FROM users WHERE role = 'cooperative';
ALTER TABLE users DROP CONSTRAINT users_cooperative_check;
ALTER TABLE users DROP COLUMN cooperative_id;
DROP TABLE cooperatives;
DROP FUNCTION sportello_cooperative, cooperative_public, catalogue_query;
ALTER TABLE users DROP COLUMN isee_euro;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('citizen', 'operator', 'supervisor', 'merchant'));
