package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOneOpenContactTaskPerCase (issue 16): for a citizen without e-mail,
// each notification used to open another contact task (three for one
// case: received, approved, voucher ready) and the old ones stayed open.
// Now the newest supersedes the open ones: one open task per case, the
// voucher's home delivery, carrying the messages not yet given; the others
// are closed as superseded.
func TestOneOpenContactTaskPerCase(t *testing.T) {
	e := newEnv(t)
	reg := e.register(lucaRegistration(""))
	r := e.do("POST", "/api/v1/citizens/"+reg.Citizen.ID+"/applications", "operatore.tradate", lucaApplication())
	expectStatus(t, r, http.StatusCreated)
	var c caseView
	r.json(t, &c)
	e.waitContact("operatore.tradate", c.ID, "application_received")
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"}),
		http.StatusOK)
	ready := e.waitContact("operatore.tradate", c.ID, "voucher_ready")

	// The voucher-ready task is opened after the approval's: wait until the
	// approval's notice has been handled too, then count.
	deadline := time.Now().Add(30 * time.Second)
	for e.count(`SELECT count(*) FROM contact_tasks ct JOIN tasks t ON t.id = ct.task_id WHERE t.case_id = $1`, c.ID) < 3 &&
		time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	var open []contactTask
	r = e.do("GET", "/api/v1/contact-tasks", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var l list[contactTask]
	r.json(t, &l)
	for _, ct := range l.Items {
		if ct.CaseID == c.ID {
			open = append(open, ct)
		}
	}
	if len(open) != 1 || open[0].ID != ready.ID {
		t.Fatalf("open contact tasks of the case: %+v, want only the voucher-ready one %s", open, ready.ID)
	}
	if !open[0].HomeDelivery || !strings.Contains(open[0].MessageIT, "Buono disponibile") ||
		!strings.Contains(open[0].MessageIT, "Domanda ricevuta") || !strings.Contains(open[0].MessageIT, "non ancora date al cittadino") {
		t.Errorf("the open task does not carry the earlier messages: %+v", open[0])
	}
	if n := e.count(`SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'contact' AND status = 'cancelled' AND outcome = 'superseded'`, c.ID); n != 2 {
		t.Errorf("%d superseded contact tasks, want 2 (received, approved)", n)
	}
}
