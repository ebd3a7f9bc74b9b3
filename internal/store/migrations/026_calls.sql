-- New calls without a release (issue 15, part 4).
--
-- form_versions: every version of every form, the embedded ones (imported
-- at start-up as the platform's, district_id NULL) and the ones a district's
-- supervisor uploads. A version is a draft until published, then never
-- changes (a trigger refuses it): cases keep the version they were filed
-- with and are validated against it for their whole life. Versions are
-- numbered per form across districts, so (form_id, version) names one
-- document. The schema is stored as json, not jsonb: the order of its
-- properties is the order of the form's fields.
--
-- calls: a supervisor's call for applications, a draft until published.
-- Publishing creates its fund (funds.id = calls.id) with the call's terms
-- and form version, and funds its budget through the ledger; the terms of a
-- published call never change. funds.form_version is the version a fund's
-- applications are filed with (NULL for the funds made before: the latest).
CREATE TABLE form_versions (
  form_id      text NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  district_id  text REFERENCES districts(id),
  schema       json NOT NULL,
  status       text NOT NULL CHECK (status IN ('draft', 'published')),
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (form_id, version),
  CHECK ((status = 'published') = (published_at IS NOT NULL)),
  CHECK (district_id IS NOT NULL OR status = 'published')
);

CREATE FUNCTION form_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'published' THEN
    RAISE EXCEPTION 'form version %/% is published and cannot change', OLD.form_id, OLD.version
      USING ERRCODE = '23514', CONSTRAINT = 'form_versions_immutable';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER form_versions_immutable BEFORE UPDATE OR DELETE ON form_versions
  FOR EACH ROW EXECUTE FUNCTION form_versions_immutable();

-- The next version number of a form, over every district's versions (a
-- supervisor reads only their district's drafts).
CREATE FUNCTION sportello_next_form_version(f text) RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(max(version), 0) + 1 FROM form_versions WHERE form_id = f
$$;
REVOKE ALL ON FUNCTION sportello_next_form_version(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_next_form_version(text) TO sportello_app;

CREATE TABLE calls (
  id                    text PRIMARY KEY,
  district_id           text NOT NULL REFERENCES districts(id),
  municipality_id       text NOT NULL REFERENCES municipalities(id),
  name                  text NOT NULL,
  form_id               text NOT NULL,
  form_version          integer NOT NULL,
  isee_threshold_cents  bigint NOT NULL CHECK (isee_threshold_cents >= 0),
  rule                  jsonb NOT NULL,
  tranches              jsonb NOT NULL,
  budget_cents          bigint NOT NULL CHECK (budget_cents > 0),
  opens_at              timestamptz NOT NULL,
  closes_at             timestamptz NOT NULL,
  expires_at            timestamptz NOT NULL,
  status                text NOT NULL CHECK (status IN ('draft', 'published')),
  created_by            text NOT NULL,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  published_at          timestamptz,
  FOREIGN KEY (form_id, form_version) REFERENCES form_versions (form_id, version),
  CHECK (opens_at < closes_at AND closes_at <= expires_at),
  CHECK ((status = 'published') = (published_at IS NOT NULL))
);
CREATE INDEX calls_tenant ON calls (district_id, status, opens_at DESC);

ALTER TABLE funds ADD COLUMN form_version integer;

GRANT SELECT, INSERT, UPDATE ON form_versions, calls TO sportello_app;

-- Published versions are public documents (a served schema is standard
-- JSON Schema anyone may use); drafts are their district's supervisors'.
-- Only the system (the import) and a district's supervisors write.
ALTER TABLE form_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY form_versions_read ON form_versions FOR SELECT
  USING (status = 'published' OR (SELECT sportello_scope()) = 'system'
         OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())));
CREATE POLICY form_versions_insert ON form_versions FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'system'
              OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())));
CREATE POLICY form_versions_update ON form_versions FOR UPDATE
  USING ((SELECT sportello_scope()) = 'system'
         OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())))
  WITH CHECK ((SELECT sportello_scope()) = 'system'
              OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())));

-- A district's supervisors read and write its calls; everyone else of the
-- district reads its published calls (a citizen's list of open calls).
ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY calls_supervisor ON calls
  USING ((SELECT sportello_scope()) = 'system'
         OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())))
  WITH CHECK ((SELECT sportello_scope()) = 'system'
              OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district())));
CREATE POLICY calls_published ON calls FOR SELECT
  USING (status = 'published' AND district_id = (SELECT sportello_district()));

---- create above / drop below ----

ALTER TABLE funds DROP COLUMN form_version;
DROP TABLE calls;
DROP TABLE form_versions;
DROP FUNCTION sportello_next_form_version(text);
DROP FUNCTION form_versions_immutable();
