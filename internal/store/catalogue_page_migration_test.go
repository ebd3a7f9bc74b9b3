package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// firstPublicMatches is the reference for catalogue_public_matches: the
// first $7 public matches of catalogue_query($1) with the filters $2 to $6
// in storage order (what the GIN bitmap scan of migration 017 returned).
const firstPublicMatches = `SELECT s.id, s.name, s.search FROM services s
	WHERE s.search @@ catalogue_query($1) AND s.published
	AND s.cooperative_id IN (SELECT c.id FROM cooperatives c
		WHERE cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires))
	AND ($2 = '' OR s.district_id = $2) AND ($3 = '' OR s.category = $3)
	AND ($4 = '' OR EXISTS (SELECT 1 FROM service_municipalities sm WHERE sm.service_id = s.id AND sm.municipality_id = $4))
	AND ($5 = '' OR s.cooperative_id = $5) AND ($6 = 0 OR s.price_cents <= $6)
	ORDER BY s.ctid LIMIT $7`

// Migration 039 goes down and up, and its functions answer as the ones they
// replace: catalogue_public_matches the first matches in storage order
// (whichever way it reads them: the first pages row by row, then the rest
// of the table or the GIN index), catalogue_public_page the page, ranking,
// count and details of the statement catalogueSQL sent before.
func TestCataloguePageMigration(t *testing.T) {
	conn := seededConn(t)
	ctx := context.Background()
	goesDownAndUp(t, conn, 39, `SELECT to_regprocedure('catalogue_public_page(tsquery,text,text,text,text,bigint,integer,integer,integer,integer)') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'catalogue_public_matches' AND prosrc LIKE '%ctid%')`, "the fourth pass's functions")
	upToLatest(t, conn)

	// Copies of the seeded services over many pages, half published, all
	// offered in Tradate; some then updated, so that storage order is not
	// the order of the ids.
	for _, sql := range []string{
		`INSERT INTO services (cooperative_id, district_id, category, name, description, unit, price_cents, capacity,
			capacity_period, published)
		SELECT s.cooperative_id, s.district_id, s.category, s.name || ' ' || g, s.description, s.unit, s.price_cents + g % 500,
			s.capacity, s.capacity_period, g % 2 = 0
		FROM generate_series(1, 150) g, services s`,
		`INSERT INTO service_municipalities (service_id, municipality_id) SELECT id, 'tradate' FROM services ON CONFLICT DO NOTHING`,
		`UPDATE services SET price_cents = price_cents + 1 WHERE id % 7 = 0`,
		`ANALYZE services, service_municipalities, cooperatives`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	var pages int
	if err := conn.QueryRow(ctx, `SELECT pg_relation_size('services') / current_setting('block_size')::int`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages < 3*16 {
		t.Fatalf("services has %d pages: the first pages alone would hold every match", pages)
	}

	type filter struct {
		district, category, municipality, cooperative string
		maxPrice                                      int64
	}
	var coop string
	if err := conn.QueryRow(ctx, `SELECT cooperative_id FROM services GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&coop); err != nil {
		t.Fatal(err)
	}
	filters := []filter{{}, {district: "tradate"}, {category: "silvercare"}, {municipality: "tradate"}, {cooperative: coop},
		{maxPrice: 2000}, {district: "elsewhere"}}
	queries := []string{"anziani", "assistenza domiciliare", "doposcuola", "laboratorio ragazzi", "giardino", "psicologico",
		"anziani compagnia", "nessunaparola"}
	paths := map[string]bool{}
	for _, q := range queries {
		for _, f := range filters {
			for _, limit := range []int{1, 2, 21, 101, 201, 100000} {
				// The reference: the first matches in storage order, as the
				// GIN bitmap scan of 017 returned them.
				var got, want []int64
				var last *int
				if err := conn.QueryRow(ctx, `SELECT ARRAY(SELECT m.id FROM catalogue_public_matches(catalogue_query($1), $2, $3, $4, $5, $6, $7)
						WITH ORDINALITY AS m(id, name, rank, n) ORDER BY m.n),
					ARRAY(SELECT id FROM (`+firstPublicMatches+`) m)`,
					q, f.district, f.category, f.municipality, f.cooperative, f.maxPrice, limit).Scan(&got, &want); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("catalogue_public_matches(%q, %+v, %d) = %v, want %v", q, f, limit, got, want)
				}
				if len(want) > 0 {
					if err := conn.QueryRow(ctx, `SELECT (ctid::text::point)[0]::int FROM services WHERE id = $1`, want[len(want)-1]).Scan(&last); err != nil {
						t.Fatal(err)
					}
				}
				switch {
				case len(want) == 0:
					paths["none"] = true
				case *last < 16:
					paths["first pages"] = true
				default:
					paths["beyond"] = true
				}
			}
		}
	}
	for _, p := range []string{"none", "first pages", "beyond"} {
		if !paths[p] {
			t.Fatalf("no search ended %s: the comparison proves less than it should (%v)", p, paths)
		}
	}

	// The page: the statement catalogueSQL sent before migration 039, as
	// the owner (every match is public), against catalogue_public_page.
	for _, q := range queries {
		for _, f := range filters[:4] {
			for _, pg := range []struct{ upTo, block, offset, limit int }{{101, 100, 0, 20}, {101, 100, 80, 20},
				{201, 100, 100, 20}, {201, 100, 180, 40}, {11, 10, 0, 5}, {101, 100, 5000, 20}} {
				page := func(sql string) string {
					rows, err := conn.Query(ctx, sql, q, f.district, f.category, f.municipality, f.cooperative, f.maxPrice,
						pg.upTo, pg.block, pg.offset, pg.limit)
					if err != nil {
						t.Fatal(err)
					}
					defer rows.Close()
					out := ""
					for rows.Next() {
						v, err := rows.Values()
						if err != nil {
							t.Fatal(err)
						}
						out += fmt.Sprintln(v...)
					}
					if err := rows.Err(); err != nil {
						t.Fatal(err)
					}
					return out
				}
				got := page(`SELECT service_id, found, municipalities, bands::text FROM catalogue_public_page(catalogue_query($1),
					$2, $3, $4, $5, $6, $7, $8, $9, $10) ORDER BY pos`)
				want := page(`WITH query AS MATERIALIZED (SELECT catalogue_query($1) AS q),
					matches AS MATERIALIZED (
						` + firstPublicMatches + `),
					page AS (
						SELECT m.*, (row_number() OVER () - 1) / $8 AS block, ts_rank(m.search, (SELECT q FROM query)) AS rank
						FROM matches m ORDER BY block, rank DESC, m.name, m.id OFFSET $9 LIMIT $10)
					SELECT p.id, (SELECT count(*) FROM matches)::int,
						coalesce((SELECT array_agg(sm.municipality_id ORDER BY sm.municipality_id)
							FROM service_municipalities sm WHERE sm.service_id = p.id), '{}'),
						(SELECT json_agg(json_build_array(b.municipality_id, b.max_isee_euro, b.price_cents, b.percent)
							ORDER BY b.municipality_id, b.position) FROM service_price_bands b WHERE b.service_id = p.id)::text
					FROM page p ORDER BY p.block, p.rank DESC, p.name, p.id`)
				if got != want {
					t.Fatalf("catalogue_public_page(%q, %+v, %+v):\n%s\nwant:\n%s", q, f, pg, got, want)
				}
			}
		}
	}
}
