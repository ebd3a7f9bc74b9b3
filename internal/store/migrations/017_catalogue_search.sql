-- Catalogue search at scale (the "speed" issue, docs/benchmarks.md
-- "Catalogue search").
--
-- A public service's row-level check asked, for every row, whether its
-- cooperative is public (a correlated sub-select on cooperatives, run once
-- per service read). The set of public cooperatives is now read once per
-- statement (an uncorrelated sub-select, an InitPlan): the same rows are
-- visible to the same scopes. catalogue_public_cooperatives runs with the
-- caller's rights, so the cooperatives' own policy still applies to it (it
-- lets everyone read the public ones).
CREATE FUNCTION catalogue_public_cooperatives() RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(c.id), '{}') FROM cooperatives c
  WHERE cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires)
$$;

DROP POLICY services_read ON services;
CREATE POLICY services_read ON services FOR SELECT USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('supervisor','operator') AND district_id = (SELECT sportello_district()))
  OR cooperative_id = (SELECT sportello_cooperative())
  OR (published AND cooperative_id = ANY ((SELECT catalogue_public_cooperatives())::text[])));

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

-- Browsing without a query lists by name: the first page is read from these
-- indexes in order instead of sorting every visible service.
CREATE INDEX services_district_name ON services (district_id, name, id);
CREATE INDEX services_name ON services (name, id);

---- create above / drop below ----

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
DROP FUNCTION catalogue_public_cooperatives;
