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


-- Audit rows written before migration 021 name a citizen by their plain
-- tax code (acting_for, and a desk search's "citizen_query" in detail).
-- The retention run re-references them when it pseudonymises the citizen:
-- the plain tax code becomes "citizen:<public id>", which reads back
-- (sportello_audit_subject_name) as the account's tax code, so as the
-- pseudonym afterwards: the row says what it said, about the same person,
-- without the tax code. The trail is not hash-chained; what keeps it
-- verifiable is that it is append-only (004), and that rule now has one
-- exception, checked row by row here: a row may change only by the
-- replacement of a citizen's tax code by their own reference, every other
-- column unchanged, inside sportello_audit_rereference (which announces
-- the pair it applies). Anything else, for anyone, is still refused.

-- sportello_json_swap is j with every string equal to old (any case)
-- replaced by new; keys, numbers and the shape stay.
CREATE FUNCTION sportello_json_swap(j jsonb, old text, new text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  CASE jsonb_typeof(j)
    WHEN 'object' THEN
      RETURN coalesce((SELECT jsonb_object_agg(k, sportello_json_swap(v, old, new)) FROM jsonb_each(j) AS e(k, v)), '{}'::jsonb);
    WHEN 'array' THEN
      RETURN coalesce((SELECT jsonb_agg(sportello_json_swap(v, old, new) ORDER BY i)
        FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, i)), '[]'::jsonb);
    WHEN 'string' THEN
      RETURN CASE WHEN upper(j #>> '{}') = upper(old) THEN to_jsonb(new) ELSE j END;
    ELSE
      RETURN j;
  END CASE;
END
$$;

-- The statement-level guard refuses UPDATE unless a re-reference is under
-- way (DELETE and TRUNCATE always); the row-level one checks each row.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND coalesce(current_setting('sportello.audit_rereference', true), '') <> '' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION audit_log_rereference_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  pair text := coalesce(current_setting('sportello.audit_rereference', true), '');
  tax text := split_part(pair, '|', 1);
  ref text := split_part(pair, '|', 2);
BEGIN
  IF tax = '' OR ref NOT LIKE 'citizen:%'
     OR (NEW.id, NEW.at, NEW.district_id, NEW.municipality_id, NEW.case_id, NEW.actor_id, NEW.actor_username,
         NEW.actor_role, NEW.action, NEW.reason, NEW.request_id)
        IS DISTINCT FROM (OLD.id, OLD.at, OLD.district_id, OLD.municipality_id, OLD.case_id, OLD.actor_id,
         OLD.actor_username, OLD.actor_role, OLD.action, OLD.reason, OLD.request_id)
     OR NEW.acting_for IS DISTINCT FROM (CASE WHEN upper(OLD.acting_for) = tax THEN ref ELSE OLD.acting_for END)
     OR NEW.detail IS DISTINCT FROM sportello_json_swap(OLD.detail, tax, ref)
     OR NOT EXISTS (SELECT 1 FROM users u WHERE u.role = 'citizen' AND 'citizen:' || u.public_id::text = ref
                    AND (u.tax_code = tax OR u.pseudonymised_at IS NOT NULL)) THEN
    RAISE EXCEPTION 'audit_log is append-only: only a citizen''s tax code may become their reference'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_rereference BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_rereference_only();

-- sportello_audit_rereference replaces, in every audit row, the plain tax
-- code tax of citizen uid by their reference; for the system scope alone
-- (the retention run), and only for a citizen whose tax code it is (before
-- pseudonymisation) or, for rows left by runs before this migration, who
-- is pseudonymised already (the run matched tax to them by the keyed
-- pseudonym). Returns the rows changed.
CREATE FUNCTION sportello_audit_rereference(uid bigint, tax text) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
  ref text;
  n integer;
BEGIN
  IF sportello_scope() <> 'system' OR coalesce(tax, '') = '' THEN
    RETURN 0;
  END IF;
  tax := upper(tax);
  SELECT 'citizen:' || u.public_id::text INTO ref FROM users u
    WHERE u.id = uid AND u.role = 'citizen' AND (u.tax_code = tax OR u.pseudonymised_at IS NOT NULL);
  IF ref IS NULL THEN
    RETURN 0;
  END IF;
  PERFORM set_config('sportello.audit_rereference', tax || '|' || ref, true);
  UPDATE audit_log a SET acting_for = CASE WHEN upper(a.acting_for) = tax THEN ref ELSE a.acting_for END,
      detail = sportello_json_swap(a.detail, tax, ref)
    WHERE upper(a.acting_for) = tax OR strpos(upper(a.detail::text), tax) > 0;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('sportello.audit_rereference', '', true);
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION sportello_audit_rereference(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_audit_rereference(bigint, text) TO sportello_app;

-- sportello_audit_plain_subjects lists the tax-code-like values still in
-- the trail (acting_for, and strings of detail), upper case, for the
-- retention run to match against pseudonymised citizens; system scope only.
CREATE FUNCTION sportello_audit_plain_subjects() RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT DISTINCT v FROM (
    SELECT upper(a.acting_for) AS v FROM audit_log a WHERE a.acting_for IS NOT NULL AND a.acting_for NOT LIKE 'citizen:%'
    UNION ALL
    SELECT upper(s #>> '{}') FROM audit_log a, jsonb_path_query(a.detail, 'strict $.**') AS s
      WHERE jsonb_typeof(s) = 'string') x
  WHERE sportello_scope() = 'system' AND v ~ '^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$'
$$;
REVOKE ALL ON FUNCTION sportello_audit_plain_subjects() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_audit_plain_subjects() TO sportello_app;

---- create above / drop below ----
DROP FUNCTION sportello_audit_plain_subjects();
DROP FUNCTION sportello_audit_rereference(bigint, text);
DROP TRIGGER audit_log_rereference ON audit_log;
DROP FUNCTION audit_log_rereference_only();
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP FUNCTION sportello_json_swap(jsonb, text, text);


DROP FUNCTION sportello_registry_move_in(text[], text, timestamptz);
DROP FUNCTION sportello_registry_known(text[], text);
DROP POLICY residents_read ON residents;
CREATE POLICY residents_read ON residents FOR SELECT USING (true);
DROP FUNCTION sportello_own_tax_code();
