package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/api"
	"sportello/internal/apicontract"
	"sportello/internal/app"
	"sportello/internal/app/applications"
	"sportello/internal/testenv"
)

// downAPI is an API whose Temporal server does not answer.
func (e *env) downAPI() (*httptest.Server, client.Client) {
	e.t.Helper()
	lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: testenv.Namespace})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(lazy.Close)
	down := httptest.NewServer(apicontract.For(e.t, api.New(api.Deps{Store: e.st, Temporal: lazy, TaskQueue: e.queue})))
	e.t.Cleanup(down.Close)
	return down, lazy
}

// starterCore is the worker's case starter on Temporal client c.
func (e *env) starterCore(c client.Client) *app.Core {
	return &app.Core{Store: e.st, API: e.st.API(), Temporal: c, Log: slog.Default(), Now: time.Now, TaskQueue: e.queue}
}

// pending tells whether caseID waits for its workflow's start.
func (e *env) pending(caseID string) bool {
	e.t.Helper()
	ids, err := e.st.PendingStarts(context.Background(), time.Now().Add(time.Hour), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.Contains(ids, caseID)
}

// TestApplicationStoredWhileTemporalIsDown: the answer comes from the
// case's commit, so an application is filed (201) while Temporal is down;
// the case stays pending, a starter pass that cannot reach Temporal leaves
// it pending (the crash between the commit and the start), and the next
// pass with Temporal back starts its workflow. A resend with the same key
// is the same case.
func TestApplicationStoredWhileTemporalIsDown(t *testing.T) {
	e := newEnv(t)
	down, lazy := e.downAPI()
	key := hdr{"Idempotency-Key": "filed-while-down"}
	healthy := e.srv
	e.srv = down
	c := e.apply("cittadino.tradate", key)
	e.srv = healthy
	if c.ID == "" || c.Status != "submitted" {
		t.Fatalf("filed while Temporal is down: %+v", c)
	}
	if !e.pending(c.ID) {
		t.Fatalf("case %s is not pending its workflow's start", c.ID)
	}

	ctx := context.Background()
	later := time.Now().Add(time.Minute)
	n, _, err := applications.StartPending(ctx, e.starterCore(lazy), later)
	if err == nil || n != 0 {
		t.Fatalf("starter without Temporal: %d started, err %v", n, err)
	}
	if !e.pending(c.ID) {
		t.Fatalf("case %s no longer pending after a failed start", c.ID)
	}
	// A case filed after `before` waits for its grace period.
	if n, _, err := applications.StartPending(ctx, e.starterCore(e.temporal), time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("starter before the case's filing: %d started, err %v", n, err)
	}

	n, started, err := applications.StartPending(ctx, e.starterCore(e.temporal), later)
	if err != nil || n != 1 || started != 1 {
		t.Fatalf("starter with Temporal back: %d recorded, %d started, err %v", n, started, err)
	}
	if e.pending(c.ID) {
		t.Fatalf("case %s still pending after its start", c.ID)
	}
	e.waitTask("operatore.tradate", c.ID)

	// A case whose workflow runs but is still marked pending (its pre-check
	// lags behind in a surge) is recorded without a second start.
	if _, err := e.st.Pool.Exec(ctx, `UPDATE cases SET start_pending = true WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	n, started, err = applications.StartPending(ctx, e.starterCore(e.temporal), later)
	if err != nil || n != 1 || started != 0 {
		t.Fatalf("starter on a running workflow: %d recorded, %d started, err %v", n, started, err)
	}

	again := e.apply("cittadino.tradate", key)
	if again.ID != c.ID {
		t.Fatalf("resend gave case %s, want %s", again.ID, c.ID)
	}
	if n := e.countCases(); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
}

// TestApplicationStartedAfterTheAnswer: on a healthy platform the case's
// workflow starts after the 201 and its pre-check clears the pending mark,
// so the starter has nothing to do.
func TestApplicationStartedAfterTheAnswer(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	e.waitTask("operatore.tradate", c.ID)
	if e.pending(c.ID) {
		t.Fatalf("case %s still pending after its pre-check", c.ID)
	}
	if n, _, err := applications.StartPending(context.Background(), e.starterCore(e.temporal), time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("starter on a healthy platform: %d started, err %v", n, err)
	}
}

// Without an Idempotency-Key a second filing is refused as a second
// application, names the case in progress and starts its workflow.
func TestApplicationInProgressStartsItsWorkflow(t *testing.T) {
	e := newEnv(t)
	down, _ := e.downAPI()
	healthy := e.srv
	e.srv = down
	stored := e.apply("cittadino.vedano").ID
	e.srv = healthy

	r := e.do("POST", "/api/v1/applications", "cittadino.vedano", application(t, "cittadino.vedano"))
	expectStatus(t, r, http.StatusConflict)
	if eb := r.errorBody(t); eb.Code != "application_in_progress" || eb.CaseID != stored {
		t.Fatalf("409 body %s, want case %s", r.body, stored)
	}
	e.waitTask("operatore.vedano", stored)
}
