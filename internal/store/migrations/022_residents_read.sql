-- The population registry is read in the caller's scope (issue 13): until
-- now residents_read was USING (true), so any signed-in role could read
-- every resident of every district.
--
-- Now:
--   - the system (the worker's pre-check, the retention run, the seed, the
--     CLI import, the citizen's download of their data) reads every row;
--   - staff (operators and supervisors) read the residents of their
--     district's municipalities: an operator's Social Point registers and
--     serves residents of the whole district when the district shares its
--     desks (RegisterCitizen, sportello_desk_serves), so an operator's
--     reach is the district, not only their municipality;
--   - a citizen reads their own row alone (the residence check of their
--     application), matched on their account's tax code;
--   - merchants, cooperatives and anyone else read nothing.
--
-- A staff import of a municipality's extract also needs the rows of the
-- file's tax codes elsewhere (a resident moving in from another district
-- is "moved", and takes the row over): two functions do exactly that for
-- a scope that may write the municipality (sportello_registry_writable),
-- and nothing more.

-- The signed-in citizen's tax code (NULL for anyone else). SECURITY
-- DEFINER: the policy below reads it without depending on users' policies.
CREATE FUNCTION sportello_own_tax_code() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT u.tax_code FROM users u
  WHERE sportello_scope() = 'citizen' AND u.id = sportello_user() AND u.role = 'citizen'
$$;
REVOKE ALL ON FUNCTION sportello_own_tax_code() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_own_tax_code() TO sportello_app;

DROP POLICY residents_read ON residents;
CREATE POLICY residents_read ON residents FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('supervisor', 'operator')
      AND municipality_id IN (SELECT x.id FROM municipalities x WHERE x.district_id = (SELECT sportello_district())))
  OR ((SELECT sportello_scope()) = 'citizen' AND tax_code = (SELECT sportello_own_tax_code())));

-- sportello_registry_known is what an import of municipality m must know:
-- the rows of the file's tax codes wherever they live, and m's current
-- residents; empty unless the scope may write m.
CREATE FUNCTION sportello_registry_known(codes text[], m text)
  RETURNS TABLE (tax_code text, municipality_id text, district_id text, household_id text, first_name text,
                 last_name text, birth_date date, ceased boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT r.tax_code, r.municipality_id, x.district_id, coalesce(r.household_id, ''), r.first_name, r.last_name,
         r.birth_date, r.ceased_at IS NOT NULL
  FROM residents r JOIN municipalities x ON x.id = r.municipality_id
  WHERE sportello_registry_writable(m) AND (r.tax_code = ANY(codes) OR (r.municipality_id = m AND r.ceased_at IS NULL))
$$;
REVOKE ALL ON FUNCTION sportello_registry_known(text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_registry_known(text[], text) TO sportello_app;

-- sportello_registry_move_in hands the rows of codes that live outside the
-- scope's reach over to municipality m (the newest extract wins, as
-- before), so that the import's upsert then finds them in its reach; it
-- does nothing unless the scope may write m. Returns the rows moved.
CREATE FUNCTION sportello_registry_move_in(codes text[], m text, at timestamptz) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
  n integer;
BEGIN
  IF NOT sportello_registry_writable(m) THEN
    RETURN 0;
  END IF;
  UPDATE residents r SET municipality_id = m, updated_at = at
  WHERE r.tax_code = ANY(codes) AND r.municipality_id <> m
    AND r.municipality_id NOT IN (SELECT x.id FROM municipalities x WHERE x.district_id = sportello_district());
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION sportello_registry_move_in(text[], text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_registry_move_in(text[], text, timestamptz) TO sportello_app;

---- create above / drop below ----

DROP FUNCTION sportello_registry_move_in(text[], text, timestamptz);
DROP FUNCTION sportello_registry_known(text[], text);
DROP POLICY residents_read ON residents;
CREATE POLICY residents_read ON residents FOR SELECT USING (true);
DROP FUNCTION sportello_own_tax_code();
