-- Catalogue search: what its statement cost PostgreSQL (the "speed" issue,
-- docs/benchmarks.md "Catalogue search", third pass). Who sees what does not
-- change.
--
-- 1. The full-text index without a pending list. With GIN's fastupdate (the
--    default) new and changed rows wait in the index's pending list until a
--    vacuum or 4 MB of them, and every search reads the whole list: after
--    the benchmark's 20,000 services, 185 pages read on every search, about
--    half of catalogue_public_matches' CPU. Services are written rarely (a
--    cooperative editing its offer) and searched all the time, so each
--    write now goes into the index itself.
ALTER INDEX services_search SET (fastupdate = off);
SELECT gin_clean_pending_list('services_search'::regclass);

-- 2. sportello_cooperative() in PL/pgSQL. As a SQL function with a
--    sub-select it could not be inlined, and PostgreSQL 15 planned its body
--    on every call: every policy that reads it (services, cooperatives,
--    their details, bookings, billing) paid a plan each time, 0.07 ms, about
--    seven times per catalogue search. PL/pgSQL keeps the plan for the
--    session, and other scopes than 'cooperative' do not read users at all.
--    The same rule: the cooperative of the acting cooperative user, '' for
--    everyone else (users read under the caller's own policies, as before).
CREATE OR REPLACE FUNCTION sportello_cooperative() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  c text;
BEGIN
  IF sportello_scope() <> 'cooperative' THEN
    RETURN '';
  END IF;
  SELECT u.cooperative_id INTO c FROM users u
    WHERE u.id = sportello_user() AND u.role = 'cooperative';
  RETURN coalesce(c, '');
END
$$;

-- 3. catalogue_query() in PL/pgSQL for the same reason (its plan kept for
--    the session): the same tsquery.
CREATE OR REPLACE FUNCTION catalogue_query(q text) RETURNS tsquery LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT string_agg('(' || plainto_tsquery('italian', w)::text || ' | '''
      || regexp_replace(w, '[aeiouàèéìòù]$', '') || ''':*)', ' & ')::tsquery
    FROM regexp_split_to_table(lower(coalesce(q, '')), '[^[:alpha:]]+') AS w
    WHERE length(w) >= 3 AND numnode(plainto_tsquery('italian', w)) > 0);
END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION catalogue_query(q text) RETURNS tsquery LANGUAGE sql STABLE AS $$
  SELECT string_agg('(' || plainto_tsquery('italian', w)::text || ' | '''
      || regexp_replace(w, '[aeiouàèéìòù]$', '') || ''':*)', ' & ')::tsquery
  FROM regexp_split_to_table(lower(coalesce(q, '')), '[^[:alpha:]]+') AS w
  WHERE length(w) >= 3 AND numnode(plainto_tsquery('italian', w)) > 0
$$;
CREATE OR REPLACE FUNCTION sportello_cooperative() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT u.cooperative_id FROM users u
    WHERE sportello_scope() = 'cooperative' AND u.id = sportello_user() AND u.role = 'cooperative'), '')
$$;
ALTER INDEX services_search RESET (fastupdate);
