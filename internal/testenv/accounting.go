package testenv

import (
	"net/http/httptest"
	"testing"
	"time"

	"sportello/internal/accounting"
)

// Accounting starts a sandbox accounting system with opts on loopback for
// the test and returns it with a client of it (no client retries: the
// activities' retry policies retry; an attempt waits up to 15s, long enough
// for a test to hold a request with a "hold" fault and act meanwhile).
// Both end with the test.
func Accounting(t testing.TB, opts accounting.Options) (*accounting.Server, *accounting.Client) {
	t.Helper()
	acc := accounting.New(opts)
	srv := httptest.NewServer(acc)
	t.Cleanup(func() {
		acc.Close()
		srv.Close()
	})
	cl, err := accounting.NewClient(accounting.ClientConfig{BaseURL: srv.URL, AttemptTimeout: 15 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return acc, cl
}
