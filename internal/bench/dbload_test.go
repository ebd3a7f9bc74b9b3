package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sportello/api"
	"sportello/forms"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
)

// BenchmarkJourneyDatabase measures what one food-voucher journey costs
// PostgreSQL (deploy/SCALING.md sizes the database with it): the API and
// the worker each get a pool of their own whose connections count the
// client's writes (one write, one round trip: see scale_probe_test.go) and
// whose tracer counts the statements. The journeys
// are BenchmarkPlatform's (BENCH_DB_JOURNEYS, default 40, 8 at a time);
// the API's share includes the scripted citizen's polling of its case, so
// it is also given per HTTP request.
func BenchmarkJourneyDatabase(b *testing.B) {
	ctx := context.Background()
	journeys := testenv.EnvInt("BENCH_DB_JOURNEYS", 40)
	concurrency := testenv.EnvInt("BENCH_DB_CONCURRENCY", 8)
	url, st := testenv.Postgres(b)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `SELECT setval('case_number_seq', 700000)`); err != nil {
		b.Fatal(err)
	}
	tc := testenv.Temporal(b)
	queue := testenv.TaskQueue(b)
	var apiM, workerM dbMeter
	apiStore, workerStore := meteredStore(ctx, b, url, &apiM), meteredStore(ctx, b, url, &workerM)
	w := worker.New(tc, workerStore, queue)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	reg, err := forms.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	var requests atomic.Int64
	h := api.New(api.Deps{Store: apiStore, Temporal: tc, Forms: reg, TaskQueue: queue, Namespace: testenv.Namespace,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	hs := &harness{b: b, st: st, tc: tc, srv: srv}
	hs.operator = hs.session(ctx, hs.userID(ctx, "operatore.tradate"))
	hs.merchant = hs.session(ctx, hs.userID(ctx, "esercente.tradate"))
	hs.makeCitizens(ctx, 1+journeys)
	// One journey to warm the pools' statement caches.
	warmCase, err := hs.journey(hs.citizens[0])
	if err != nil {
		b.Fatal(err)
	}
	// Rows a journey adds to the two tables that grow with every journey
	// (deploy/SCALING.md: when to partition them).
	rows := func() (audit, events int64) {
		if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM case_events)`).Scan(&audit, &events); err != nil {
			b.Fatal(err)
		}
		return audit, events
	}
	for i := 0; i < b.N; i++ {
		a0, e0 := rows()
		apiM.reset()
		workerM.reset()
		requests.Store(0)
		if _, err := run(journeys, concurrency, func(i int) error {
			_, err := hs.journey(hs.citizens[1+i])
			return err
		}); err != nil {
			b.Fatal(err)
		}
		n := float64(journeys)
		a1, e1 := rows()
		req := float64(requests.Load())
		apiWrites, apiStmts := float64(apiM.writes.Load()), float64(apiM.stmts.Load())
		fmt.Printf("\nSportello database load per journey (%d journeys, %d at a time; apply to redemption)\n", journeys, concurrency)
		fmt.Printf("  worker: %6.1f round trips, %6.1f statements\n", float64(workerM.writes.Load())/n, float64(workerM.stmts.Load())/n)
		fmt.Printf("  API:    %6.1f round trips, %6.1f statements over %.1f HTTP requests (%.1f round trips per request; the citizen polls every %s)\n",
			apiWrites/n, apiStmts/n, req/n, apiWrites/req, pollInterval)
		workerM.printTexts("worker", n)
		apiM.printTexts("API", n)
		// The scripted people's reads alone, one at a time on the idle API
		// pool, so that each one's round trips are its own: what the
		// citizen's polling costs, apart from the platform's steps.
		for _, r := range []struct{ name, token string }{{"citizen", hs.citizens[0].token}, {"staff", hs.operator}} {
			const reads = 20
			w0, s0 := apiM.writes.Load(), apiM.stmts.Load()
			for range reads {
				if code, err := hs.do("GET", "/api/v1/applications/"+warmCase, r.token, nil, nil, nil); err != nil || code != 200 {
					b.Fatalf("%s reads case %s: %d %v", r.name, warmCase, code, err)
				}
			}
			rt := float64(apiM.writes.Load()-w0) / reads
			fmt.Printf("  one case read by the %s (GET /api/v1/applications/:id): %.1f round trips, %.1f statements\n",
				r.name, rt, float64(apiM.stmts.Load()-s0)/reads)
			fmt.Println(verdict("db_case_read_roundtrips_"+r.name, rt, "count", "report", true))
		}
		fmt.Printf("  rows added: audit_log %.1f, case_events %.1f per journey\n", float64(a1-a0)/n, float64(e1-e0)/n)
		fmt.Println(verdict("db_audit_rows_per_journey", float64(a1-a0)/n, "rows", "report", true))
		fmt.Println(verdict("db_case_events_per_journey", float64(e1-e0)/n, "rows", "report", true))
		fmt.Println(verdict("db_worker_roundtrips_per_journey", float64(workerM.writes.Load())/n, "count", "report", true))
		fmt.Println(verdict("db_worker_statements_per_journey", float64(workerM.stmts.Load())/n, "count", "report", true))
		fmt.Println(verdict("db_api_roundtrips_per_request", apiWrites/req, "count", "report", true))
		fmt.Println(verdict("db_api_requests_per_journey", req/n, "count", "report", true))
		fmt.Println(verdict("db_api_roundtrips_per_journey", apiWrites/n, "count", "report", true))
	}
}

// dbMeter counts a pool's round trips (writes) and statements, and with
// BENCH_DB_STATEMENTS=1 each statement's text.
type dbMeter struct {
	writes, stmts atomic.Int64
	texts         sync.Map // first line of a statement -> *atomic.Int64
}

func (m *dbMeter) reset() {
	m.writes.Store(0)
	m.stmts.Store(0)
	m.texts.Clear()
}

func (m *dbMeter) count(sql string) {
	m.stmts.Add(1)
	if os.Getenv("BENCH_DB_STATEMENTS") == "" {
		return
	}
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 110 {
		sql = sql[:110]
	}
	n, _ := m.texts.LoadOrStore(sql, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// printTexts prints the statements counted, most frequent first, per journey.
func (m *dbMeter) printTexts(name string, journeys float64) {
	type row struct {
		sql string
		n   int64
	}
	var rows []row
	m.texts.Range(func(k, v any) bool {
		rows = append(rows, row{k.(string), v.(*atomic.Int64).Load()})
		return true
	})
	sort.Slice(rows, func(i, j int) bool { return rows[i].n > rows[j].n })
	for _, r := range rows {
		fmt.Printf("  %s %5.1f  %s\n", name, float64(r.n)/journeys, r.sql)
	}
}

func (m *dbMeter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	m.count(d.SQL)
	return ctx
}
func (m *dbMeter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (m *dbMeter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (m *dbMeter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	m.count(d.SQL)
}
func (m *dbMeter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// meteredStore opens a store on url (the production pool size) whose
// connections m counts.
func meteredStore(ctx context.Context, b *testing.B, url string, m *dbMeter) *store.Store {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = store.DefaultMaxConns
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: &m.writes}, nil
	}
	cfg.ConnConfig.Tracer = m
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return &store.Store{Pool: pool}
}
