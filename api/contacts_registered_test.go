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
	page := op.get("/desk/contacts")
	expectPage(t, page, http.StatusOK, c.ID)
	// The case page is not theirs: no link to it.
	if strings.Contains(string(page.body), `href="/cases/`+c.ID) {
		t.Fatalf("the contacts page links a case of Tradate for Vedano's operator")
	}
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
