package api_test

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"sportello/api"
	"sportello/internal/accounting"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// cancelPath is the withdrawal of call id's publication.
func cancelPath(id string) string { return "/api/v1/calls/" + id + "/publication/cancel" }

// expectConflict checks r is a 409 with code.
func expectConflict(t *testing.T, r resp, code string) {
	t.Helper()
	expectStatus(t, r, http.StatusConflict)
	if got := r.errorBody(t).Code; got != code {
		t.Errorf("conflict %s, want %s (%s)", got, code, r.body)
	}
}

// TestCallPublicationCancelledWhileUnavailable: while the accounting
// system answers 503, a supervisor of the call's district withdraws the
// publication: the call is a draft again, withdrawn by them, editable,
// with nothing committed or booked and an audit row; no one else may
// (operator and citizen 403, another district's supervisor 404), and a
// draft or a published call has no publication to withdraw (409).
// Published again once the accounting system is back, the call is funded
// once with one commitment; the ledger check is clean.
func TestCallPublicationCancelledWhileUnavailable(t *testing.T) {
	e := newEnv(t)
	draft := e.newDraftCall(1_000_00)
	expectConflict(t, e.do("POST", cancelPath(draft.ID), "supervisore", nil), "call_not_publishing")

	c := e.newDraftCall(4_000_00)
	key := store.CallFundingKey(c.ID)
	if err := e.accounting.Inject(accounting.Fault{Kind: "fail-503", Op: "commit", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil), http.StatusAccepted)
	waitFor(t, "the commitment asked twice", func() bool { return e.accounting.Commits(key) >= 2 })

	expectStatus(t, e.do("POST", cancelPath(c.ID), "operatore.tradate", nil), http.StatusForbidden)
	expectStatus(t, e.do("POST", cancelPath(c.ID), "cittadino.tradate", nil), http.StatusForbidden)
	expectStatus(t, e.do("POST", cancelPath(c.ID), "supervisore.padova", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", cancelPath("no-such-call"), "supervisore", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", cancelPath(c.ID), "supervisore", `{"reason":1}`), http.StatusUnprocessableEntity)

	// The page offers the withdrawal, after a confirmation.
	b := e.browser()
	b.login("supervisore")
	expectPage(t, b.get("/calls/"+c.ID), http.StatusOK, `action="/calls/`+c.ID+`/publication/cancel"`, "Annulla pubblicazione")
	expectPage(t, b.post("/calls/"+c.ID+"/publication/cancel", url.Values{}), http.StatusOK,
		"Annullare la pubblicazione del bando", `name="confirm" value="1"`, "Sì, annulla la pubblicazione")
	if funds, _ := e.funded(c.ID); funds != 0 || e.accounting.Commits(key) < 2 {
		t.Fatal("the confirmation page changed something")
	}
	r := e.do("GET", "/api/v1/calls/"+c.ID, "supervisore", nil)
	var got callView
	r.json(t, &got)
	if got.Status != store.StatusPublishing {
		t.Fatalf("withdrawn without its confirmation: %s", r.body)
	}

	r = e.do("POST", cancelPath(c.ID), "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &got)
	if got.Status != store.StatusDraft || got.FundingRefusal != store.FundingCancelled || got.PublicationCancelledBy != "supervisore" ||
		got.PublicationCancelledAt == nil || got.CommitmentNumber != "" {
		t.Fatalf("withdrawn: %s", r.body)
	}
	if funds, transfers := e.funded(c.ID); funds != 0 || transfers != 0 || len(e.accounting.Commitments()) != 0 {
		t.Fatalf("withdrawn: %d funds, %d transfers, %d commitments", funds, transfers, len(e.accounting.Commitments()))
	}
	var audited int
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'call_publication_cancelled'
		AND actor_username = 'supervisore' AND detail->>'call_id' = $1`, c.ID).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("%d audit rows (%v)", audited, err)
	}
	expectConflict(t, e.do("POST", cancelPath(c.ID), "supervisore", nil), "call_not_publishing")
	expectPage(t, b.follow(b.post("/calls/"+c.ID+"/publication/cancel", url.Values{"confirm": {"1"}})), http.StatusOK,
		"non è in attesa di conferma", "Pubblicazione annullata da supervisore il", "Pubblica il bando")
	// No more attempts: the funding is over.
	asked := e.accounting.Commits(key)
	recordHistoryIn(t, e.temporal, "call-funding", contract.CallFundingWorkflowID(c.ID), "call-funding-1-cancelled.json")
	if n := e.accounting.Commits(key); n != asked {
		t.Errorf("%d more commitment requests after the withdrawal", n-asked)
	}

	// A draft again: editable, and published anew once the system is back.
	expectStatus(t, e.do("PUT", "/api/v1/calls/"+c.ID, "supervisore", callTerms(5_000_00)), http.StatusOK)
	e.accounting.ClearFaults()
	got = e.publishCall(c.ID)
	commitments := e.accounting.Commitments()
	if got.Status != store.StatusPublished || got.FundingRefusal != "" || got.PublicationCancelledBy != "" ||
		got.CommitmentCents != 5_000_00 || len(commitments) != 1 || commitments[0].Number != got.CommitmentNumber {
		t.Fatalf("published again: %+v, commitments %+v", got, commitments)
	}
	if funds, transfers := e.funded(c.ID); funds != 1 || transfers != 1 {
		t.Fatalf("published again: %d funds, %d transfers", funds, transfers)
	}
	expectConflict(t, e.do("POST", cancelPath(c.ID), "supervisore", nil), "call_published")
	verifyClean(t, e.st)
}

// TestCallPublicationCancelTooLate: the accounting system receives the
// commitment, the supervisor withdraws the publication while it is being
// answered, and the commitment is confirmed: the withdrawal waited for that
// answer, the call is published with the commitment (funded once, never a
// confirmed commitment left behind) and the withdrawal answers 409
// call_published.
func TestCallPublicationCancelTooLate(t *testing.T) {
	e := newEnv(t)
	c := e.newDraftCall(2_000_00)
	if err := e.accounting.Inject(accounting.Fault{Kind: "hold", Op: "commit"}); err != nil {
		t.Fatal(err)
	}
	e.token("supervisore")
	expectStatus(t, e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil), http.StatusAccepted)
	waitFor(t, "the commitment asked", func() bool { return e.accounting.Held() == 1 })

	answer := make(chan resp, 1)
	go func() { answer <- e.do("POST", cancelPath(c.ID), "supervisore", nil) }()
	waitFor(t, "the withdrawal accepted by the workflow", func() bool {
		return e.historyHas(contract.CallFundingWorkflowID(c.ID), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
	})
	if len(e.accounting.Commitments()) != 0 {
		t.Fatal("committed while held")
	}
	e.accounting.ReleaseHeld()
	expectConflict(t, <-answer, "call_published")

	r := e.do("GET", "/api/v1/calls/"+c.ID, "supervisore", nil)
	var got callView
	r.json(t, &got)
	commitments := e.accounting.Commitments()
	if got.Status != store.StatusPublished || got.FundingRefusal != "" || len(commitments) != 1 || got.CommitmentNumber != commitments[0].Number {
		t.Fatalf("published: %s, commitments %+v", r.body, commitments)
	}
	if funds, transfers := e.funded(c.ID); funds != 1 || transfers != 1 {
		t.Fatalf("published: %d funds, %d transfers", funds, transfers)
	}
	var refused int
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'call_publication_cancelled_refused'
		AND detail->>'call_id' = $1`, c.ID).Scan(&refused); err != nil || refused != 1 {
		t.Errorf("%d refused withdrawals audited (%v)", refused, err)
	}
	b := e.browser()
	b.login("supervisore")
	b.get("/lang/en?next=/")
	expectPage(t, b.follow(b.post("/calls/"+c.ID+"/publication/cancel", url.Values{"confirm": {"1"}})), http.StatusOK,
		"confirmed the budget commitment before the cancellation", "Budget commitment no. "+got.CommitmentNumber)
	recordHistoryIn(t, e.temporal, "call-funding", contract.CallFundingWorkflowID(c.ID), "call-funding-1-cancel-too-late.json")
	verifyClean(t, e.st)
}

