package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// catalogueQueries are the searches the benchmark cycles through.
var catalogueQueries = []string{"anziani", "assistenza domiciliare", "doposcuola", "laboratorio ragazzi", "giardino", "psicologico"}

// BenchmarkCatalogue measures a catalogue search (Italian full text,
// visibility of the cooperative, paging and the count) through the store
// and through GET /api/v1/services as a visitor, against a bare indexed
// full-text SELECT on the same table in the same run, and the floor of the
// HTTP side: the same responses from a bare gin handler without a
// database. BENCH_SERVICES services are generated (default 20,000) besides
// the seeded ones.
func BenchmarkCatalogue(b *testing.B) {
	ctx := context.Background()
	n := testenv.EnvInt("BENCH_SERVICES", 20_000)
	requests := testenv.EnvInt("BENCH_CATALOGUE_REQUESTS", 1000)
	_, st := catalogueData(b, n)
	var total int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM services`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\nSportello catalogue benchmark: %d services, %d searches each\n", total, requests)
	srv := httptest.NewServer(api.New(api.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()

	q := func(i int) string { return catalogueQueries[i%len(catalogueQueries)] }
	warm := requests / 10
	var cpu cpuMeter
	results := []timing{
		cpu.measure(b, "bare indexed SELECT (search @@ to_tsquery, LIMIT 20)", warm, requests, func(i int) error {
			rows, err := st.Pool.Query(ctx, `SELECT id, name FROM services WHERE search @@ plainto_tsquery('italian', $1) LIMIT 20`, q(i))
			if err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		}),
		cpu.measure(b, "store: public catalogue search, page of 20 with count", warm, requests, func(i int) error {
			_, _, err := st.API().Services(ctx, store.Scope{Kind: "anonymous"},
				store.ServiceFilter{District: "tradate", Query: q(i), PublicOnly: true, Limit: 20})
			return err
		}),
		cpu.measure(b, "GET /api/v1/services?q=... (visitor)", warm, requests, func(i int) error {
			res, err := http.Get(srv.URL + "/api/v1/services?limit=20&q=" + url.QueryEscape(q(i)))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", res.StatusCode)
			}
			return nil
		}),
	}
	// The floor of the HTTP side: the same responses (recorded from the
	// API, one per query) served by a bare gin handler, no database, over
	// the same kind of connection.
	bodies := make([][]byte, len(catalogueQueries))
	for i := range catalogueQueries {
		res, err := http.Get(srv.URL + "/api/v1/services?limit=20&q=" + url.QueryEscape(q(i)))
		if err != nil {
			b.Fatal(err)
		}
		if bodies[i], err = io.ReadAll(res.Body); err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
	}
	floorEngine := gin.New()
	floorEngine.GET("/services", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", bodies[slices.Index(catalogueQueries, c.Query("q"))])
	})
	floorSrv := httptest.NewServer(floorEngine)
	defer floorSrv.Close()
	results = append(results, cpu.measure(b, "bare gin handler, same responses (no database)", warm, requests, func(i int) error {
		res, err := http.Get(floorSrv.URL + "/services?limit=20&q=" + url.QueryEscape(q(i)))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil
	}))
	for i, r := range results {
		fmt.Printf("  %-58s p50 %8.2f ms  p99 %8.2f ms  CPU per search: PostgreSQL %.2f ms, this process %.2f ms\n",
			r.name, ms(r.p50), ms(r.p99), cpu.pg[i], cpu.self[i])
	}
	bare, st50, http, floor := results[0], results[1], results[2], results[3]
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(max(b, time.Microsecond)) }
	fmt.Println(verdict("catalogue_http_p50_ratio", ratio(http.p50, bare.p50), "x", "<=5", ratio(http.p50, bare.p50) <= 5))
	fmt.Println(verdict("catalogue_http_p99_ratio", ratio(http.p99, bare.p99), "x", "report", true))
	fmt.Println(verdict("catalogue_store_p50_ratio", ratio(st50.p50, bare.p50), "x", "report", true))
	// What HTTP alone takes of the ratio: the bare gin handler's p50 against
	// the bare SELECT's, and the API's p50 less the store's.
	fmt.Println(verdict("catalogue_http_floor_p50_ratio", ratio(floor.p50, bare.p50), "x", "report", true))
	fmt.Println(verdict("catalogue_http_floor_p50", ms(floor.p50), "ms", "report", true))
	fmt.Println(verdict("catalogue_http_over_store_p50", ms(http.p50-st50.p50), "ms", "report", true))
	for i, r := range []struct {
		name string
		t    timing
	}{{"bare", bare}, {"store", st50}, {"http", http}} {
		fmt.Println(verdict("catalogue_"+r.name+"_p50", ms(r.t.p50), "ms", "report", true))
		fmt.Println(verdict("catalogue_"+r.name+"_p99", ms(r.t.p99), "ms", "report", true))
		fmt.Println(verdict("catalogue_"+r.name+"_pg_cpu", cpu.pg[i], "ms", "report", true))
	}
	// PostgreSQL's CPU per search against the baseline's: what the load of
	// the machine changes least.
	fmt.Println(verdict("catalogue_store_pg_cpu_ratio", cpu.pg[1]/max(cpu.pg[0], 0.001), "x", "report", true))
}

// cpuMeter is measure that also keeps the CPU time per call (warm-up
// included) of PostgreSQL's processes and of this process, in ms, in the
// order measured (processCPU: /proc, 10 ms ticks; zero elsewhere).
type cpuMeter struct{ pg, self []float64 }

func (c *cpuMeter) measure(b *testing.B, name string, warm, n int, fn func(i int) error) timing {
	b.Helper()
	c0 := processCPU()
	t := measure(b, name, warm, n, fn)
	c1 := processCPU()
	per := func(k string) float64 { return (c1[k] - c0[k]) * 1000 / float64(warm+n) }
	c.pg, c.self = append(c.pg, per("postgres")), append(c.self, per("bench"))
	return t
}

// catalogueData is a database with the seeded district and n generated
// services besides the seeded ones: copies of the seeded services spread
// over the cooperatives, half published, all offered in Tradate.
func catalogueData(b *testing.B, n int) (string, *store.Store) {
	b.Helper()
	ctx := context.Background()
	dbURL, st := testenv.Postgres(b)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	// Copies of the seeded services, spread over the cooperatives, half published.
	if _, err := st.Pool.Exec(ctx, `INSERT INTO services (cooperative_id, district_id, category, name, description, unit,
			price_cents, capacity, capacity_period, published)
		SELECT s.cooperative_id, s.district_id, s.category, s.name || ' ' || g, s.description, s.unit,
			s.price_cents + g % 500, s.capacity, s.capacity_period, g % 2 = 0
		FROM generate_series(1, $1::int / 22) g, services s`, n); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO service_municipalities (service_id, municipality_id)
		SELECT id, 'tradate' FROM services ON CONFLICT DO NOTHING`); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `ANALYZE services, service_municipalities, cooperatives`); err != nil {
		b.Fatal(err)
	}
	return dbURL, st
}
