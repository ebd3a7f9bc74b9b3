package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Issue 16: under a shared desk, Vedano Olona's operator registers Luca, a
// resident of Tradate without e-mail, and files his application; his case
// is Tradate's, yet the contact task reaches the operator who registered
// him, who records the calls (API and contacts page) (timeline and audit, the audit row at
// the operator's own desk). Tradate's Social Point sees it as before; the
// review tasks of the case stay with Tradate.
func TestTheOperatorWhoRegisteredACitizenOfAnotherMunicipalityContactsThem(t *testing.T) {
	e := newEnv(t)
	expectStatus(t, e.do("PUT", "/api/v1/district/desk-sharing", "supervisore", map[string]any{"shared": true}), http.StatusOK)
	r := e.do("POST", "/api/v1/citizens", "operatore.vedano", lucaRegistration(""))
	expectStatus(t, r, http.StatusCreated)
	var reg registered
	r.json(t, &reg)
	app := map[string]any{"form": "buoni-spesa", "privacy_consent_signed": true, "data": map[string]any{
		"applicant": map[string]any{"first_name": "Luca", "last_name": "Colombo", "tax_code": luca().TaxCode(), "birth_date": "1990-07-22",
			"phone": "0331 123456"},
		"residence":    map[string]any{"municipality": "tradate", "address": "Via Manzoni 3"},
		"household":    map[string]any{"members": 3, "minors": 1},
		"isee_euro":    4000,
		"delivery":     "download",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}}
	r = e.do("POST", "/api/v1/citizens/"+reg.Citizen.ID+"/applications", "operatore.vedano", app)
	expectStatus(t, r, http.StatusCreated)
	var c struct {
		ID string `json:"id"`
	}
	r.json(t, &c)

	received := e.waitContact("operatore.vedano", c.ID, "application_received")
	if received.Channel != "phone" || !strings.Contains(received.MessageIT, c.ID) {
		t.Fatalf("received contact %+v", received)
	}
	e.waitContact("operatore.tradate", c.ID, "application_received")
	// Only the contact: Vedano's review inbox does not list the case.
	r = e.do("GET", "/api/v1/tasks?status=all", "operatore.vedano", nil)
	if strings.Contains(string(r.body), c.ID) {
		t.Fatalf("Vedano's review inbox lists a case of Tradate: %s", r.body)
	}
	// Not reached on the first call (API), then reached (the contacts page).
	r = e.do("POST", "/api/v1/contact-tasks/"+received.ID+"/outcome", "operatore.vedano",
		map[string]any{"outcome": "unreachable", "note": "non risponde"})
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"status":"open"`) {
		t.Fatalf("outcome: %s", r.body)
	}
	op := e.browser()
	op.login("operatore.vedano")
	// The case page opens for them too (migration 029), so the task links it.
	expectPage(t, op.get("/desk/contacts"), http.StatusOK, c.ID, `href="/cases/`+c.ID)
	tradate := e.browser()
	tradate.login("operatore.tradate")
	expectPage(t, tradate.get("/desk/contacts"), http.StatusOK, `href="/cases/`+c.ID)
	p := op.post("/desk/contacts/"+received.ID+"/outcome", url.Values{"outcome": {"phoned"}})
	if p.status != http.StatusSeeOther || p.location != "/desk/contacts" {
		t.Fatalf("recorded on the page: %d %q\n%s", p.status, p.location, p.body)
	}
	r = e.do("GET", "/api/v1/contact-tasks?status=done", "operatore.vedano", nil)
	if !strings.Contains(string(r.body), received.ID) {
		t.Fatalf("the phone call is not recorded: %s", r.body)
	}
	found := 0
	for _, row := range e.auditByActor("operatore.vedano") {
		if row["action"] == "record_contact" && row["case_id"] == c.ID && row["municipality"] == "vedano-olona" {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("the contact is not audited at Vedano's desk: %v", e.auditByActor("operatore.vedano"))
	}
}

// Issue 16, migration 029: the operator of Vedano Olona who registered
// Luca (a resident of Tradate without e-mail) at the shared desk serves him
// to the end: once Tradate approves, they open his case (API and staff case
// page), print the voucher and the letter that carries it, audited at their
// own desk. The case stays Tradate's: not in Vedano's lists, no review
// action for Vedano. Another operator of Vedano, who did not register him,
// gets 404 everywhere.
func TestTheOperatorWhoRegisteredACitizenPrintsTheirVoucher(t *testing.T) {
	e := newEnv(t)
	expectStatus(t, e.do("PUT", "/api/v1/district/desk-sharing", "supervisore", map[string]any{"shared": true}), http.StatusOK)
	e.addUser("operatrice.vedano", "operator", "tradate", "vedano-olona", "")
	r := e.do("POST", "/api/v1/citizens", "operatore.vedano", lucaRegistration(""))
	expectStatus(t, r, http.StatusCreated)
	var reg registered
	r.json(t, &reg)
	r = e.do("POST", "/api/v1/citizens/"+reg.Citizen.ID+"/applications", "operatore.vedano", lucaApplication())
	expectStatus(t, r, http.StatusCreated)
	var c caseView
	r.json(t, &c)
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"}),
		http.StatusOK)
	e.waitContact("operatore.vedano", c.ID, "voucher_ready")

	// The API: the case and its timeline, not the lists nor the review task.
	r = e.do("GET", "/api/v1/applications/"+c.ID, "operatore.vedano", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"voucher"`) {
		t.Fatalf("the case without its voucher: %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "operatore.vedano", nil), http.StatusOK)
	for _, path := range []string{"/api/v1/applications", "/api/v1/tasks?status=all"} {
		if r := e.do("GET", path, "operatore.vedano", nil); strings.Contains(string(r.body), c.ID) {
			t.Fatalf("%s lists a case of Tradate for Vedano's operator: %s", path, r.body)
		}
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.vedano", map[string]any{"outcome": "reject", "reason": "no"}),
		http.StatusNotFound)

	// The pages: the case page with the print links, the two PDFs.
	op := e.browser()
	op.login("operatore.vedano")
	casePage := op.get("/cases/" + c.ID)
	expectPage(t, casePage, http.StatusOK, `href="/cases/`+c.ID+`/voucher.pdf"`, `href="/cases/`+c.ID+`/letter.pdf"`)
	if strings.Contains(casePage.body, "/decision") || strings.Contains(casePage.body, "/claim") {
		t.Fatalf("the case page offers Vedano's operator a review action on a case of Tradate")
	}
	for _, path := range []string{"/cases/" + c.ID + "/voucher.pdf", "/cases/" + c.ID + "/letter.pdf"} {
		if p := op.get(path); p.status != http.StatusOK || !strings.HasPrefix(p.body, "%PDF-") {
			t.Fatalf("%s for the operator who registered him: %d", path, p.status)
		}
	}
	printed, read := 0, 0
	for _, row := range e.auditByActor("operatore.vedano") {
		if row["case_id"] != c.ID || row["municipality"] != "vedano-olona" {
			continue
		}
		switch row["action"] {
		case "print_voucher":
			printed++
		case "read_case":
			read++
		}
	}
	if printed != 2 || read < 2 {
		t.Fatalf("audit at Vedano's desk: %d print_voucher rows (want 2), %d read_case rows (want 2 or more): %v",
			printed, read, e.auditByActor("operatore.vedano"))
	}

	// Another operator of Vedano: nothing.
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "operatrice.vedano", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "operatrice.vedano", nil), http.StatusNotFound)
	other := e.browser()
	other.login("operatrice.vedano")
	for _, path := range []string{"/cases/" + c.ID, "/cases/" + c.ID + "/voucher.pdf", "/cases/" + c.ID + "/letter.pdf"} {
		if p := other.get(path); p.status != http.StatusNotFound {
			t.Fatalf("%s for another operator of Vedano: %d, want 404", path, p.status)
		}
	}
}
