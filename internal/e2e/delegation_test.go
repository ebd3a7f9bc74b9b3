package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/auth"
	"sportello/internal/calendar"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/workflows"
)

// newCitizen adds a citizen of Tradate (password demo) and logs them in.
func (s *stack) newCitizen(t *testing.T, first, last string) (*session, string) {
	t.Helper()
	tax := seed.TaxCode(last, first, false, time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), "L319")
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	username := "cittadino." + strings.ToLower(last)
	if _, err := s.st.Pool.Exec(context.Background(), `INSERT INTO users (username, password_hash, role, display_name, district_id,
		municipality_id, tax_code) VALUES ($1, $2, 'citizen', $3, 'tradate', 'tradate', $4)`, username, hash, first+" "+last, tax); err != nil {
		t.Fatal(err)
	}
	return s.login(username), tax
}

// apply files a food-voucher application for the citizen and returns the case id.
func apply(c *session, tax string) string {
	created := c.apply(application(tax, "tradate", 1, 0, 3000))
	return created.ID
}

// taskOf waits until the case's task is in the given state (claimed_by ""
// means open) and returns its id.
func (s *stack) taskOf(t *testing.T, caseID, claimedBy string) string {
	t.Helper()
	var id string
	eventually(t, fmt.Sprintf("the task of %s with %q", caseID, claimedBy), func() bool {
		err := s.st.Pool.QueryRow(context.Background(), `SELECT t.id::text FROM tasks t LEFT JOIN users u ON u.id = t.claimed_by
			WHERE t.case_id = $1 AND t.status IN ('open', 'claimed') AND coalesce(u.username, '') = $2`, caseID, claimedBy).Scan(&id)
		return err == nil
	})
	return id
}

