-- Trust at the desk (issue 10, finding 2): operators act only on citizens of
-- the municipalities they serve, unless the district shares its desk; a new
-- code for an active account is a recovery the citizen confirms (or a
-- supervisor approves); people get an opaque public id for URLs.

-- The district's desk is shared when its supervisors say so (off by default):
-- then an operator of any municipality of the district may act for any
-- citizen of the district (audited as such by the API).
ALTER TABLE districts ADD COLUMN desk_shared boolean NOT NULL DEFAULT false;

-- The opaque id of a person in URLs and JSON; the bigint stays internal.
ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX users_public_id ON users (public_id);

-- Does the current scope serve, at the desk, a citizen of district d living
-- in municipality m? An operator serves the municipality of their account
-- (the Social Point of that municipality: in this data model each Social
-- Point and each operator belong to exactly one municipality), or the whole
-- district when the district shares its desk; a supervisor the district.
CREATE FUNCTION sportello_desk_serves(d text, m text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE sportello_scope()
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN d = sportello_district()
    WHEN 'operator'   THEN d = sportello_district()
                           AND (m = sportello_municipality()
                                OR EXISTS (SELECT 1 FROM districts x WHERE x.id = d AND x.desk_shared))
    ELSE false
  END
$$;

-- Activation codes: only the system (activation) and the desk serving the
-- citizen read or write them.
ALTER TABLE activation_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY activation_codes_desk ON activation_codes
  USING ((SELECT sportello_scope()) = 'system' OR EXISTS (SELECT 1 FROM users u
    WHERE u.id = user_id AND u.role = 'citizen' AND sportello_desk_serves(u.district_id, u.municipality_id)))
  WITH CHECK ((SELECT sportello_scope()) = 'system' OR EXISTS (SELECT 1 FROM users u
    WHERE u.id = user_id AND u.role = 'citizen' AND sportello_desk_serves(u.district_id, u.municipality_id)));

-- A recovery: a new code asked for an account that is already active. The
-- code goes to the citizen's e-mail (channel email, status sent); a citizen
-- without e-mail waits for a supervisor of the district (awaiting_approval,
-- then approved or refused). The codes themselves live in activation_codes.
CREATE TABLE account_recoveries (
  id               uuid PRIMARY KEY,
  user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text REFERENCES municipalities(id),
  requested_by     bigint NOT NULL REFERENCES users(id),
  requested_at     timestamptz NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('email', 'approval')),
  status           text NOT NULL CHECK (status IN ('sent', 'awaiting_approval', 'approved', 'refused')),
  decided_by       bigint REFERENCES users(id),
  decided_at       timestamptz
);
CREATE UNIQUE INDEX account_recoveries_awaiting ON account_recoveries (user_id) WHERE status = 'awaiting_approval';
CREATE INDEX account_recoveries_district ON account_recoveries (district_id, status, requested_at);
GRANT SELECT, INSERT, UPDATE ON account_recoveries TO sportello_app;
ALTER TABLE account_recoveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_recoveries_desk ON account_recoveries
  USING (sportello_desk_serves(district_id, municipality_id))
  WITH CHECK (sportello_desk_serves(district_id, municipality_id));

---- create above / drop below ----

DROP TABLE account_recoveries;
DROP POLICY activation_codes_desk ON activation_codes;
ALTER TABLE activation_codes DISABLE ROW LEVEL SECURITY;
DROP FUNCTION sportello_desk_serves;
DROP INDEX users_public_id;
ALTER TABLE users DROP COLUMN public_id;
ALTER TABLE districts DROP COLUMN desk_shared;
