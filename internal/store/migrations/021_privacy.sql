-- Privacy (issue 13, part 5): the retention schedule's record of runs and
-- the marks it leaves on what it pseudonymised.
--
-- The retention run (workflows/retention.go, activities/retention.go,
-- store/privacy.go) replaces the personal fields of a citizen whose every
-- case is closed and older than the retention period by a keyed pseudonym,
-- keeping amounts, dates, funds, municipalities and statuses. It never
-- touches audit_log (append-only, 004): audit rows name citizens by
-- reference (case id, the user's id, "citizen:<public id>"), which the
-- pseudonymisation leaves pointing at a row without a name.

CREATE TABLE retention_runs (
  id              bigserial PRIMARY KEY,
  run_key         text NOT NULL UNIQUE,          -- the workflow run: a retried activity records the run once
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz NOT NULL,
  cutoff          timestamptz NOT NULL,          -- records last touched before this were due
  retention_days  integer NOT NULL CHECK (retention_days >= 1),
  people          integer NOT NULL DEFAULT 0 CHECK (people >= 0),   -- citizens pseudonymised
  cases           integer NOT NULL DEFAULT 0 CHECK (cases >= 0),    -- their cases
  kept            integer NOT NULL DEFAULT 0 CHECK (kept >= 0),     -- due but kept: an open case, an unspent voucher, an unpaid booking
  more            boolean NOT NULL DEFAULT false,                   -- the run stopped at its limit; the next one goes on
  CHECK (started_at <= finished_at)
);
CREATE INDEX retention_runs_started ON retention_runs (started_at DESC);

GRANT SELECT, INSERT ON retention_runs TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE retention_runs_id_seq TO sportello_app;

ALTER TABLE retention_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY retention_runs_system ON retention_runs
  USING ((SELECT sportello_scope()) = 'system') WITH CHECK ((SELECT sportello_scope()) = 'system');

ALTER TABLE users ADD COLUMN pseudonymised_at timestamptz;
ALTER TABLE cases ADD COLUMN pseudonymised_at timestamptz;

-- sportello_scrub_json is j with every string replaced by pseudo, except
-- the strings under keys that hold no personal data: ids and timestamps
-- (keys ending in _id or _at), the municipality, codes of the workflow
-- (status, outcome, kind, type, channel, notification, delivery,
-- decision). Numbers, booleans and the shape stay: the household's size,
-- the ISEE and the amounts still explain the award.
CREATE FUNCTION sportello_scrub_json(j jsonb, pseudo text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  CASE jsonb_typeof(j)
    WHEN 'object' THEN
      RETURN coalesce((SELECT jsonb_object_agg(k, CASE
          WHEN jsonb_typeof(v) = 'string' AND (k LIKE '%\_id' OR k LIKE '%\_at' OR k IN ('municipality', 'status',
            'outcome', 'kind', 'type', 'channel', 'notification', 'delivery', 'decision', 'deadline')) THEN v
          ELSE sportello_scrub_json(v, pseudo) END)
        FROM jsonb_each(j) AS e(k, v)), '{}'::jsonb);
    WHEN 'array' THEN
      RETURN coalesce((SELECT jsonb_agg(sportello_scrub_json(v, pseudo) ORDER BY i)
        FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, i)), '[]'::jsonb);
    WHEN 'string' THEN
      RETURN to_jsonb(pseudo);
    ELSE
      RETURN j;
  END CASE;
END
$$;

-- Audit rows name a citizen by reference: acting_for is written as
-- "citizen:<public id>" when the tax code given is a citizen's account
-- (sportello_audit_subject), and read back as that account's current tax
-- code (sportello_audit_subject_name), which after pseudonymisation is the
-- pseudonym. The append-only rows themselves never change.
CREATE FUNCTION sportello_audit_subject(s text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(s, '') = '' THEN NULL
    ELSE coalesce((SELECT 'citizen:' || u.public_id::text FROM users u
      WHERE u.role = 'citizen' AND u.tax_code = upper(s)), s) END
$$;

CREATE FUNCTION sportello_audit_subject_name(s text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN s LIKE 'citizen:%' THEN coalesce((SELECT u.tax_code FROM users u
      WHERE u.public_id = CASE WHEN substr(s, 9) ~ '^[0-9a-f-]{36}$' THEN substr(s, 9)::uuid END), s)
    ELSE coalesce(s, '') END
$$;

-- sportello_audit_about is the audit rows about citizen uid, for their
-- download of their data: the rows they acted in, the rows naming them
-- (acting_for, the public id in the detail) and the rows of their cases,
-- with the staff member's role, not their name. The trail is readable
-- only by supervisors (004): this reads it for the system scope alone.
CREATE FUNCTION sportello_audit_about(uid bigint) RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'action', a.action, 'case_id', a.case_id,
      'actor_role', a.actor_role, 'reason', a.reason) ORDER BY a.at, a.id), '[]')
  FROM audit_log a, users u
  WHERE (SELECT sportello_scope()) = 'system' AND u.id = uid AND u.role = 'citizen'
    AND (a.actor_id = u.id
      OR a.acting_for IN (u.tax_code, 'citizen:' || u.public_id::text)
      OR a.detail->>'citizen_id' = u.public_id::text
      OR a.case_id IN (SELECT c.id FROM cases c WHERE c.applicant_id = u.id))
$$;
REVOKE ALL ON FUNCTION sportello_audit_about(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_audit_about(bigint) TO sportello_app;

---- create above / drop below ----

ALTER TABLE cases DROP COLUMN pseudonymised_at;
ALTER TABLE users DROP COLUMN pseudonymised_at;
DROP TABLE retention_runs;
DROP FUNCTION sportello_audit_about, sportello_audit_subject_name, sportello_audit_subject, sportello_scrub_json;