// TestAbsenceHandsTasksOverAndBack: on real Temporal and PostgreSQL,
// automatic assignment gives a new task to the least loaded member of the
// team; an absence hands the absent operator's claimed tasks to the
// delegate, automatic assignment skips the absent operator and assigning to
// them is refused naming the delegate; the delegate decides one task; the
// cancellation during the absence gives back the other.
func TestAbsenceHandsTasksOverAndBack(t *testing.T) {
	s := newStack(t)
	op, sup := s.login("operatore.tradate"), s.login("supervisore")
	delegate := s.login("operatrice.tradate")

	// Two tasks claimed by operatore.tradate.
	caseA := apply(s.login("cittadino.tradate"), s.citizenTaxCode())
	citB, taxB := s.newCitizen(t, "Bruno", "Bassi")
	caseB := apply(citB, taxB)
	for _, c := range []string{caseA, caseB} {
		tk := op.taskFor(c)
		op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	}

	// Automatic assignment on for the team: the colleague with no task gets the next one.
	if _, err := s.st.Pool.Exec(context.Background(), `UPDATE teams SET auto_assign = true WHERE id = 'istruttoria-buoni-spesa-tradate'`); err != nil {
		t.Fatal(err)
	}
	citC, taxC := s.newCitizen(t, "Carla", "Conti")
	caseC := apply(citC, taxC)
	s.taskOf(t, caseC, "operatrice.tradate")
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'task_assigned' AND actor = 'system'
		AND detail->>'reason' = 'automatic assignment: least loaded'`, caseC); n != 1 {
		t.Fatalf("%d automatic assignments on the timeline of %s", n, caseC)
	}
	var mine struct {
		Items []struct {
			CaseID   string `json:"case_id"`
			TeamName string `json:"team_name"`
		} `json:"items"`
	}
	delegate.mustCall(http.StatusOK, "GET", "/api/v1/tasks?team=mine&status=claimed", nil, &mine)
	if len(mine.Items) != 3 {
		t.Fatalf("the team's claimed tasks: %+v", mine.Items)
	}
	for _, it := range mine.Items {
		if it.TeamName != "Istruttoria buoni spesa – Tradate" {
			t.Fatalf("task of %s shows team %q", it.CaseID, it.TeamName)
		}
	}

	// The absence, from today: the claimed tasks go to the delegate.
	today := time.Now().In(calendar.Rome()).Format("2006-01-02")
	var abs struct {
		ID string `json:"id"`
	}
	sup.mustCall(http.StatusCreated, "POST", "/api/v1/absences", map[string]any{"user": "operatore.tradate",
		"delegate": "operatrice.tradate", "from": today, "to": today, "reason": "ferie"}, &abs)
	taskA := s.taskOf(t, caseA, "operatrice.tradate")
	taskB := s.taskOf(t, caseB, "operatrice.tradate")
	for _, c := range []string{caseA, caseB} {
		if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'task_assigned'
			AND detail->>'reason' LIKE 'out of office %operatore.tradate delegated to operatrice.tradate'`, c); n != 1 {
			t.Fatalf("%d handovers on the timeline of %s", n, c)
		}
	}
	eventually(t, "two handovers in the audit log", func() bool {
		return s.count(`SELECT count(*) FROM audit_log WHERE action = 'delegate_task' AND actor_username = 'system'
			AND reason LIKE 'out of office %'`) == 2
	})
	// Overlapping absence: 409.
	if code := sup.call("POST", "/api/v1/absences", map[string]any{"user": "operatore.tradate", "delegate": "supervisore",
		"from": today, "to": today, "reason": "x"}, nil, nil); code != http.StatusConflict {
		t.Fatalf("overlapping absence: %d, want 409", code)
	}

	// Automatic assignment skips the absent operator, though they have no task now.
	citD, taxD := s.newCitizen(t, "Dario", "Donati")
	caseD := apply(citD, taxD)
	taskD := s.taskOf(t, caseD, "operatrice.tradate")
	// Assigning to the absent operator is refused, naming the delegate.
	var refusal struct {
		Error struct {
			Fields []struct {
				Pointer string `json:"pointer"`
				Message string `json:"message"`
			} `json:"fields"`
		} `json:"error"`
	}
	if code := sup.call("POST", "/api/v1/tasks/"+taskD+"/assign", map[string]any{"assignee": "operatore.tradate", "reason": "back"},
		nil, &refusal); code != http.StatusUnprocessableEntity || len(refusal.Error.Fields) != 1 ||
		!strings.Contains(refusal.Error.Fields[0].Message, "operatrice.tradate") {
		t.Fatalf("assign to an absent operator: %d %+v", code, refusal)
	}

	// The delegate decides A meanwhile.
	delegate.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+taskA+"/decision",
		map[string]any{"outcome": "reject", "reason": "ISEE da verificare"}, nil)

	// Cancelled during the absence: B goes back, A stays decided.
	var cancelled struct {
		Status string `json:"status"`
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/absences/"+abs.ID+"/cancel", nil, &cancelled)
	if cancelled.Status != "cancelled" {
		t.Fatalf("cancel: %+v", cancelled)
	}
	if got := s.taskOf(t, caseB, "operatore.tradate"); got != taskB {
		t.Fatalf("task B is %s, want %s back with its owner", got, taskB)
	}
	eventually(t, "the absence closed", func() bool {
		return s.count(`SELECT count(*) FROM absence_handovers WHERE absence_id = $1 AND state IN ('returned', 'kept')`, abs.ID) == 2
	})
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'return_task' AND case_id = $1`, caseB); n != 1 {
		t.Fatalf("%d hand-backs in the audit log", n)
	}
	if n := s.count(`SELECT count(*) FROM tasks WHERE id = $1 AND status = 'done'`, taskA); n != 1 {
		t.Fatal("task A, decided by the delegate, must stay decided")
	}
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'task_assigned'
		AND detail->>'reason' LIKE 'back from out of office %'`, caseB); n != 1 {
		t.Fatalf("%d hand-backs on the timeline of B", n)
	}

	var list struct {
		Items []any `json:"items"`
	}
	sup.mustCall(http.StatusOK, "GET", "/api/v1/absences", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a cancelled absence is still listed: %+v", list.Items)
	}
	// B is its owner's again: they decide it.
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+taskB+"/decision", map[string]any{"outcome": "reject", "reason": "doppia"}, nil)

	// The automatically assigned task is decided by its assignee without a claim.
	delegate.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+s.taskOf(t, caseC, "operatrice.tradate")+"/decision",
		map[string]any{"outcome": "reject", "reason": "fuori soglia"}, nil)

	eventually(t, "the delegation workflow's end", func() bool {
		d, err := s.tc.DescribeWorkflowExecution(context.Background(), "absence:"+abs.ID, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	})
	if code := op.call("POST", "/api/v1/absences/"+abs.ID+"/cancel", nil, nil, nil); code != http.StatusConflict {
		t.Fatalf("cancel after the end: %d, want 409", code)
	}
	// An absence cancelled before it starts hands nothing over.
	tomorrow := time.Now().In(calendar.Rome()).AddDate(0, 0, 1).Format("2006-01-02")
	var later struct {
		ID string `json:"id"`
	}
	delegate.mustCall(http.StatusCreated, "POST", "/api/v1/absences", map[string]any{"delegate": "supervisore",
		"from": tomorrow, "to": tomorrow, "reason": "formazione"}, &later)
	if code := op.call("POST", "/api/v1/absences/"+later.ID+"/cancel", nil, nil, nil); code != http.StatusForbidden {
		t.Fatalf("a colleague cancels someone else's absence: %d, want 403", code)
	}
	delegate.mustCall(http.StatusOK, "POST", "/api/v1/absences/"+later.ID+"/cancel", nil, nil)
	eventually(t, "the cancelled absence's workflow end", func() bool {
		d, err := s.tc.DescribeWorkflowExecution(context.Background(), "absence:"+later.ID, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	})
	if n := s.count(`SELECT count(*) FROM absence_handovers WHERE absence_id = $1`, later.ID); n != 0 {
		t.Fatalf("%d handovers for an absence cancelled before it started", n)
	}
	s.recordHistoryAs(t, "absence:"+later.ID, "delegation/v1-cancelled-before")
	s.recordHistoryAs(t, "absence:"+abs.ID, "delegation/v1-cancelled-during")
	s.recordHistoryAs(t, "case:"+caseC, "v6-auto-assigned")
}

// recordHistoryAs saves a workflow's history under name when
// SPORTELLO_RECORD_HISTORIES names a folder.
func (s *stack) recordHistoryAs(t *testing.T, workflowID, name string) {
	dir := os.Getenv("SPORTELLO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	if err := writeHistory(context.Background(), s.tc, workflowID, dir+"/"+name+".json"); err != nil {
		t.Fatalf("record history: %v", err)
	}
}

// TestAbsenceRunsToItsEnd: an absence of a few seconds (recorded through
// the store, since the API takes whole days) waits for its start, hands the
// claimed task over, and at its end hands it back and is marked ended.
func TestAbsenceRunsToItsEnd(t *testing.T) {
	s := newStack(t)
	op := s.login("operatore.tradate")
	caseID := apply(s.login("cittadino.tradate"), s.citizenTaxCode())
	tk := op.taskFor(caseID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)

	ctx := context.Background()
	sup, _, err := s.st.API().UserForLogin(ctx, "supervisore")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	abs, err := s.st.API().CreateAbsence(ctx, sup, store.NewAbsence{User: "operatore.tradate", Delegate: "operatrice.tradate",
		StartsAt: now.Add(2 * time.Second), EndsAt: now.Add(6 * time.Second), Reason: "visita medica", RecordedAt: now},
		func(ctx context.Context, a store.AbsenceView) error {
			_, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AbsenceWorkflowID(a.ID), TaskQueue: s.taskQueue},
				workflows.Delegation, workflows.DelegationInput{AbsenceID: a.ID})
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.taskOf(t, caseID, "operatrice.tradate"); got != tk.ID {
		t.Fatalf("handed over %s, want %s", got, tk.ID)
	}
	var res workflows.DelegationResult
	if err := s.tc.GetWorkflow(ctx, workflows.AbsenceWorkflowID(abs.ID), "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res != (workflows.DelegationResult{Status: "ended", Handed: 1, Returned: 1}) {
		t.Fatalf("result %+v", res)
	}
	if got := s.taskOf(t, caseID, "operatore.tradate"); got != tk.ID {
		t.Fatalf("handed back %s, want %s", got, tk.ID)
	}
	if n := s.count(`SELECT count(*) FROM absences WHERE id = $1 AND status = 'ended'`, abs.ID); n != 1 {
		t.Fatal("the absence is not marked ended")
	}
	s.recordHistoryAs(t, workflows.AbsenceWorkflowID(abs.ID), "delegation/v1-ended")
}
