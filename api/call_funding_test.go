package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"sportello/api"
	"sportello/internal/accounting"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// publishCall publishes call id as Tradate's supervisor (202, the call
// publishing) and waits until its funding leaves it publishing.
func (e *env) publishCall(id string) callView {
	e.t.Helper()
	r := e.do("POST", "/api/v1/calls/"+id+"/publish", "supervisore", nil)
	expectStatus(e.t, r, http.StatusAccepted)
	var c callView
	r.json(e.t, &c)
	if c.Status != store.StatusPublishing {
		e.t.Fatalf("publish answered %s", r.body)
	}
	return e.waitCallFunded(id)
}

// waitCallFunded waits until call id is no longer publishing.
func (e *env) waitCallFunded(id string) callView {
	e.t.Helper()
	var c callView
	waitFor(e.t, "call "+id+" funded or refused", func() bool {
		r := e.do("GET", "/api/v1/calls/"+id, "supervisore", nil)
		expectStatus(e.t, r, http.StatusOK)
		r.json(e.t, &c)
		return c.Status != store.StatusPublishing
	})
	return c
}

// newDraftCall creates a draft call of Tradate with budget.
func (e *env) newDraftCall(budget int64) callView {
	e.t.Helper()
	r := e.do("POST", "/api/v1/calls", "supervisore", callTerms(budget))
	expectStatus(e.t, r, http.StatusCreated)
	var c callView
	r.json(e.t, &c)
	return c
}

func callTerms(budget int64) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"municipality": "tradate", "name": "Buoni spesa d'inverno", "form_id": "buoni-spesa", "form_version": 1,
		"isee_threshold_cents": 20_000_00, "budget_cents": budget,
		"rule":     map[string]any{"base_cents": 15000, "per_extra_member_cents": 0, "per_minor_cents": 0, "max_cents": 15000},
		"tranches": []any{map[string]any{"percent": 100, "after_days": 0}},
		"opens_at": now.Add(-time.Minute), "closes_at": now.AddDate(0, 0, 30), "expires_at": now.AddDate(0, 0, 90),
	}
}

