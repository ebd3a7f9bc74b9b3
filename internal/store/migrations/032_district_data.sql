-- District data (issue 15): what a district is and shows comes from its
-- district file (`sportello district apply FILE`, internal/district), not
-- from code. The presentation (names, logo, colours, contacts, the hosts
-- that show it to visitors) lives on districts; municipalities get their
-- ISTAT code. Anyone may read a district's presentation (the portal shows
-- it before sign-in); only the system scope (the apply command and the
-- seed) writes districts.
ALTER TABLE districts
  ADD COLUMN short_name text,
  ADD COLUMN presentation jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN hosts text[] NOT NULL DEFAULT '{}',
  ADD COLUMN is_default boolean NOT NULL DEFAULT false;
-- The district anonymous visitors see when no host names theirs.
CREATE UNIQUE INDEX districts_one_default ON districts (is_default) WHERE is_default;
ALTER TABLE municipalities ADD COLUMN istat_code text CHECK (istat_code ~ '^[0-9]{6}$');

ALTER TABLE districts ENABLE ROW LEVEL SECURITY;
CREATE POLICY districts_read ON districts FOR SELECT USING (true);
CREATE POLICY districts_insert ON districts FOR INSERT WITH CHECK (sportello_scope() = 'system');
-- A supervisor still shares their district's desk (desk_shared, migration
-- 014); the trigger keeps everything else to the system scope.
CREATE POLICY districts_update ON districts FOR UPDATE
  USING (sportello_scope() = 'system' OR (sportello_scope() = 'supervisor' AND id = sportello_district()))
  WITH CHECK (sportello_scope() = 'system' OR (sportello_scope() = 'supervisor' AND id = sportello_district()));
CREATE FUNCTION districts_data_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF sportello_scope() <> 'system' AND (NEW.id, NEW.name, NEW.short_name, NEW.presentation, NEW.hosts, NEW.is_default)
      IS DISTINCT FROM (OLD.id, OLD.name, OLD.short_name, OLD.presentation, OLD.hosts, OLD.is_default) THEN
    RAISE EXCEPTION 'a district''s data changes only through its district file' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER districts_data_guard BEFORE UPDATE ON districts FOR EACH ROW EXECUTE FUNCTION districts_data_guard();
CREATE POLICY districts_delete ON districts FOR DELETE USING (sportello_scope() = 'system');

---- create above / drop below ----

DROP TRIGGER districts_data_guard ON districts;
DROP FUNCTION districts_data_guard();
DROP POLICY districts_delete ON districts;
DROP POLICY districts_update ON districts;
DROP POLICY districts_insert ON districts;
DROP POLICY districts_read ON districts;
ALTER TABLE districts DISABLE ROW LEVEL SECURITY;
ALTER TABLE municipalities DROP COLUMN istat_code;
DROP INDEX districts_one_default;
ALTER TABLE districts DROP COLUMN is_default, DROP COLUMN hosts, DROP COLUMN presentation, DROP COLUMN short_name;
