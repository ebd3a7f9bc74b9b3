-- Catalogue search, fourth pass (issue 12, docs/benchmarks.md "Catalogue
-- search", "Fourth pass"). Who sees what, the matches, their order, the
-- ranking and the count do not change.
--
-- 1. catalogue_public_matches reads a common word's matches from the table
--    instead of the full-text index. A bitmap scan of the GIN index builds
--    the bitmap of every match before it returns the first one, at about
--    0.3 microseconds per entry (the prefix terms of catalogue_query double
--    or triple the entries): 2.3 to 3.2 ms of backend CPU for "anziani" or
--    "assistenza domiciliare" at 26,000 services, where the first 101 public
--    matches lie in the first 60 to 150 pages of the table. The function
--    now matches the first `probe` pages row by row (a TID range scan, in
--    storage order), and from the matches it found there estimates which is
--    cheaper for the rest: going on row by row (about 3.5 microseconds a
--    page) or the index (about a fifth of that per public match). Both
--    return the same rows in the same order as before: the first in_limit
--    matches in storage order (a bitmap heap scan reads the pages in order
--    too; the row-by-row reads are TID range scans, never synchronized).
-- 2. catalogue_public_page: the page of a public search (matches, ranking by
--    blocks, paging, count, municipalities and price bands) in one call as
--    the tables' owner, so that the caller reads only the page's services
--    under its own row-level security instead of every match of the block
--    (101 services, each with its policy) and the details of the page under
--    theirs (a services lookup per detail row). Everything it returns is
--    public: published services of public cooperatives, which every scope's
--    services policy lets through; the caller still joins the services
--    under its own policies, which decide what is shown.
--
-- catalogue_public_matches now returns each match's name and rank
-- (ts_rank) with its id, from the row it has just matched: the page's
-- ranking needs no second read of each service. It matches with
-- catalogue_query's tsquery less its redundant terms ('x' | 'x':* is
-- 'x':*: "giardino", "anziani", "doposcuola"), which reads one index entry
-- less per word; the ranks are of the whole tsquery, as before.
DROP FUNCTION catalogue_public_matches;
CREATE FUNCTION catalogue_public_matches(in_query tsquery, in_district text, in_category text,
    in_municipality text, in_cooperative text, in_max_price bigint, in_limit integer)
  RETURNS TABLE (id bigint, name text, rank real)
  LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 100
  SET search_path = public SET max_parallel_workers_per_gather = 0 SET jit = off
  SET plan_cache_mode = force_generic_plan SET synchronize_seqscans = off AS $$
#variable_conflict use_column
DECLARE
  probe constant integer := 16;
  bound constant tid := '(16,0)';
  coops text[] := ARRAY(SELECT c.id FROM cooperatives c
    WHERE cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires));
  -- The query to match with: 'x' | 'x':* is 'x':* (x:* matches x), one
  -- index entry to read instead of two; ranks are of in_query as before.
  mq tsquery := regexp_replace(in_query::text, '''([^'']+)'' \| ''\1'':\*', '''\1'':*', 'g')::tsquery;
  n integer := 0;
  more integer;
  lo tid := '(0,0)';
  hi tid := bound;
  pages float8;
BEGIN
  LOOP
    -- The pages from lo to hi, row by row (a TID range scan; coalesce: the
    -- GIN index cannot serve).
    RETURN QUERY SELECT s.id, s.name, ts_rank(s.search, in_query) FROM services s
      WHERE s.ctid >= lo AND s.ctid < hi
        AND coalesce(s.search, ''::tsvector) @@ mq
        AND s.published IS NOT FALSE
        AND array_position(coops, s.cooperative_id) IS NOT NULL
        AND (in_district = '' OR s.district_id = in_district)
        AND (in_category = '' OR s.category = in_category)
        AND (in_municipality = '' OR EXISTS (SELECT 1 FROM service_municipalities sm
          WHERE sm.service_id = s.id AND sm.municipality_id = in_municipality))
        AND (in_cooperative = '' OR s.cooperative_id = in_cooperative)
        AND (in_max_price = 0 OR s.price_cents <= in_max_price)
      LIMIT in_limit - n;
    GET DIAGNOSTICS more = ROW_COUNT;
    n := n + more;
    IF n >= in_limit OR hi > bound THEN
      RETURN;
    END IF;
    pages := greatest(pg_relation_size('services') / current_setting('block_size')::integer, 1);
    -- Pages still to read at this density, against the index's cost for
    -- the public matches the table holds at this density, in pages.
    EXIT WHEN n = 0 OR (in_limit - n)::float8 * probe / n > n * pages / probe / 5;
    lo := bound;
    hi := '(4294967295,0)'; -- past the last page
  END LOOP;
  -- The rest from the GIN index (NOT ... <: no TID range scan instead).
  RETURN QUERY SELECT s.id, s.name, ts_rank(s.search, in_query) FROM services s
    WHERE s.search @@ mq
      AND NOT s.ctid < bound
      AND s.published IS NOT FALSE -- published (NOT NULL), not served by services_browse
      AND array_position(coops, s.cooperative_id) IS NOT NULL
      AND (in_district = '' OR s.district_id = in_district)
      AND (in_category = '' OR s.category = in_category)
      AND (in_municipality = '' OR EXISTS (SELECT 1 FROM service_municipalities sm
        WHERE sm.service_id = s.id AND sm.municipality_id = in_municipality))
      AND (in_cooperative = '' OR s.cooperative_id = in_cooperative)
      AND (in_max_price = 0 OR s.price_cents <= in_max_price)
    LIMIT in_limit - n;
END
$$;

-- The page of a public search: of the first in_up_to matches
-- (catalogue_public_matches, storage order), each block of in_block ranked
-- by ts_rank (then name, id), the blocks in order; rows in_offset to
-- in_offset + in_limit of that order, each with its position, the number of
-- matches read (found), its municipalities and its price bands as
-- [[municipality, max_isee_euro, price_cents, percent], ...]. No sequential
-- scans: the details are read by service from their primary keys however
-- small the tables are.
CREATE FUNCTION catalogue_public_page(in_query tsquery, in_district text, in_category text,
    in_municipality text, in_cooperative text, in_max_price bigint, in_up_to integer, in_block integer,
    in_offset integer, in_limit integer)
  RETURNS TABLE (service_id bigint, pos bigint, found integer, municipalities text[], bands json)
  LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 20
  SET search_path = public SET max_parallel_workers_per_gather = 0 SET jit = off
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT p.id, row_number() OVER (ORDER BY p.block, p.rank DESC, p.name, p.id), p.found,
    coalesce((SELECT array_agg(sm.municipality_id ORDER BY sm.municipality_id)
      FROM service_municipalities sm WHERE sm.service_id = p.id), '{}'),
    (SELECT json_agg(json_build_array(b.municipality_id, b.max_isee_euro, b.price_cents, b.percent)
      ORDER BY b.municipality_id, b.position) FROM service_price_bands b WHERE b.service_id = p.id)
  FROM (SELECT m.id, m.name, m.rank, (m.n - 1) / in_block AS block, (count(*) OVER ())::integer AS found
      FROM catalogue_public_matches(in_query, in_district, in_category, in_municipality, in_cooperative,
        in_max_price, in_up_to) WITH ORDINALITY AS m(id, name, rank, n)
      ORDER BY block, m.rank DESC, m.name, m.id
      OFFSET in_offset LIMIT in_limit) p
  ORDER BY 2;
END
$$;

---- create above / drop below ----

DROP FUNCTION catalogue_public_page;
DROP FUNCTION catalogue_public_matches;
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
