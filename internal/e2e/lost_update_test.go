package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/activities"
	"sportello/internal/contract"
	"sportello/workflows"
)

// TestDecisionLostWithTheUpdateIsSentAgain is the procedure of
// docs/operations.md ("A decision written but lost with its Update"). A
// decision is a Temporal Update whose handler writes the database
// (ApplyDecision, a local activity) inside the workflow task that accepts
// it. When the history service restarts after that write committed and
// before the task completed, the update, held only in the history
// service's memory until then, is gone; the API sending it would send it
// again, but when it dies at the same moment nobody does. The database
// then shows the case decided (task done, voucher awarded, timeline
// "approved") while the workflow still waits on the task, claimed by the
// person who decided. Here that state is made directly: the test runs
// ApplyDecision as the lost handler did, without the workflow. Sending the
// timeline's decision again as its author (what an operator does with
// `temporal workflow update execute`) lets the journey go on, and nothing
// is awarded twice: ApplyDecision finds its voucher and its writes keyed
// by the task. Any other decision is refused (409 task_not_open).
func TestDecisionLostWithTheUpdateIsSentAgain(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 5000))
	op := s.login("operatore.tradate")
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)

	var opID int64
	if err := s.st.Pool.QueryRow(ctx, `SELECT id FROM users WHERE username = 'operatore.tradate'`).Scan(&opID); err != nil {
		t.Fatal(err)
	}
	const amount = 5000
	cases := &activities.Cases{Store: s.st, PortalURL: "http://portal.test"}
	if _, err := cases.ApplyDecision(ctx, activities.DecisionInput{TaskID: tk.ID, CaseID: created.ID,
		Actor:   activities.Actor{UserID: opID, Username: "operatore.tradate"},
		Outcome: contract.OutcomeApprove, AmountCents: amount, At: time.Now()}); err != nil {
		t.Fatalf("the lost handler's write: %v", err)
	}

	// The state an operator finds: decided in the database, waiting in the workflow.
	if got := citizen.applicationStatus(created.ID); got != "approved" {
		t.Fatalf("case %s in the database, want approved", got)
	}
	state := s.openTaskState(t, created.ID)
	if state.Status != workflows.StatusInReview || state.Task.ID != tk.ID || state.Task.ClaimedBy != "operatore.tradate" {
		t.Fatalf("the workflow: %+v, task %+v; want in review on %s claimed by operatore.tradate", state, state.Task, tk.ID)
	}

	// Another decision on the task is refused and changes nothing: the
	// database keeps the one it recorded (before, a rejection went through
	// and left a rejected case holding an awarded voucher).
	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "reject", "reason": "ripensamento"}, nil, nil); code != http.StatusConflict {
		t.Fatalf("another decision on the decided task: %d, want 409", code)
	}
	if got := citizen.applicationStatus(created.ID); got != "approved" {
		t.Fatalf("case %s after the refused decision, want approved", got)
	}
	if st := s.openTaskState(t, created.ID); st.Status != workflows.StatusInReview || st.Task.ID != tk.ID {
		t.Fatalf("the workflow after the refused decision: %+v", st)
	}

	// The procedure: the timeline's decision, sent again as its author.
	var author string
	var recorded int64
	if err := s.st.Pool.QueryRow(ctx, `SELECT actor, (detail->>'amount_cents')::bigint FROM case_events
		WHERE case_id = $1 AND type = 'approved' AND detail->>'task_id' = $2`, created.ID, tk.ID).Scan(&author, &recorded); err != nil {
		t.Fatal(err)
	}
	var again workflows.Actor
	if err := s.st.Pool.QueryRow(ctx, `SELECT id, username, role FROM users WHERE username = $1`, author).
		Scan(&again.UserID, &again.Username, &again.Role); err != nil {
		t.Fatal(err)
	}
	uctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.tc.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{WorkflowID: workflows.CaseWorkflowID(created.ID),
		UpdateName: workflows.UpdateDecide, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.DecideInput{TaskID: tk.ID, Actor: again, Outcome: contract.OutcomeApprove, AmountCents: recorded}}})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.DecideResult
	if err := h.Get(uctx, &res); err != nil {
		t.Fatalf("the decision sent again: %v", err)
	}
	if res.Status != workflows.StatusApproved || res.AmountCents != amount {
		t.Fatalf("the decision sent again: %+v", res)
	}

	// The journey went on (the first tranche), once.
	eventually(t, "the first tranche", func() bool {
		return s.count(`SELECT count(*) FROM vouchers v JOIN accounts a ON a.id = 'voucher:' || v.id
			WHERE v.case_id = $1 AND a.balance_cents > 0`, created.ID) == 1
	})
	for what, q := range map[string]string{
		"vouchers":        `SELECT count(*) FROM vouchers WHERE case_id = $1`,
		"award transfers": `SELECT count(*) FROM transfers t JOIN vouchers v ON v.id = t.voucher_id WHERE v.case_id = $1 AND t.kind = 'award'`,
		"decisions on the timeline": `SELECT count(*) FROM case_events WHERE case_id = $1
			AND type IN ('approved', 'rejected', 'information_requested', 'first_approval')`,
	} {
		if n := s.count(q, created.ID); n != 1 {
			t.Errorf("%s: %d, want 1", what, n)
		}
	}
	s.assertBooksBalance()
}
