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

	// The home delivery: the staff case page links the voucher and the
	// letter to post; both print for the operator of the case's
	// municipality and for the supervisor (audited), not for another
	// municipality's operator nor for a citizen.
	op := e.browser()
	op.login("operatore.tradate")
	expectPage(t, op.get("/cases/"+c.ID), http.StatusOK, `href="/cases/`+c.ID+`/voucher.pdf"`, `href="/cases/`+c.ID+`/letter.pdf"`)
	for _, path := range []string{"/cases/" + c.ID + "/voucher.pdf", "/cases/" + c.ID + "/letter.pdf"} {
		p := op.get(path)
		if p.status != http.StatusOK || p.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(p.body, "%PDF-") {
			t.Fatalf("%s for the operator: %d %s", path, p.status, p.header.Get("Content-Type"))
		}
	}
	sv := e.browser()
	sv.login("supervisore")
	if p := sv.get("/cases/" + c.ID + "/letter.pdf"); p.status != http.StatusOK || !strings.HasPrefix(p.body, "%PDF-") {
		t.Fatalf("letter for the supervisor: %d", p.status)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'print_voucher' AND case_id = $1`, c.ID); n != 3 {
		t.Errorf("%d print_voucher audit rows, want 3", n)
	}
	vo := e.browser()
	vo.login("operatore.vedano")
	if p := vo.get("/cases/" + c.ID + "/letter.pdf"); p.status != http.StatusNotFound {
		t.Errorf("letter for another municipality's operator: %d, want 404", p.status)
	}
	cz := e.browser()
	cz.login("cittadino.tradate")
	if p := cz.get("/cases/" + c.ID + "/voucher.pdf"); p.status != http.StatusForbidden {
		t.Errorf("staff print for a citizen: %d, want 403", p.status)
	}
}
