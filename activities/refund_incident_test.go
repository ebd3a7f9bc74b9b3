package activities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/bookingtest"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// refundWorkflow runs RefundSessions with the saga's refund retry policy
// (no attempt limit there; here at most 12 attempts, so that the test ends).
func refundWorkflow(ctx workflow.Context, in activities.RefundInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: 5 * time.Minute, MaximumAttempts: 12}})
	var a *activities.Bookings
	return workflow.ExecuteActivity(ctx, a.RefundSessions, in).Get(ctx, nil)
}

// A refund that keeps failing for a retryable reason (the provider answers
// 503) is retried, and from attempt activities.RefundIncidentAttempts on it
// is an incident: one for the refund key however many attempts report it,
// with one notice per supervisor in the outbox.
func TestRefundStillFailingBecomesOneIncident(t *testing.T) {
	_, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b, err := bookingtest.Checkout(t, st, 2, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := paysandbox.New(paysandbox.Options{Secret: "refund-incident-secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	pay, err := payments.New(payments.Config{BaseURL: srv.URL, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pay.CreateIntent(ctx, "intent", payments.IntentRequest{AmountCents: b.Online, Description: "test", MerchantReference: b.ID,
		ReturnURL: srv.URL + "/back", CallbackURL: "http://127.0.0.1:1/callback"})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(p.CheckoutURL+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := sb.Inject(paysandbox.Fault{Kind: "fail-503", Op: "refund", Times: 100}); err != nil {
		t.Fatal(err)
	}

	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(refundWorkflow)
	env.RegisterActivity(&activities.Bookings{Store: st, Payments: pay, PortalURL: "http://portal.test"})
	key := "booking:" + b.ID + ":refund:1"
	env.ExecuteWorkflow(refundWorkflow, activities.RefundInput{BookingID: b.ID, PaymentID: p.ID, Key: key, Seqs: []int{1, 2},
		AmountCents: b.Online, Reason: "test"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() == nil {
		t.Fatalf("the refund did not fail: %v", env.GetWorkflowError())
	}
	if n := sb.Attempts(key); n != 12 {
		t.Fatalf("%d refund calls, want 12 (every attempt retried)", n)
	}
	var n, notices int
	var status string
	var amount int64
	if err := st.Pool.QueryRow(ctx, `SELECT count(*), coalesce(min(status), ''), coalesce(min(amount_cents), 0) FROM incidents WHERE key = $1`, key).Scan(&n, &status, &amount); err != nil {
		t.Fatal(err)
	}
	if n != 1 || status != store.IncidentOpen || amount != b.Online {
		t.Fatalf("%d incidents (%s, %d cents), want one open of %d", n, status, amount, b.Online)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE kind = 'staff_incident' AND recipient = 'ufficio.piano@example.org'`).Scan(&notices); err != nil {
		t.Fatal(err)
	}
	if notices != 1 {
		t.Fatalf("%d incident notices to the supervisor, want 1", notices)
	}
}
