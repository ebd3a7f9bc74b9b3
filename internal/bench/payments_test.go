package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sportello/internal/payments"
	"sportello/internal/paysandbox"
	"sportello/internal/testenv"
)

// BenchmarkPayments measures payment intents created per second through
// internal/payments (go-retryablehttp, idempotency key, JSON decoding, error
// classification) against the sandbox provider on loopback, next to the
// same POST sent with a bare net/http client to the same server as the
// baseline, and prints their ratio. Tune with BENCH_PAYMENTS (intents per
// run, default 4000), BENCH_PAYMENTS_CONCURRENCY (default 8) and
// BENCH_PAYMENTS_ROUNDS (alternated runs of each, default 5). It prints
// and never asserts on time.
func BenchmarkPayments(b *testing.B) {
	n := testenv.EnvInt("BENCH_PAYMENTS", 4000)
	conc := testenv.EnvInt("BENCH_PAYMENTS_CONCURRENCY", 8)
	sb, err := paysandbox.New(paysandbox.Options{Secret: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer sb.Close()
	defer srv.Close()
	client, err := payments.New(payments.Config{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	req := payments.IntentRequest{AmountCents: 2500, Currency: "EUR", Description: "Centro estivo", MerchantReference: "bench",
		ReturnURL: "http://127.0.0.1:9/done", CallbackURL: "http://127.0.0.1:9/callback"}
	body, _ := json.Marshal(req)
	bare := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}, Timeout: 5 * time.Second}

	// run sends n requests, conc at a time, and returns requests per second.
	run := func(prefix string, one func(key string) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, conc)
		start := time.Now()
		for range conc {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					if err := one(fmt.Sprintf("%s-%d", prefix, i)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return float64(n) / took.Seconds()
	}
	viaBare := func(key string) error {
		r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/v1/payment_intents", bytes.NewReader(body))
		if err != nil {
			return err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", key)
		resp, err := bare.Do(r)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("bare POST: %d", resp.StatusCode)
		}
		return nil
	}
	viaClient := func(key string) error {
		p, err := client.CreateIntent(context.Background(), key, req)
		if err == nil && p.Status != payments.StatusPending {
			err = fmt.Errorf("intent %s is %s", p.ID, p.Status)
		}
		return err
	}
	// Each run lasts a fraction of a second, so one pair is at the mercy of
	// a collection or a timer elsewhere in the process: the runs alternate,
	// rounds times each, and the medians compare.
	rounds := testenv.EnvInt("BENCH_PAYMENTS_ROUNDS", 5)
	for i := range b.N {
		run(fmt.Sprintf("warm-%d", i), viaBare) // connections and the sandbox's maps warmed up
		var bases, fulls []float64
		for r := range rounds {
			bases = append(bases, run(fmt.Sprintf("bare-%d-%d", i, r), viaBare))
			fulls = append(fulls, run(fmt.Sprintf("client-%d-%d", i, r), viaClient))
		}
		base, full := median(bases), median(fulls)
		ratio := full / base
		fmt.Printf("\nPayments benchmark (%d intents, concurrency %d, sandbox provider on loopback; medians of %d alternated runs)\n",
			n, conc, rounds)
		fmt.Printf("  bare net/http POST /v1/payment_intents:  %9.0f per second (baseline)\n", base)
		fmt.Printf("  payments.Client.CreateIntent:            %9.0f per second\n", full)
		fmt.Printf("  ratio client / baseline:                 %9.2f\n\n", ratio)
		fmt.Println(verdict("payments_ratio", ratio, "ratio", ">=0.80", ratio >= 0.80))
		fmt.Println(verdict("payments_per_second", full, "intents/s", "report", true))
		fmt.Println(verdict("payments_bare_per_second", base, "requests/s", "report", true))
		b.ReportMetric(base, "bare/s")
		b.ReportMetric(full, "intents/s")
		b.ReportMetric(ratio, "ratio")
	}
	if want := (1 + 2*rounds) * n * b.N; len(sb.Payments()) != want {
		b.Fatalf("%d payments at the provider, want %d (one per key)", len(sb.Payments()), want)
	}
}
