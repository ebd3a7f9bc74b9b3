-- Catalogue search at scale (the "speed" issue, docs/benchmarks.md
-- "Catalogue search").
--
-- A public service's row-level check asked, for every row, whether its
-- cooperative is public (a correlated sub-select on cooperatives, run once
-- per service read). The set of public cooperatives is now read once per
-- statement (an uncorrelated sub-select, an InitPlan): the same rows are
-- visible to the same scopes (the sub-select reads cooperatives under their
-- own policy, as the correlated one did; it lets everyone read the public
-- ones).
DROP POLICY services_read ON services;
CREATE POLICY services_read ON services FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('supervisor','operator') AND district_id = (SELECT sportello_district()))
  OR cooperative_id = (SELECT sportello_cooperative())
  OR (published AND cooperative_id = ANY (ARRAY(SELECT c.id FROM cooperatives c
        WHERE cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires)))));

-- A service's municipalities and price bands were readable under two
-- policies, the read one and the FOR ALL write one (service_writable, a
-- function run for every row read). Whatever is writable is readable (the
-- writer's cooperative or the system sees the service), so reads now go
-- through the read policy alone; the write policies keep their checks for
-- INSERT, UPDATE and DELETE.
DROP POLICY service_municipalities_write ON service_municipalities;
CREATE POLICY service_municipalities_insert ON service_municipalities FOR INSERT WITH CHECK (service_writable(service_id));
CREATE POLICY service_municipalities_update ON service_municipalities FOR UPDATE
  USING (service_writable(service_id)) WITH CHECK (service_writable(service_id));
CREATE POLICY service_municipalities_delete ON service_municipalities FOR DELETE USING (service_writable(service_id));
DROP POLICY service_price_bands_write ON service_price_bands;
CREATE POLICY service_price_bands_insert ON service_price_bands FOR INSERT WITH CHECK (service_writable(service_id));
CREATE POLICY service_price_bands_update ON service_price_bands FOR UPDATE
  USING (service_writable(service_id)) WITH CHECK (service_writable(service_id));
CREATE POLICY service_price_bands_delete ON service_price_bands FOR DELETE USING (service_writable(service_id));

-- A search of the public catalogue finds its matches through the GIN index
-- on services.search. Under row-level security the planner may not: an
-- index can only serve a leakproof operator before the policy's checks, and
-- @@ is not, so every service of the district was read and matched. This
-- function runs as the tables' owner and returns, in storage order, the ids
-- of the first lim matches that are published services of public
-- cooperatives (the public catalogue: nothing a visitor may not see)
-- satisfying the filters ('' and 0: no filter). The caller reads the
-- services by these ids under its own row-level security, which still
-- decides what it sees.
--
-- The matches are read in storage order, from a bitmap scan of the GIN
-- index (or, if the planner preferred, a sequential scan: the same order),
-- and the scan stops after lim of them: a rare word reads its few matches,
-- a common one a few pages, instead of every match being read to be sorted.
-- The first lim matches are thus the same from one call to the next. The
-- function's one generic plan is kept for the session; in it the filters
-- ("'' or equal") can use no index, and the published and public
-- cooperative conditions are written so that no index serves them either
-- (the partial and cooperative indexes would otherwise be ANDed with the
-- GIN index, reading thousands of entries): only the GIN index is left.
-- No parallel workers (their rows come in no set order), no JIT (a plan
-- this small does not pay for it).
CREATE FUNCTION catalogue_public_matches(in_query tsquery, in_district text, in_category text,
    in_municipality text, in_cooperative text, in_max_price bigint, in_limit integer) RETURNS bigint[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public SET max_parallel_workers_per_gather = 0 SET jit = off
  SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN ARRAY(SELECT s.id FROM services s
    WHERE s.search @@ in_query
      AND s.published IS NOT FALSE -- published (NOT NULL), not served by services_browse
      AND array_position(ARRAY(SELECT c.id FROM cooperatives c
        WHERE cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires)),
        s.cooperative_id) IS NOT NULL
      AND (in_district = '' OR s.district_id = in_district)
      AND (in_category = '' OR s.category = in_category)
      AND (in_municipality = '' OR EXISTS (SELECT 1 FROM service_municipalities sm
        WHERE sm.service_id = s.id AND sm.municipality_id = in_municipality))
      AND (in_cooperative = '' OR s.cooperative_id = in_cooperative)
      AND (in_max_price = 0 OR s.price_cents <= in_max_price)
    LIMIT in_limit);
END
$$;

-- Browsing without a query lists by name: the first page is read from these
-- indexes in order instead of sorting every visible service.
CREATE INDEX services_district_name ON services (district_id, name, id);
CREATE INDEX services_name ON services (name, id);

---- create above / drop below ----

DROP FUNCTION catalogue_public_matches;
DROP POLICY service_price_bands_insert ON service_price_bands;
DROP POLICY service_price_bands_update ON service_price_bands;
DROP POLICY service_price_bands_delete ON service_price_bands;
CREATE POLICY service_price_bands_write ON service_price_bands FOR ALL
  USING (service_writable(service_id)) WITH CHECK (service_writable(service_id));
DROP POLICY service_municipalities_insert ON service_municipalities;
DROP POLICY service_municipalities_update ON service_municipalities;
DROP POLICY service_municipalities_delete ON service_municipalities;
CREATE POLICY service_municipalities_write ON service_municipalities FOR ALL
  USING (service_writable(service_id)) WITH CHECK (service_writable(service_id));

DROP INDEX services_name, services_district_name;
DROP POLICY services_read ON services;
CREATE POLICY services_read ON services FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('supervisor','operator') AND district_id = (SELECT sportello_district()))
  OR cooperative_id = (SELECT sportello_cooperative())
  OR (published AND EXISTS (SELECT 1 FROM cooperatives c WHERE c.id = cooperative_id
        AND cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires))));