// historyHas tells whether the history of workflow id holds an event of kind.
func (e *env) historyHas(id string, kind enumspb.EventType) bool {
	e.t.Helper()
	it := e.temporal.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			e.t.Fatal(err)
		}
		if ev.GetEventType() == kind {
			return true
		}
	}
	return false
}

// TestCallPublicationCancelledWithoutARun: the funding could not be
// started at the publication (Temporal down: the call stays publishing
// with no run); while the accounting system answers 503, the withdrawal
// starts the run and withdraws through it: a draft, nothing committed or
// booked.
func TestCallPublicationCancelledWithoutARun(t *testing.T) {
	down := &atomic.Bool{}
	down.Store(true)
	e := newEnvWith(t, func(d *api.Deps) { d.Temporal = temporalDown{Client: d.Temporal, down: down} })
	c := e.newDraftCall(3_000_00)
	expectStatus(t, e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil), http.StatusServiceUnavailable)
	r := e.do("POST", cancelPath(c.ID), "supervisore", nil)
	expectStatus(t, r, http.StatusServiceUnavailable)
	if code := r.errorBody(t).Code; code != "funding_unavailable" {
		t.Fatalf("withdrawn with Temporal down: %s", r.body)
	}
	if err := e.accounting.Inject(accounting.Fault{Kind: "fail-503", Op: "commit", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	r = e.do("POST", cancelPath(c.ID), "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var got callView
	r.json(t, &got)
	if got.Status != store.StatusDraft || got.FundingRefusal != store.FundingCancelled {
		t.Fatalf("withdrawn: %s", r.body)
	}
	if funds, transfers := e.funded(c.ID); funds != 0 || transfers != 0 || len(e.accounting.Commitments()) != 0 {
		t.Fatalf("withdrawn: %d funds, %d transfers, %d commitments", funds, transfers, len(e.accounting.Commitments()))
	}
}

// TestCallFundingJourneyCancelledWhileConfirming: the journey is cancelled
// (the operations console's "Cancel a journey": Temporal's cancellation)
// while the accounting system is confirming the commitment: the answer is
// still recorded, the call published with it and funded once; nothing is
// left committed at the source without its call.
func TestCallFundingJourneyCancelledWhileConfirming(t *testing.T) {
	e := newEnv(t)
	c := e.newDraftCall(1_500_00)
	if err := e.accounting.Inject(accounting.Fault{Kind: "hold", Op: "commit"}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil), http.StatusAccepted)
	waitFor(t, "the commitment asked", func() bool { return e.accounting.Held() == 1 })
	id := contract.CallFundingWorkflowID(c.ID)
	if err := e.temporal.CancelWorkflow(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cancellation recorded", func() bool {
		return e.historyHas(id, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED)
	})
	e.accounting.ReleaseHeld()
	got := e.waitCallFunded(c.ID)
	commitments := e.accounting.Commitments()
	if got.Status != store.StatusPublished || len(commitments) != 1 || got.CommitmentNumber != commitments[0].Number {
		t.Fatalf("published: %+v, commitments %+v", got, commitments)
	}
	if funds, transfers := e.funded(c.ID); funds != 1 || transfers != 1 {
		t.Fatalf("published: %d funds, %d transfers", funds, transfers)
	}
	recordHistoryIn(t, e.temporal, "call-funding", id, "call-funding-1-journey-cancelled.json")
	verifyClean(t, e.st)
}
