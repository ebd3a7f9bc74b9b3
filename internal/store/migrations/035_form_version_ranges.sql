-- Form versions of a release and of the districts never collide (issue 15,
-- part 4, new calls without a release).
--
-- Until now versions were numbered per form across the platform and the
-- districts (one key, form_id + version): a district publishing version N
-- of a form before a release embedding its own version N made the import
-- (calls.Service.Sync) keep the district's row silently while the registry
-- compiled the binary's copy, so the district's cases would have been
-- validated against the platform's schema and the platform's version never
-- reached the database.
--
-- The two now have ranges of their own, within the same key:
--   - the platform's versions (district_id NULL, the embedded schemas) are
--     1..999: a check here, and the forms registry refuses an embedded
--     file numbered 1000 or more (forms.MaxPlatformVersion);
--   - a district's new versions are numbered from 1001 up
--     (forms.FirstDistrictVersion; sportello_next_form_version, still one
--     sequence per form over the districts' versions, and the trigger
--     form_versions_district_range for every new row).
-- So (form_id, version) keeps naming one document: calls.form_version,
-- funds.form_version and cases.form_version are unchanged and still
-- unambiguous, the registry keeps its (form, version) key, and row-level
-- security is unchanged (a district reads the platform's versions and its
-- own, never another district's).
--
-- Why not a key with the owner (form_id, owner, version) numbered per
-- owner: every reference (calls, funds, cases, the registry, the API's
-- /form-versions/{form}/{version} and a call's form_version) would need the
-- owner too, and a reader would see two versions numbered 1 (the
-- platform's and their district's), an API change; ranges give the same
-- guarantee with nothing stored changing meaning.
--
-- Rows already stored keep their identity: a district's versions numbered
-- below 1001 before this migration stay as they are (the trigger checks new
-- rows only: a draft among them may still be edited and published). A
-- release embedding a number one of them has is refused loudly: the import
-- (store.ImportFormVersion, hence calls.Service.Sync and the seed) fails
-- with store.ErrFormVersionTaken naming the district, rather than leaving
-- the district's row in place; that release must take another number.
ALTER TABLE form_versions ADD CONSTRAINT form_versions_platform_range
  CHECK (district_id IS NOT NULL OR version < 1000);

CREATE FUNCTION form_versions_district_range() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.district_id IS NOT NULL AND NEW.version <= 1000 AND (TG_OP = 'INSERT'
     OR NEW.version IS DISTINCT FROM OLD.version OR NEW.district_id IS DISTINCT FROM OLD.district_id) THEN
    RAISE EXCEPTION 'form version %/% of district % is in the platform''s range (a district''s are numbered from 1001)',
      NEW.form_id, NEW.version, NEW.district_id
      USING ERRCODE = '23514', CONSTRAINT = 'form_versions_district_range';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER form_versions_district_range BEFORE INSERT OR UPDATE OF version, district_id ON form_versions
  FOR EACH ROW EXECUTE FUNCTION form_versions_district_range();

-- The next version number of a district's version of a form: 1001, then
-- one more than the highest over every district's versions of the form
-- (a supervisor reads only their district's drafts).
CREATE OR REPLACE FUNCTION sportello_next_form_version(f text) RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT greatest(coalesce(max(version), 0), 1000) + 1 FROM form_versions WHERE form_id = f AND district_id IS NOT NULL
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION sportello_next_form_version(f text) RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(max(version), 0) + 1 FROM form_versions WHERE form_id = f
$$;
DROP TRIGGER form_versions_district_range ON form_versions;
DROP FUNCTION form_versions_district_range();
ALTER TABLE form_versions DROP CONSTRAINT form_versions_platform_range;
