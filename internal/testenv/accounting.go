package testenv

import (
	"net/http/httptest"
	"testing"
	"time"

	"sportello/internal/accounting"
)

// Accounting starts a sandbox accounting system with opts on loopback for
// the test and returns it with a client of it (quick attempts, no client
// retries: the activities' retry policies retry). Both end with the test.
func Accounting(t testing.TB, opts accounting.Options) (*accounting.Server, *accounting.Client) {
	t.Helper()
	acc := accounting.New(opts)
	srv := httptest.NewServer(acc)
	t.Cleanup(func() {
		acc.Close()
		srv.Close()
	})
	cl, err := accounting.NewClient(accounting.ClientConfig{BaseURL: srv.URL, AttemptTimeout: 2 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return acc, cl
}
