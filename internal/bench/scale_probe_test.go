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
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sportello/api"
	"sportello/internal/store"
)

// The probe of BenchmarkScale: where the time of a request goes, outside
// the timing loop. It serves the API from a second pool on the same
// database whose connections count the messages the client sends (each
// flush of the PostgreSQL protocol is one write, and the client then waits
// for the answer: one round trip) and whose tracer records every statement.
// Each probed request is made once, warm; the benchmark prints its round
// trips and statements, and with BENCH_SCALE_EXPLAIN=1 the plan
// (EXPLAIN (ANALYZE, BUFFERS)) of each statement twice: as the table owner
// the pool connects as (row-level security bypassed) and under the
// request's scope as sportello_app, the role the store switches to.

// countingConn counts the writes on a database connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// probeStmt is one statement a probed request sent.
type probeStmt struct {
	sql  string
	args []any
}

// probeTracer records the statements of the probe pool while on.
type probeTracer struct {
	mu    sync.Mutex
	on    bool
	stmts []probeStmt
}

func (t *probeTracer) add(sql string, args []any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.on {
		t.stmts = append(t.stmts, probeStmt{sql: sql, args: args})
	}
}

func (t *probeTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.add(d.SQL, d.Args)
	return ctx
}
func (t *probeTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (t *probeTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (t *probeTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	t.add(d.SQL, d.Args)
}
func (t *probeTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// scaleProbe is the probe's server over its own pool.
type scaleProbe struct {
	st     *store.Store
	srv    *httptest.Server
	writes atomic.Int64
	tracer probeTracer
}

func newScaleProbe(ctx context.Context, b *testing.B, url string) *scaleProbe {
	b.Helper()
	p := &scaleProbe{}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: &p.writes}, nil
	}
	cfg.ConnConfig.Tracer = &p.tracer

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	p.st = &store.Store{Pool: pool}
	p.srv = httptest.NewServer(api.New(api.Deps{Store: p.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	b.Cleanup(p.srv.Close)
	return p
}

// probeResult is what one probed request cost.
type probeResult struct {
	roundTrips int64
	stmts      []probeStmt
}

// request makes GET path twice (the first fills the statement caches of
// the pool's connection) and records the second.
func (p *scaleProbe) request(b *testing.B, path, token string) probeResult {
	b.Helper()
	get := func() {
		req, err := http.NewRequest("GET", p.srv.URL+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("probe GET %s: %d", path, resp.StatusCode)
		}
	}
	get()
	p.tracer.mu.Lock()
	p.tracer.on, p.tracer.stmts = true, nil
	p.tracer.mu.Unlock()
	w0 := p.writes.Load()
	get()
	rt := p.writes.Load() - w0
	p.tracer.mu.Lock()
	defer p.tracer.mu.Unlock()
	p.tracer.on = false
	return probeResult{roundTrips: rt, stmts: p.tracer.stmts}
}

// oneLine shortens a statement for printing.
func oneLine(sql string, n int) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}

// explain prints the plan of stmt as the pool's owner and under scope as
// sportello_app; every statement runs in a transaction rolled back.
func explain(ctx context.Context, b *testing.B, st *store.Store, scope store.Scope, stmt probeStmt) {
	b.Helper()
	upper := strings.ToUpper(strings.TrimSpace(stmt.sql))
	if !strings.HasPrefix(upper, "SELECT") && !strings.HasPrefix(upper, "INSERT") && !strings.HasPrefix(upper, "WITH") ||
		strings.Contains(stmt.sql, "set_config(") {
		return
	}
	plan := func(tx pgx.Tx) string {
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+stmt.sql, stmt.args...)
		if err != nil {
			return "  (" + err.Error() + ")\n"
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "  (" + err.Error() + ")\n"
		}
		return "      " + strings.Join(lines, "\n      ") + "\n"
	}
	var owner, scoped string
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	owner = plan(tx)
	_ = tx.Rollback(ctx)
	errDone := fmt.Errorf("rolled back")
	_ = st.InTx(ctx, scope, func(tx pgx.Tx) error {
		scoped = plan(tx)
		return errDone
	})
	fmt.Printf("    %s\n    as owner (no row-level security):\n%s    as sportello_app, scope %s:\n%s",
		oneLine(stmt.sql, 160), owner, scope.Kind, scoped)
}

// probeReport prints the round trips and statements of a probed request
// (and their plans with BENCH_SCALE_EXPLAIN=1).
func probeReport(ctx context.Context, b *testing.B, st *store.Store, label string, scope store.Scope, r probeResult) {
	fmt.Printf("  %s: %d round trips, %d statements\n", label, r.roundTrips, len(r.stmts))
	for _, s := range r.stmts {
		fmt.Printf("    - %s\n", oneLine(s.sql, 140))
	}
	if os.Getenv("BENCH_SCALE_EXPLAIN") == "" {
		return
	}
	for _, s := range r.stmts {
		sc := scope
		if strings.Contains(s.sql, "auth_sessions") {
			sc = store.System
		}
		explain(ctx, b, st, sc, s)
	}
}
