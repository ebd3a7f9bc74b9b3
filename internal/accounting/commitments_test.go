package accounting

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

func commitment(call string, cents int64) CommitmentRequest {
	return CommitmentRequest{District: "tradate", Municipality: "tradate", CallID: call, Description: "Bando", AmountCents: cents}
}

// A commitment is confirmed once per key: the same request again answers
// the same number, another request under the key is refused, and another
// key for a call already committed is a duplicate.
func TestCommitIsIdempotent(t *testing.T) {
	s, c := start(t, Options{})
	ctx := context.Background()
	a, err := c.Commit(ctx, "funding:c1", commitment("c1", 5_000_00))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Commit(ctx, "funding:c1", commitment("c1", 5_000_00))
	if err != nil {
		t.Fatal(err)
	}
	if a.Number == "" || a.Number != b.Number || a.AmountCents != 5_000_00 || len(s.Commitments()) != 1 || s.Commits("funding:c1") != 2 {
		t.Fatalf("replay gave %+v then %+v, %d commitments", a, b, len(s.Commitments()))
	}
	var ce *CallError
	if _, err := c.Commit(ctx, "funding:c1", commitment("c1", 6_000_00)); !errors.As(err, &ce) || ce.Code != "idempotency_key_reused" || !ce.Permanent {
		t.Fatalf("another amount under the key: %v", err)
	}
	if _, err := c.Commit(ctx, "another", commitment("c1", 5_000_00)); !errors.As(err, &ce) || ce.Code != "duplicate_reference" {
		t.Fatalf("another key for the call: %v", err)
	}
	if _, err := c.Commit(ctx, "", commitment("c2", 1)); !IsPermanent(err) {
		t.Fatalf("no key: %v", err)
	}
}

// A budget over the municipality's appropriation is refused (permanent),
// commits nothing and does not bind the key: the call's lower budget is
// then committed under the same key. Invalid requests are refused too.
func TestCommitRefusals(t *testing.T) {
	s, c := start(t, Options{CommitmentLimit: 10_000_00})
	ctx := context.Background()
	if _, err := c.Commit(ctx, "funding:a", commitment("a", 8_000_00)); err != nil {
		t.Fatal(err)
	}
	var ce *CallError
	_, err := c.Commit(ctx, "funding:b", commitment("b", 3_000_00))
	if !errors.As(err, &ce) || ce.StatusCode != 409 || ce.Code != "budget_exceeded" || !ce.Permanent {
		t.Fatalf("over the appropriation: %v", err)
	}
	if len(s.Commitments()) != 1 {
		t.Fatalf("%d commitments after a refusal", len(s.Commitments()))
	}
	if got, err := c.Commit(ctx, "funding:b", commitment("b", 2_000_00)); err != nil || got.AmountCents != 2_000_00 {
		t.Fatalf("the lower budget under the same key: %+v %v", got, err)
	}
	other := commitment("c", 1_00)
	other.Municipality = "vedano-olona" // another municipality's appropriation
	if _, err := c.Commit(ctx, "funding:c", other); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Commit(ctx, "funding:d", commitment("", 0)); !errors.As(err, &ce) || ce.StatusCode != 422 || ce.Fields["call_id"] == "" || ce.Fields["amount_cents"] == "" {
		t.Fatalf("invalid: %v", err)
	}
}

// Unavailability is temporary (the activity retries) and commits nothing.
func TestCommitUnavailable(t *testing.T) {
	s, c := start(t, Options{})
	if err := s.Inject(Fault{Kind: "fail-503", Op: "commit", Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Commit(context.Background(), "funding:x", commitment("x", 1_00))
	if err == nil || IsPermanent(err) || len(s.Commitments()) != 0 {
		t.Fatalf("unavailable: %v, %d commitments", err, len(s.Commitments()))
	}
	if got, err := c.Commit(context.Background(), "funding:x", commitment("x", 1_00)); err != nil || got.Number == "" {
		t.Fatalf("after: %+v %v", got, err)
	}
}

// A "hold" fault keeps a commitment request waiting, uncommitted, until
// released (POST /sandbox/release); then it is served as usual.
func TestHoldKeepsACommitmentWaiting(t *testing.T) {
	s := New(Options{})
	hs := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); hs.Close() })
	c, err := NewClient(ClientConfig{BaseURL: hs.URL, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Inject(Fault{Kind: "hold", Op: "commit"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Commit(context.Background(), "funding:h1", commitment("h1", 1_00))
		done <- err
	}()
	for s.Held() == 0 {
		runtime.Gosched()
	}
	if len(s.Commitments()) != 0 {
		t.Fatal("committed while held")
	}
	resp, err := http.Post(hs.URL+"/sandbox/release", "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("release: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := s.Commitments(); len(got) != 1 || got[0].CallID != "h1" || s.Held() != 0 {
		t.Fatalf("released: %+v, %d held", got, s.Held())
	}
}
