package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// surgeQueueActivities is how many activities a food-voucher case runs
// from submission until its review task is open: LoadCase, Precheck,
// OpenTask.
const surgeQueueActivities = 3

// surgeMunicipalities are the Tradate district's municipalities the
// synthetic residents live in, round robin.
var surgeMunicipalities = []string{"castelseprio", "castiglione-olona", "gornate-olona", "lonate-ceppino",
	"tradate", "vedano-olona", "venegono-inferiore", "venegono-superiore"}

// surgeTaxCode is a valid, distinct codice fiscale for synthetic resident i
// (up to 160,000 of them).
func surgeTaxCode(tb testing.TB, i int) string {
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	s := fmt.Sprintf("%c%c%c%cNC80A01L319", letters[i%20], letters[(i/20)%20], letters[(i/400)%20], letters[(i/8000)%20])
	c, err := forms.TaxCodeCheckChar(s)
	if err != nil {
		tb.Fatal(err)
	}
	return s + string(c)
}

// surgeResident is one synthetic resident: registered in the population
// registry of their municipality, with a portal account and a session.
type surgeResident struct {
	taxCode, municipality, token string
}

// makeSurgeResidents writes n residents to the registry, their accounts and
// their sessions in a few statements.
func makeSurgeResidents(ctx context.Context, tb testing.TB, st *store.Store, n int) []surgeResident {
	out := make([]surgeResident, n)
	codes, towns, names, hashes := make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i := range out {
		tok, hash, err := auth.NewToken()
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = surgeResident{taxCode: surgeTaxCode(tb, i), municipality: surgeMunicipalities[i%len(surgeMunicipalities)], token: tok}
		codes[i], towns[i], names[i], hashes[i] = out[i].taxCode, out[i].municipality, "surge."+out[i].taxCode, hash
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO residents (tax_code, municipality_id, first_name, last_name)
			SELECT c, m, 'Bench', 'Citizen' FROM unnest($1::text[], $2::text[]) AS x(c, m)`, []any{codes, towns}},
		{`INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code)
			SELECT u, 'x', 'citizen', 'Bench Citizen', 'tradate', m, c FROM unnest($1::text[], $2::text[], $3::text[]) AS x(u, m, c)`,
			[]any{names, towns, codes}},
		{`INSERT INTO auth_sessions (token_hash, user_id, expires_at)
			SELECT h, u.id, now() + interval '1 day' FROM unnest($1::text[], $2::bytea[]) AS x(n, h) JOIN users u ON u.username = x.n`,
			[]any{names, hashes}},
	} {
		if _, err := st.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func surgeApplication(r surgeResident) map[string]any {
	app := testenv.LoadApplication(r.taxCode)
	app["data"].(map[string]any)["residence"] = map[string]any{"municipality": r.municipality, "address": "Via Roma 1"}
	return app
}

// BenchmarkSurge is the Covid week at forty times its size: BENCH_SURGE
// (default 10,000) applications from as many residents of the district's
// eight municipalities, sent as fast as they come by BENCH_SURGE_CONCURRENCY
// (default 64) clients. Every one must be accepted and reach a review
// queue exactly once. The baseline, in the same run on the same server, is
// as many bare workflows of the same shape up to the queue (three no-op
// activities) started and finished at the same concurrency.
func BenchmarkSurge(b *testing.B) {
	ctx := context.Background()
	n := testenv.EnvInt("BENCH_SURGE", 10_000)
	concurrency := testenv.EnvInt("BENCH_SURGE_CONCURRENCY", 64)

	bs := newBenchStack(b, "-bare", []any{BareWorkflow})
	st, tc, queue, bareQueue := bs.st, bs.tc, bs.queue, bs.bareQueue
	h := &harness{b: b, st: st, tc: tc, srv: bs.apiServer(b)}
	residents := makeSurgeResidents(ctx, b, st, n)

	for iter := 0; iter < b.N; iter++ {
		// Baseline: the same number of bare workflows of the same shape.
		var bareRuns sync.Map
		t0 := time.Now()
		if _, err := run(n, concurrency, func(i int) error {
			r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("surge-bare-%s-%d-%d", queue, iter, i),
				TaskQueue: bareQueue}, BareWorkflow, surgeQueueActivities)
			bareRuns.Store(i, r)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		bareStarted := time.Since(t0)
		if _, err := run(n, concurrency, func(i int) error {
			r, _ := bareRuns.Load(i)
			return r.(client.WorkflowRun).Get(ctx, nil)
		}); err != nil {
			b.Fatal(err)
		}
		bareDone := time.Since(t0)

		// The surge: every resident applies once, as fast as they come.
		var before int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&before); err != nil {
			b.Fatal(err)
		}
		// The process's memory with no surge journey open yet.
		rssBefore, err := settledRSS()
		if err != nil {
			b.Fatal(err)
		}
		if err := resetPeakRSS(); err != nil {
			b.Fatal(err)
		}
		bs.meter.report(bareQueue, "surge baseline")
		bs.meter.reset()
		lat := make([]time.Duration, n)
		var refused atomic.Int64
		var firstRefusal atomic.Value
		t1 := time.Now()
		if _, err := run(n, concurrency, func(i int) error {
			r := residents[i]
			s := time.Now()
			code, err := h.do("POST", "/api/v1/applications", r.token, surgeApplication(r), nil, nil)
			lat[i] = time.Since(s)
			if err != nil || code != 201 {
				refused.Add(1)
				firstRefusal.CompareAndSwap(nil, fmt.Sprintf("%s: %d %v", r.taxCode, code, err))
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		accepted := time.Since(t1)
		if f := refused.Load(); f > 0 {
			b.Fatalf("%d of %d applications refused in the surge (first: %v)", f, n, firstRefusal.Load())
		}
		// Every case reaches a review queue, once.
		deadline := time.Now().Add(time.Duration(n)*100*time.Millisecond + 2*time.Minute)
		var cases, distinct, queued int
		for {
			if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM cases) - $1::int,
				(SELECT count(DISTINCT c.tax_code) FROM cases c JOIN residents r ON r.tax_code = c.tax_code AND r.first_name = 'Bench'),
				(SELECT count(*) FROM tasks t JOIN cases c ON c.id = t.case_id JOIN residents r ON r.tax_code = c.tax_code AND r.first_name = 'Bench'
				 WHERE t.kind = 'review' AND t.municipality_id = r.municipality_id)`, before).Scan(&cases, &distinct, &queued); err != nil {
				b.Fatal(err)
			}
			if queued >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(pollInterval)
		}
		queuedIn := time.Since(t1)
		peak, err := procStatus("VmHWM")
		if err != nil {
			b.Fatal(err)
		}
		// Every surge journey is now open, waiting at its review step.
		rssAfter, err := settledRSS()
		if err != nil {
			b.Fatal(err)
		}
		perThousand := (rssAfter - rssBefore) / float64(max(queued, 1)) * 1000
		slow := bs.meter.stats(queue, "wft_run")
		sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
		p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
		acceptRatio := bareStarted.Seconds() / accepted.Seconds()
		queueRatio := bareDone.Seconds() / queuedIn.Seconds()

		fmt.Printf("\nSurge: %d applications from %d residents of 8 municipalities, %d clients at once\n", n, n, concurrency)
		fmt.Printf("  baseline: %d bare workflows of %d no-op activities started in %.1fs, finished in %.1fs\n",
			n, surgeQueueActivities, bareStarted.Seconds(), bareDone.Seconds())
		fmt.Printf("  all accepted in %.1fs (%.0f/s), all in a review queue after %.1fs; submit p50 %v, p99 %v\n",
			accepted.Seconds(), float64(n)/accepted.Seconds(), queuedIn.Seconds(), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond))
		bs.meter.report(queue, "surge")
		fmt.Printf("  resident set: peak %.0f MiB; settled %.0f MiB before, %.0f MiB with %d journeys open\n",
			peak, rssBefore, rssAfter, queued)
		fmt.Println(verdict("surge_queued", float64(queued), "cases", fmt.Sprintf("=%d", n), queued == n && cases == n && distinct == n))
		fmt.Println(verdict("surge_accept_ratio", acceptRatio, "ratio", ">=0.25", acceptRatio >= 0.25))
		fmt.Println(verdict("surge_queue_ratio", queueRatio, "ratio", ">=0.25", queueRatio >= 0.25))
		fmt.Println(verdict("surge_accept_seconds", accepted.Seconds(), "s", "report", true))
		fmt.Println(verdict("surge_submit_p99", float64(p99.Microseconds())/1000, "ms", "<=1000", p99 <= time.Second))
		fmt.Println(verdict("surge_queue_seconds", queuedIn.Seconds(), "s", "report", true))
		fmt.Println(verdict("surge_slow_workflow_tasks", float64(slow.over), "tasks", fmt.Sprintf("=0(>%v)", slowWorkflowTask), slow.over == 0))
		fmt.Println(verdict("surge_peak_rss", peak, "MiB", "report", true))
		fmt.Println(verdict("rss_per_1000_open_journeys", perThousand, "MiB", "report", true))
		b.ReportMetric(accepted.Seconds(), "accept-s")
		b.ReportMetric(queuedIn.Seconds(), "queue-s")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		if cases != n || distinct != n || queued != n {
			b.Fatalf("surge: %d cases for %d residents (%d distinct), %d in a review queue: lost or doubled", cases, n, distinct, queued)
		}
	}
	problem, err := store.LedgerCheck(ctx, st.Pool)
	if err != nil || problem != "" {
		b.Fatalf("ledger after the surge: %q %v", problem, err)
	}
}
