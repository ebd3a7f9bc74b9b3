package accounting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func sample(ref string) Submission {
	return Submission{Reference: ref, Number: 7, Kind: "cooperative", District: "tradate", Municipality: "tradate",
		PayeeID: "baobab", PayeeName: "Baobab", Period: "2026-10", TotalCents: 3000,
		Lines: []Line{{Seq: 1, Description: "a", AmountCents: 1000, Reference: "s1"}, {Seq: 2, Description: "b", AmountCents: 2000, Reference: "s2"}},
		PDF:   []byte("%PDF-1.4 test")}
}

func start(t *testing.T, opts Options) (*Server, *Client) {
	t.Helper()
	s := New(opts)
	hs := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); hs.Close() })
	c, err := NewClient(ClientConfig{BaseURL: hs.URL, AttemptTimeout: 2 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestSubmitIsIdempotent(t *testing.T) {
	s, c := start(t, Options{PayAfter: -1})
	ctx := context.Background()
	a, err := c.Submit(ctx, "invoice:1", sample("1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Submit(ctx, "invoice:1", sample("1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.Status != StatusReceived || len(s.Invoices()) != 1 {
		t.Fatalf("replay gave %+v then %+v, %d invoices", a, b, len(s.Invoices()))
	}
	other := sample("1")
	other.TotalCents, other.Lines = 1000, other.Lines[:1]
	_, err = c.Submit(ctx, "invoice:1", other)
	var ce *CallError
	if !errors.As(err, &ce) || ce.StatusCode != 422 || ce.Code != "idempotency_key_reused" || !ce.Permanent {
		t.Fatalf("other body with the same key: %v", err)
	}
	_, err = c.Submit(ctx, "another-key", sample("1"))
	if !errors.As(err, &ce) || ce.StatusCode != 409 || ce.Code != "duplicate_reference" {
		t.Fatalf("same reference with another key: %v", err)
	}
}

func TestValidation(t *testing.T) {
	_, c := start(t, Options{})
	bad := sample("2")
	bad.Lines, bad.TotalCents, bad.PDF = nil, 5, []byte("not a pdf")
	bad.Kind = "merchant"
	_, err := c.Submit(context.Background(), "k2", bad)
	var ce *CallError
	if !errors.As(err, &ce) || ce.StatusCode != 422 {
		t.Fatalf("invalid invoice: %v", err)
	}
	for _, f := range []string{"lines", "total_cents", "pdf", "declaration"} {
		if ce.Fields[f] == "" {
			t.Errorf("no field error for %s: %v", f, ce.Fields)
		}
	}
}

func TestFailuresThenSuccessAndPayment(t *testing.T) {
	now := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	s, c := start(t, Options{PayAfter: time.Hour, Now: func() time.Time { return now }})
	if err := s.Inject(Fault{Kind: "fail-503", Op: "submit", Times: 2}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		_, err := c.Submit(ctx, "k3", sample("3"))
		var ce *CallError
		if !errors.As(err, &ce) || ce.StatusCode != 503 || ce.Permanent {
			t.Fatalf("attempt %d: want a temporary 503, got %v", i+1, err)
		}
	}
	rec, err := c.Submit(ctx, "k3", sample("3"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Submissions("k3") != 3 || len(s.Invoices()) != 1 {
		t.Fatalf("%d submissions, %d invoices", s.Submissions("k3"), len(s.Invoices()))
	}
	got, err := c.Invoice(ctx, rec.ID)
	if err != nil || got.Status != StatusReceived {
		t.Fatalf("before PayAfter: %+v %v", got, err)
	}
	now = now.Add(time.Hour)
	got, err = c.Invoice(ctx, rec.ID)
	if err != nil || got.Status != StatusPaid || got.PaymentRef == "" || got.PaidAt == nil {
		t.Fatalf("after PayAfter: %+v %v", got, err)
	}
	again, _ := c.Invoice(ctx, rec.ID)
	if again.PaymentRef != got.PaymentRef {
		t.Fatalf("payment reference changed: %s then %s", got.PaymentRef, again.PaymentRef)
	}
	if _, err := c.Invoice(ctx, "inv_missing"); !IsPermanent(err) {
		t.Fatalf("unknown invoice: %v", err)
	}
}

func TestHangTimesOutAndClientRetries(t *testing.T) {
	s := New(Options{PayAfter: -1})
	hs := httptest.NewServer(s)
	defer func() { s.Close(); hs.Close() }()
	c, err := NewClient(ClientConfig{BaseURL: hs.URL, AttemptTimeout: 200 * time.Millisecond, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Inject(Fault{Kind: "hang", Op: "submit"})
	_ = s.Inject(Fault{Kind: "fail-500", Op: "submit"})
	rec, err := c.Submit(context.Background(), "k4", sample("4"))
	if err != nil || rec.Status != StatusReceived {
		t.Fatalf("client retries through a hang and a 500: %+v %v", rec, err)
	}
	if n := s.Submissions("k4"); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	// The control endpoints: a manual payment and a fault over HTTP.
	resp, err := http.Post(hs.URL+"/v1/invoices/"+rec.ID+"/payment", "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("pay: %v %v", resp, err)
	}
	var paid Record
	_ = json.NewDecoder(resp.Body).Decode(&paid)
	resp.Body.Close()
	if paid.Status != StatusPaid {
		t.Fatalf("manual payment: %+v", paid)
	}
	resp, _ = http.Post(hs.URL+"/sandbox/faults", "application/json", bytes.NewReader([]byte(`{"kind":"explode"}`)))
	if resp.StatusCode != 422 {
		t.Fatalf("unknown fault kind: %d", resp.StatusCode)
	}
	resp.Body.Close()
}
