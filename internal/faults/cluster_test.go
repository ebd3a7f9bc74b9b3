//go:build cluster

// The local cluster under load (make cluster-test): the production-shaped
// cluster of internal/cluster (Temporal's four services on PostgreSQL, two
// APIs behind the proxy, two workers), citizens applying and booking while
// one API, one worker and Temporal's history service are killed (SIGKILL)
// and started again. It needs bin/temporal-server, bin/temporal-sql-tool and
// bin/temporal-ui-server (make cluster-bins), so it is built only with the
// tag "cluster" and is not part of `make test`.
package faults

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"sportello/internal/bookingtest"
	"sportello/internal/cluster"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// clusterVerdict is the line a script reads: name value unit target PASS|MISS.
func clusterVerdict(name string, value float64, unit, target string, ok bool) string {
	v := "MISS"
	if ok {
		v = "PASS"
	}
	return fmt.Sprintf("%s %.2f %s %s %s", name, value, unit, target, v)
}

func TestCluster(t *testing.T) {
	began := time.Now()
	ctx := context.Background()
	journeys := testenv.EnvInt("CLUSTER_JOURNEYS", 500)
	bookings := testenv.EnvInt("CLUSTER_BOOKINGS", 100)
	tputJourneys := testenv.EnvInt("CLUSTER_THROUGHPUT_JOURNEYS", 100)
	// The state is kept when the test fails, to look into (start it again
	// with `sportello cluster --dir DIR/cluster --bin DIR/bin --port-base B`).
	dir, err := os.MkdirTemp("", "sportello-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}

	// The binaries: sportello built from this tree, Temporal's from bin/.
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	binSrc := os.Getenv("SPORTELLO_CLUSTER_BIN")
	if binSrc == "" {
		binSrc = filepath.Join(root, "bin")
	}
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "sportello"), filepath.Join(root, "cmd", "sportello")).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, b := range []string{"temporal-server", "temporal-sql-tool", "temporal-ui-server"} {
		if err := os.Symlink(filepath.Join(binSrc, b), filepath.Join(binDir, b)); err != nil {
			t.Fatal(err)
		}
	}

	// The cluster, on a free block of ports (below 32768: see FreePorts).
	ports, err := cluster.FreePorts(20000+int(time.Now().UnixNano()%8)*1000, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	ports.Metrics = nil // /metrics is tested in internal/observe
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	startCluster := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(dir, "cluster"), BinDir: binDir, Ports: ports, Demo: true,
		Ephemeral: true, LogLevel: "warn", PaymentCallbackBackoff: 50 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster started in %s", time.Since(startCluster).Round(time.Second))
	t.Cleanup(func() {
		t.Logf("processes at the end:\n%s", cluster.FormatStatus(c.Status()))
		if t.Failed() {
			for _, s := range c.Status() {
				if raw, err := os.ReadFile(s.Log); err == nil {
					if len(raw) > 3000 {
						raw = raw[len(raw)-3000:]
					}
					t.Logf("---- %s (end)\n%s", s.Log, raw)
				}
			}
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("state kept in %s (port base %d)", dir, ports.Proxy-80)
		} else {
			_ = os.RemoveAll(dir)
		}
	})
	st, err := store.Open(ctx, c.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	tc, err := client.Dial(client.Options{HostPort: c.TemporalAddress(), Namespace: cluster.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	api := &apiClient{t: t, base: c.URL(), hc: &http.Client{Timeout: 20 * time.Second}}
	operator := staffToken(ctx, t, st, "operatore.tradate")

	// The demo fund of Tradate holds enough for a few hundred awards: the
	// district funds it for every journey of this run (a funding transfer,
	// as the seed's, so the ledger check still balances).
	var fundID, district string
	if err := st.Pool.QueryRow(ctx, `SELECT id, district_id FROM funds WHERE municipality_id = 'tradate' ORDER BY opens_at DESC LIMIT 1`).
		Scan(&fundID, &district); err != nil {
		t.Fatal(err)
	}
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "cluster-test-funding:" + fundID, From: store.FundingAccountID(district),
		To: store.FundAccountID(fundID), Amount: int64(journeys+3*tputJourneys) * 50_000, Kind: store.TransferFunding, FundID: fundID}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// runJourneys runs the journeys of rs, 16 at a time, and returns how
	// long they took.
	runJourneys := func(rs []resident) time.Duration {
		start := time.Now()
		for _, err := range runLoad(ctx, api, st, loadSpec{applicants: rs, operator: operator, journeysAtOnce: 16}) {
			t.Error(err)
		}
		return time.Since(start)
	}

	// Throughput: the same number of journeys with one worker (worker-2
	// stopped), then with two, in this run.
	throughput := func(prefix string) float64 {
		n := tputJourneys
		if prefix == "W" {
			n = max(4, tputJourneys/5)
		}
		rs := makeResidents(ctx, t, st, prefix, n)
		took := runJourneys(rs)
		return float64(len(rs)) / took.Seconds()
	}
	// A warm-up with both workers first (connections, caches, the first
	// workflow tasks), so that the one-worker phase does not pay for it.
	_ = throughput("W")
	if err := c.Halt("worker-2"); err != nil {
		t.Fatal(err)
	}
	one := throughput("T")
	if err := c.Run(ctx, "worker-2"); err != nil {
		t.Fatal(err)
	}
	two := throughput("U")
	if t.Failed() {
		return
	}
	var verdicts []string
	verdicts = append(verdicts,
		clusterVerdict("cluster_journeys_per_s_1_worker", one, "journeys/s", ">0", one > 0),
		clusterVerdict("cluster_journeys_per_s_2_workers", two, "journeys/s", ">0", two > 0),
		clusterVerdict("cluster_workers_2_over_1", two/one, "ratio", ">=1.0", two/one >= 1.0))

	// The load under faults: journeys and bookings through the proxy while
	// an API, a worker and Temporal's history service are killed.
	applicants := makeResidents(ctx, t, st, "F", journeys)
	buyers := makeResidents(ctx, t, st, "G", bookings)
	serviceID := bookingtest.ServiceID(t, st, bookingtest.Service)
	liftCapacity(ctx, t, st, serviceID)
	var category string
	if err := st.Pool.QueryRow(ctx, `SELECT category FROM services WHERE id = $1`, serviceID).Scan(&category); err != nil {
		t.Fatal(err)
	}
	price, err := bookingtest.UnitPrice(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	const voucherPart = 500
	if price <= voucherPart {
		t.Fatalf("the booked service costs %d cents: no online part", price)
	}
	vouchers := make([]string, bookings)
	for i, b := range buyers {
		vouchers[i] = bookingtest.ServiceVoucher(t, st, bookingtest.VoucherSpec{Username: b.username, Categories: []string{category}, Cents: 5_000})
	}

	var faultsDone atomic.Bool
	var lastFault atomic.Int64
	faults := make(chan string, 8)
	go func() {
		defer faultsDone.Store(true)
		for _, name := range []string{"api-1", "worker-1", "temporal-history"} {
			time.Sleep(5 * time.Second)
			if err := c.Kill(name); err != nil {
				faults <- name + ": " + err.Error()
				return
			}
			time.Sleep(2 * time.Second)
			if err := c.Run(ctx, name); err != nil {
				faults <- name + ": " + err.Error()
				return
			}
			lastFault.Store(time.Now().UnixNano())
			faults <- name + " killed and started again"
		}
	}()

	loadStart := time.Now()
	for _, err := range runLoad(ctx, api, st, loadSpec{applicants: applicants, operator: operator, journeysAtOnce: 16,
		buyers: buyers, serviceID: serviceID, vouchers: vouchers, voucherPart: voucherPart, bookingsAtOnce: 8}) {
		t.Error(err)
	}
	loadDone := time.Now()
	if err := waitFor(2*time.Minute, func() (bool, error) { return faultsDone.Load(), nil }); err != nil {
		t.Fatalf("the faults did not finish: %v", err)
	}
	close(faults)
	var happened []string
	for f := range faults {
		happened = append(happened, f)
	}
	t.Logf("faults: %s", strings.Join(happened, ", "))
	if len(happened) != 3 || strings.Contains(strings.Join(happened, ","), ":") {
		t.Fatalf("faults: %v", happened)
	}
	if last := time.Unix(0, lastFault.Load()); !last.Before(loadDone) {
		t.Fatalf("the load ended at %s, before the last fault at %s: raise CLUSTER_JOURNEYS", loadDone.Format(time.StampMilli), last.Format(time.StampMilli))
	}
	if t.Failed() {
		return
	}
	loadRate := float64(journeys+bookings) / loadDone.Sub(loadStart).Seconds()
	verdicts = append(verdicts, clusterVerdict("cluster_journeys_and_bookings_per_s_under_faults", loadRate, "per_s", ">0", loadRate > 0))

	// Every journey ended exactly once.
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := st.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	if err := waitFor(3*time.Minute, func() (bool, error) {
		return count(`SELECT count(*) FROM vouchers v JOIN accounts a ON a.id = 'voucher:' || v.id
			WHERE v.tax_code LIKE '___FNC%' AND a.balance_cents > 0`) == journeys, nil
	}); err != nil {
		t.Errorf("first tranches: %v", err)
	}
	for what, q := range map[string]struct {
		sql  string
		want int
	}{
		"cases of the applicants":                {`SELECT count(*) FROM cases WHERE tax_code LIKE '___FNC%'`, journeys},
		"approved cases":                         {`SELECT count(*) FROM cases WHERE tax_code LIKE '___FNC%' AND status = 'approved'`, journeys},
		"vouchers":                               {`SELECT count(*) FROM vouchers WHERE tax_code LIKE '___FNC%'`, journeys},
		"award transfers":                        {`SELECT count(*) FROM transfers t JOIN vouchers v ON v.id = t.voucher_id WHERE v.tax_code LIKE '___FNC%' AND t.kind = 'award'`, journeys},
		"review tasks":                           {`SELECT count(*) FROM tasks t JOIN cases c ON c.id = t.case_id WHERE c.tax_code LIKE '___FNC%' AND t.kind = 'review'`, journeys},
		"bookings":                               {`SELECT count(*) FROM bookings b JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%'`, bookings},
		"paid bookings offered to a cooperative": {`SELECT count(*) FROM bookings b JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%' AND b.status = 'requested' AND b.payment_status = 'paid'`, bookings},
		"payment transfers":                      {`SELECT count(*) FROM transfers t JOIN bookings b ON b.id = t.booking_id JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%' AND t.kind = 'payment'`, bookings},
		"approved cases (all phases)":            {`SELECT count(*) FROM cases WHERE (tax_code LIKE '___TNC%' OR tax_code LIKE '___UNC%') AND status = 'approved'`, 2 * tputJourneys},
	} {
		if got := count(q.sql); got != q.want {
			t.Errorf("%s: %d, want %d", what, got, q.want)
		}
	}

	// Nothing charged twice: at the provider, one captured payment per
	// booking, of the online part, and no refund.
	paymentOf := map[string]string{}
	rows, err := st.Pool.Query(ctx, `SELECT b.payment_id FROM bookings b JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		paymentOf[id] = id
	}
	rows.Close()
	captured := 0
	for _, p := range c.PaySandbox().Payments() {
		if p.CapturedCents == 0 {
			continue
		}
		captured++
		if _, ok := paymentOf[p.ID]; !ok {
			t.Errorf("payment %s (%s) captured for no booking", p.ID, p.MerchantReference)
		}
		if p.CapturedCents != price-voucherPart || p.RefundedCents != 0 {
			t.Errorf("payment %s: captured %d, refunded %d; want %d, 0", p.ID, p.CapturedCents, p.RefundedCents, price-voucherPart)
		}
	}
	if captured != bookings {
		t.Errorf("captured payments at the provider: %d, want %d", captured, bookings)
	}

	// No workflow failed in Temporal.
	for _, status := range []string{"Failed", "Terminated", "TimedOut"} {
		resp, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "ExecutionStatus = '" + status + "'"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetCount() != 0 {
			t.Errorf("%d workflows %s", resp.GetCount(), status)
		}
	}

	// The ledger check of the production binary, with no grace period.
	cmd := exec.Command(filepath.Join(binDir, "sportello"), "verify", "--grace", "0s")
	cmd.Env = c.Env("tool", 0, -1)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("the books balance")) {
		t.Fatalf("sportello verify: %v\n%s", err, out)
	}
	t.Logf("sportello verify:\n%s", out)

	// Only the three kills stopped a process: nothing crashed on its own.
	for _, s := range c.Status() {
		if s.Crashes != 0 {
			t.Errorf("%s ended %d times on its own (log: %s)", s.Name, s.Crashes, s.Log)
		}
	}
	verdicts = append(verdicts, clusterVerdict("cluster_test_duration", time.Since(began).Seconds(), "s", "<=3600", time.Since(began) <= time.Hour))
	t.Logf("load: %d journeys and %d bookings in %s under faults; throughput phases of %d journeys each",
		journeys, bookings, loadDone.Sub(loadStart).Round(time.Second), tputJourneys)
	for _, v := range verdicts {
		fmt.Println(v)
	}
}
