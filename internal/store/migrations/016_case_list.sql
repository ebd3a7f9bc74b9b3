-- The case list at scale (the "speed" issue): a staff member's page of the
-- newest cases and its bounded count read only this index.
--
-- Row-level security on cases reads district_id, municipality_id and
-- applicant_id (the cases_tenant policy of 003). With the three in one
-- index, a query under the policy that needs no other column can be an
-- index-only scan: the count of a case list (up to 1,000), and the
-- supervisor's merge of the newest cases of each municipality, which picks
-- the page's 50 ids here before reading those 50 rows. It replaces the
-- index of 001 of the same leading columns, so a case write still updates
-- one tenant index.

CREATE INDEX cases_tenant_list ON cases (district_id, municipality_id, created_at DESC, id DESC) INCLUDE (applicant_id);
DROP INDEX cases_tenant;

---- create above / drop below ----

CREATE INDEX cases_tenant ON cases (district_id, municipality_id, created_at DESC);
DROP INDEX cases_tenant_list;
