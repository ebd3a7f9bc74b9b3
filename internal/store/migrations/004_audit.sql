-- Audit trail: every staff read and action on a case (who, for whom, when,
-- what, why), and the merchants' redemptions. Append-only: the application
-- role may only insert and read, and a trigger refuses UPDATE, DELETE and
-- TRUNCATE for everyone, the table owner included. Supervisors read their
-- district's rows; nobody else reads them through the application.

CREATE TABLE audit_log (
  id               bigserial PRIMARY KEY,
  at               timestamptz NOT NULL DEFAULT now(),
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text REFERENCES municipalities(id), -- NULL: district-wide (a supervisor's search)
  case_id          text,                               -- no foreign key: the trail outlives what it names
  actor_id         bigint,                             -- NULL only for the system
  actor_username   text NOT NULL,
  actor_role       text NOT NULL,
  acting_for       text,                               -- a citizen the staff member acts for (Social Point)
  action           text NOT NULL CHECK (action ~ '^[a-z][a-z_]{1,40}$'),
  reason           text NOT NULL DEFAULT '',
  detail           jsonb NOT NULL DEFAULT '{}'::jsonb,
  request_id       text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_case ON audit_log (case_id, at DESC, id DESC) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_district ON audit_log (district_id, at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (district_id, actor_username, at DESC, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Statement-level: even an UPDATE or DELETE that matches no row is refused.
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

REVOKE ALL ON audit_log FROM sportello_app;
GRANT INSERT, SELECT ON audit_log TO sportello_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO sportello_app;

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;

-- Staff and merchants write rows about themselves in their own district
-- (an operator: their own municipality); a merchant never names a case.
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator', 'supervisor', 'merchant')
      AND district_id = (SELECT sportello_district())
      AND actor_id IS NOT NULL AND actor_id = (SELECT sportello_user())
      AND actor_role = (SELECT sportello_scope())
      AND ((SELECT sportello_scope()) <> 'operator' OR municipality_id = (SELECT sportello_municipality()))
      AND ((SELECT sportello_scope()) <> 'merchant' OR case_id IS NULL)));

-- Only supervisors read, and only their own district. The settings are read
-- once per statement (InitPlans, as in 003_scale.sql), so the district test
-- is an index condition on audit_log_district.
CREATE POLICY audit_log_read ON audit_log FOR SELECT USING (
  (SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district()));

---- create above / drop below ----

DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only;
