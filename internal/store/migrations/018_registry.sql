-- Population registry imports (issue 13, part 4): the municipalities load
-- their extract of the national registry (ANPR) as a CSV; one import of
-- one municipality's extract is one transaction (internal/store/registry.go).
--
-- residents gains the household (id_famiglia), the date of birth and the
-- end of residence: a resident absent from their municipality's newest
-- extract is marked no longer resident (ceased_at), never deleted, since
-- cases and the audit trail refer to them. The pre-check reads the
-- household (one award per household and fund).

ALTER TABLE residents
  ADD COLUMN household_id text CHECK (household_id IS NULL OR length(household_id) BETWEEN 1 AND 40),
  ADD COLUMN birth_date   date,
  ADD COLUMN ceased_at    timestamptz,
  ADD COLUMN updated_at   timestamptz NOT NULL DEFAULT now();
CREATE INDEX residents_current ON residents (municipality_id) WHERE ceased_at IS NULL;
CREATE INDEX residents_household ON residents (municipality_id, household_id) WHERE household_id IS NOT NULL;

-- Every import, dry runs included: who, when, which file (its SHA-256), and
-- what it changed. A dry run from the portal keeps the file (content) until
-- it is confirmed or expires, so that the confirmation applies exactly the
-- file that was previewed.
CREATE TABLE registry_imports (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text NOT NULL REFERENCES municipalities(id),
  status           text NOT NULL CHECK (status IN ('dry_run', 'applied')),
  source           text NOT NULL CHECK (source IN ('cli', 'api', 'web', 'seed')),
  actor_id         bigint REFERENCES users(id),            -- NULL for the CLI and the seed
  actor_username   text NOT NULL,
  file_name        text NOT NULL DEFAULT '' CHECK (length(file_name) <= 200),
  file_sha256      text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
  rows             integer NOT NULL CHECK (rows >= 0),
  new_count        integer NOT NULL CHECK (new_count >= 0),
  moved_count      integer NOT NULL CHECK (moved_count >= 0),
  updated_count    integer NOT NULL CHECK (updated_count >= 0),
  gone_count       integer NOT NULL CHECK (gone_count >= 0),
  unchanged_count  integer NOT NULL CHECK (unchanged_count >= 0),
  content          bytea,
  created_at       timestamptz NOT NULL DEFAULT now(),
  confirmed_by     uuid REFERENCES registry_imports(id)  -- a dry run: the import that applied its file
);
CREATE INDEX registry_imports_tenant ON registry_imports (district_id, municipality_id, created_at DESC);

GRANT SELECT, INSERT, UPDATE ON registry_imports TO sportello_app;

-- May the current scope write registry rows of municipality m? The system;
-- a supervisor for the municipalities of their district; an operator for
-- their own municipality.
CREATE FUNCTION sportello_registry_writable(m text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT sportello_scope() = 'system'
    OR (sportello_scope() IN ('supervisor', 'operator')
        AND EXISTS (SELECT 1 FROM municipalities x WHERE x.id = m AND sportello_visible(x.district_id, x.id, NULL)))
$$;

-- Everyone reads the registry as before (the residence checks of the
-- application, the desk and the pre-check). Staff write only rows that end
-- up in their reach: a resident moving in from another municipality is
-- taken over by the new municipality's import (the newest extract wins).
-- Nobody deletes.
ALTER TABLE residents ENABLE ROW LEVEL SECURITY;
CREATE POLICY residents_read ON residents FOR SELECT USING (true);
CREATE POLICY residents_insert ON residents FOR INSERT WITH CHECK (sportello_registry_writable(municipality_id));
CREATE POLICY residents_update ON residents FOR UPDATE
  USING ((SELECT sportello_scope()) IN ('system', 'supervisor', 'operator'))
  WITH CHECK (sportello_registry_writable(municipality_id));

ALTER TABLE registry_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY registry_imports_tenant ON registry_imports
  USING ((SELECT sportello_scope()) IN ('system', 'supervisor', 'operator') AND sportello_visible(district_id, municipality_id, NULL))
  WITH CHECK ((SELECT sportello_scope()) IN ('system', 'supervisor', 'operator') AND sportello_visible(district_id, municipality_id, NULL));

---- create above / drop below ----

DROP TABLE registry_imports;
DROP POLICY residents_read ON residents;
DROP POLICY residents_insert ON residents;
DROP POLICY residents_update ON residents;
ALTER TABLE residents DISABLE ROW LEVEL SECURITY;
DROP FUNCTION sportello_registry_writable;
DROP INDEX residents_household, residents_current;
ALTER TABLE residents DROP COLUMN updated_at, DROP COLUMN ceased_at, DROP COLUMN birth_date, DROP COLUMN household_id;