// funded counts call id's fund and the ledger transfers into it.
func (e *env) funded(id string) (funds, transfers int) {
	e.t.Helper()
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM funds WHERE id = $1),
		(SELECT count(*) FROM transfers WHERE fund_id = $1)`, id).Scan(&funds, &transfers); err != nil {
		e.t.Fatal(err)
	}
	return funds, transfers
}

// TestCallFundingWaitsForTheCommitment: publishing a call asks the
// accounting system to commit its budget; while it does not answer (503)
// the call is publishing, not open, its terms frozen and nothing booked,
// and a second publication joins the first; once it answers, the call is
// published with the commitment's number and funded once. Every request
// carried the key funding:<call id> and one commitment was made. The
// ledger check is clean.
func TestCallFundingWaitsForTheCommitment(t *testing.T) {
	e := newEnv(t)
	c := e.newDraftCall(10_000_00)
	key := store.CallFundingKey(c.ID)
	if err := e.accounting.Inject(accounting.Fault{Kind: "fail-503", Op: "commit", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r := e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil)
		expectStatus(t, r, http.StatusAccepted)
	}
	waitFor(t, "the commitment asked twice", func() bool { return e.accounting.Commits(key) >= 2 })
	r := e.do("GET", "/api/v1/calls/"+c.ID, "supervisore", nil)
	var got callView
	r.json(t, &got)
	if got.Status != store.StatusPublishing || got.CommitmentNumber != "" {
		t.Fatalf("accounting down: %s", r.body)
	}
	if funds, transfers := e.funded(c.ID); funds != 0 || transfers != 0 {
		t.Fatalf("accounting down: %d funds, %d transfers", funds, transfers)
	}
	expectStatus(t, e.do("GET", "/api/v1/open-calls/"+c.ID, "", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/calls/"+c.ID, "cittadino.tradate", nil), http.StatusNotFound)
	r = e.do("PUT", "/api/v1/calls/"+c.ID, "supervisore", callTerms(20_000_00))
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "call_publishing" {
		t.Errorf("terms changed while publishing: %s", code)
	}

	// The supervisor's page says so, and offers no publication or edit.
	b := e.browser()
	b.login("supervisore")
	p := b.get("/calls/" + c.ID)
	expectPage(t, p, http.StatusOK, "In attesa di conferma", "nessun importo è spostato")
	if strings.Contains(p.body, "/publish") {
		t.Error("the page offers to publish a call being published")
	}

	e.accounting.ClearFaults()
	got = e.waitCallFunded(c.ID)
	commitments := e.accounting.Commitments()
	if got.Status != store.StatusPublished || len(commitments) != 1 || got.CommitmentNumber != commitments[0].Number ||
		got.CommitmentCents != 10_000_00 || commitments[0].CallID != c.ID {
		t.Fatalf("confirmed: %+v, commitments %+v", got, commitments)
	}
	if funds, transfers := e.funded(c.ID); funds != 1 || transfers != 1 {
		t.Fatalf("confirmed: %d funds, %d transfers", funds, transfers)
	}
	if b, err := store.Balance(context.Background(), e.st.Pool, store.FundAccountID(c.ID)); err != nil || b != 10_000_00 {
		t.Fatalf("the fund holds %d (%v)", b, err)
	}
	expectStatus(t, e.do("GET", "/api/v1/open-calls/"+c.ID, "", nil), http.StatusOK)
	expectPage(t, b.get("/calls/"+c.ID), http.StatusOK, "Impegno di spesa n. "+got.CommitmentNumber, "Il bando è pubblicato")
	r = e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil)
	expectStatus(t, r, http.StatusConflict)
	if len(e.accounting.Commitments()) != 1 {
		t.Error("a second commitment")
	}
	recordHistoryIn(t, e.temporal, "call-funding", contract.CallFundingWorkflowID(c.ID), "unavailable-then-confirmed.json")
	verifyClean(t, e.st)
}

// TestCallFundingRefused: a budget over the municipality's appropriation
// is refused by the accounting system: the call is a draft again with the
// refusal, nothing was committed or booked; with a lower budget it is
// published and funded once.
func TestCallFundingRefused(t *testing.T) {
	e := newEnv(t)
	c := e.newDraftCall(accounting.DefaultCommitmentLimit + 1_00)
	got := e.publishCall(c.ID)
	if got.Status != store.StatusDraft || got.FundingRefusal != "budget_exceeded" || got.CommitmentNumber != "" {
		t.Fatalf("refused: %+v", got)
	}
	if funds, transfers := e.funded(c.ID); funds != 0 || transfers != 0 || len(e.accounting.Commitments()) != 0 {
		t.Fatalf("refused: %d funds, %d transfers, %d commitments", funds, transfers, len(e.accounting.Commitments()))
	}
	recordHistoryIn(t, e.temporal, "call-funding", contract.CallFundingWorkflowID(c.ID), "refused.json")
	b := e.browser()
	b.login("supervisore")
	expectPage(t, b.get("/calls/"+c.ID), http.StatusOK, "lo stanziamento del comune non copre questo budget", "Pubblica il bando")
	b.get("/lang/en?next=/")
	expectPage(t, b.get("/calls/"+c.ID), http.StatusOK, "appropriation does not cover this budget", "Publish the call")

	expectStatus(t, e.do("PUT", "/api/v1/calls/"+c.ID, "supervisore", callTerms(50_000_00)), http.StatusOK)
	got = e.publishCall(c.ID)
	if got.Status != store.StatusPublished || got.FundingRefusal != "" || got.CommitmentCents != 50_000_00 {
		t.Fatalf("published after the refusal: %+v", got)
	}
	if funds, transfers := e.funded(c.ID); funds != 1 || transfers != 1 || len(e.accounting.Commitments()) != 1 {
		t.Fatalf("published: %d funds, %d transfers, %d commitments", funds, transfers, len(e.accounting.Commitments()))
	}
	verifyClean(t, e.st)
}

func verifyClean(t *testing.T, st *store.Store) {
	t.Helper()
	r, err := store.VerifyLedger(context.Background(), st.Pool, store.VerifyOptions{})
	if err != nil || !r.OK() {
		t.Fatalf("ledger check: %v %s", err, r.FirstProblem())
	}
}

// temporalDown refuses to start the funding of calls while down is set,
// as a Temporal frontend that does not answer.
type temporalDown struct {
	client.Client
	down *atomic.Bool
}

func (c temporalDown) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	if c.down.Load() && strings.HasPrefix(o.ID, contract.CallFundingWorkflowID("")) {
		return nil, serviceerror.NewUnavailable("temporal is down")
	}
	return c.Client.ExecuteWorkflow(ctx, o, wf, args...)
}

// TestCallFundingUnavailable: when the funding cannot be started, the
// publication answers 503 funding_unavailable (documented), the call stays
// publishing with nothing committed or booked; publishing again starts it
// and the call is funded once.
func TestCallFundingUnavailable(t *testing.T) {
	down := &atomic.Bool{}
	down.Store(true)
	e := newEnvWith(t, func(d *api.Deps) { d.Temporal = temporalDown{Client: d.Temporal, down: down} })
	c := e.newDraftCall(3_000_00)
	r := e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil)
	expectStatus(t, r, http.StatusServiceUnavailable)
	if code := r.errorBody(t).Code; code != "funding_unavailable" {
		t.Fatalf("code %s", code)
	}
	r = e.do("GET", "/api/v1/calls/"+c.ID, "supervisore", nil)
	var got callView
	r.json(t, &got)
	if got.Status != store.StatusPublishing {
		t.Fatalf("after a 503: %s", r.body)
	}
	if funds, transfers := e.funded(c.ID); funds != 0 || transfers != 0 || len(e.accounting.Commitments()) != 0 {
		t.Fatalf("after a 503: %d funds, %d transfers, %d commitments", funds, transfers, len(e.accounting.Commitments()))
	}
	down.Store(false)
	if got = e.publishCall(c.ID); got.Status != store.StatusPublished || got.CommitmentCents != 3_000_00 {
		t.Fatalf("published again: %+v", got)
	}
	if funds, transfers := e.funded(c.ID); funds != 1 || transfers != 1 || len(e.accounting.Commitments()) != 1 {
		t.Fatalf("published: %d funds, %d transfers, %d commitments", funds, transfers, len(e.accounting.Commitments()))
	}
}
