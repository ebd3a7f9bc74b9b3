package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sportello/internal/seed"
)

// The Social Point's desk over HTTP: registration, activation, filing on
// behalf and contact tasks, on a real PostgreSQL and Temporal.

type registered struct {
	Citizen struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		TaxCode  string `json:"tax_code"`
		Status   string `json:"status"`
	} `json:"citizen"`
	Activation struct {
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"activation"`
}

// luca is a resident of Tradate without an account in the demo data.
func luca() seed.Resident { return seed.Residents()[2] }

func lucaRegistration(email string) map[string]any {
	return map[string]any{"tax_code": strings.ToLower(luca().TaxCode()), "first_name": "Luca", "last_name": "Colombo",
		"email": email, "phone": "+39 0331 123456", "address": "Via Manzoni 3, 21049 Tradate", "home_delivery": true}
}

func (e *env) register(body map[string]any) registered {
	e.t.Helper()
	r := e.do("POST", "/api/v1/citizens", "operatore.tradate", body)
	expectStatus(e.t, r, http.StatusCreated)
	var out registered
	r.json(e.t, &out)
	return out
}

// loginAs logs in with a password and returns the token (or the status).
func (e *env) loginAs(username, password string) (string, int) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/session", "", map[string]string{"username": username, "password": password})
	if r.status != http.StatusOK {
		return "", r.status
	}
	var lr struct {
		Token string `json:"token"`
	}
	r.json(e.t, &lr)
	return lr.Token, r.status
}

func fieldCodes(t *testing.T, r resp) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range r.errorBody(t).Fields {
		out[f.Pointer] = f.Code
	}
	return out
}

// auditByActor returns the audit rows of actor as the supervisor reads them.
func (e *env) auditByActor(actor string) []map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/v1/audit?limit=200&actor="+actor, "supervisore", nil)
	expectStatus(e.t, r, http.StatusOK)
	var l list[map[string]any]
	r.json(e.t, &l)
	return l.Items
}

func findAudit(rows []map[string]any, action, actingFor, caseID string) bool {
	for _, row := range rows {
		if row["action"] == action && row["acting_for"] == actingFor && (caseID == "" || row["case_id"] == caseID) {
			return true
		}
	}
	return false
}

func TestDeskRegisterActivateLogin(t *testing.T) {
	e := newEnv(t)
	tc := luca().TaxCode()

	// Validation, residence and roles first: nothing is created.
	r := e.do("POST", "/api/v1/citizens", "operatore.tradate", map[string]any{"tax_code": "RSSMRA80A41L319X",
		"first_name": " ", "last_name": "Colombo", "email": "not-an-address", "phone": "12", "address": ""})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	got := fieldCodes(t, r)
	for ptr, code := range map[string]string{"/tax_code": "invalid", "/first_name": "required", "/email": "invalid",
		"/phone": "invalid", "/address": "required"} {
		if got[ptr] != code {
			t.Errorf("%s: code %q, want %q (all: %v)", ptr, got[ptr], code, got)
		}
	}
	padovan := seed.Residents()[5]
	r = e.do("POST", "/api/v1/citizens", "operatore.tradate", map[string]any{"tax_code": padovan.TaxCode(),
		"first_name": "Paolo", "last_name": "Galli", "address": "Via Roma 1, Limena"})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/tax_code"] != "not_resident" {
		t.Fatalf("outside the district: %s", r.body)
	}
	expectStatus(t, e.do("POST", "/api/v1/citizens", "cittadino.tradate", lucaRegistration("")), http.StatusForbidden)
	expectStatus(t, e.do("POST", "/api/v1/citizens", "supervisore", lucaRegistration("")), http.StatusForbidden)

	reg := e.register(lucaRegistration(""))
	if reg.Citizen.Username != "luca.colombo" || reg.Citizen.Status != "pending_activation" || reg.Citizen.TaxCode != tc ||
		len(reg.Activation.Code) != 14 {
		t.Fatalf("registered %+v", reg)
	}
	r = e.do("POST", "/api/v1/citizens", "operatore.tradate", lucaRegistration(""))
	expectStatus(t, r, http.StatusConflict)
	if r.errorBody(t).Code != "citizen_exists" {
		t.Fatalf("duplicate: %s", r.body)
	}
	// The registration page shows its form again, with the problem at the tax code.
	op := e.browser()
	op.login("operatore.tradate")
	expectPage(t, op.post("/desk/register", url.Values{"tax_code": {tc}, "first_name": {"Luca"}, "last_name": {"Colombo"},
		"address": {"Via Manzoni 3, 21049 Tradate"}}), http.StatusConflict, `name="tax_code"`, "è già registrato")

	// Waiting for activation: no login.
	if _, status := e.loginAs(reg.Citizen.Username, "!"); status != http.StatusUnauthorized {
		t.Fatalf("login before activation: %d", status)
	}
	const password = "una password lunga"
	act := func(code, pw string) resp {
		return e.do("POST", "/api/v1/activation", "", map[string]string{"username": reg.Citizen.Username, "code": code, "password": pw})
	}
	r = act(reg.Activation.Code, "corta")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/password"] != "too_short" {
		t.Fatalf("short password: %s", r.body)
	}
	r = act("AAAA-BBBB-CCCC", password)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/code"] != "invalid_code" {
		t.Fatalf("wrong code: %s", r.body)
	}
	expectStatus(t, act(reg.Activation.Code, password), http.StatusOK)
	token, status := e.loginAs(reg.Citizen.Username, password)
	if status != http.StatusOK || token == "" {
		t.Fatalf("login after activation: %d", status)
	}
	r = act(reg.Activation.Code, "un'altra password ancora")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/code"] != "invalid_code" {
		t.Fatalf("second use: %s", r.body)
	}

	// A new code (forgotten password) for this active account without e-mail
	// is a recovery a supervisor approves (desk_trust_test.go); the desk gets
	// no code.
	path := "/api/v1/citizens/" + reg.Citizen.ID
	r = e.do("POST", path+"/activation-code", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusAccepted)
	if strings.Contains(string(r.body), `"code"`) {
		t.Fatalf("the desk got a code for an active account: %s", r.body)
	}
	// The Social Point of the citizen's municipality serves them, another
	// one does not (desk not shared); citizens do not read the desk.
	expectStatus(t, e.do("GET", path, "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("GET", path, "operatore.vedano", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", path, "cittadino.tradate", nil), http.StatusForbidden)

	rows := e.auditByActor("operatore.tradate")
	for _, action := range []string{"register_citizen", "request_account_recovery", "read_citizen"} {
		if !findAudit(rows, action, tc, "") {
			t.Errorf("no audit row %s acting for %s: %v", action, tc, rows)
		}
	}
}

// contactTask is the subset of a contact task the tests read.
type contactTask struct {
	ID               string `json:"id"`
	CaseID           string `json:"case_id"`
	NotificationKind string `json:"notification_kind"`
	Channel          string `json:"channel"`
	HomeDelivery     bool   `json:"home_delivery"`
	MessageIT        string `json:"message_it"`
	Status           string `json:"status"`
}

// waitContact polls the contact tasks of user for one of kind on caseID.
func (e *env) waitContact(user, caseID, kind string) contactTask {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := e.do("GET", "/api/v1/contact-tasks", user, nil)
		expectStatus(e.t, r, http.StatusOK)
		var l list[contactTask]
		r.json(e.t, &l)
		for _, ct := range l.Items {
			if ct.CaseID == caseID && ct.NotificationKind == kind {
				return ct
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("no %s contact task for %s\n%s", kind, caseID, e.workflowDiagnosis(caseID))
	return contactTask{}
}

func TestDeskFilesOnBehalfAndContactsTheCitizenWithoutEmail(t *testing.T) {
	e := newEnv(t)
	tc := luca().TaxCode()
	reg := e.register(lucaRegistration(""))
	const password = "una password lunga"
	expectStatus(t, e.do("POST", "/api/v1/activation", "", map[string]string{"username": reg.Citizen.Username,
		"code": reg.Activation.Code, "password": password}), http.StatusOK)

	app := map[string]any{"form": "buoni-spesa", "data": map[string]any{
		"applicant": map[string]any{"first_name": "Luca", "last_name": "Colombo", "tax_code": tc, "birth_date": "1990-07-22",
			"phone": "0331 123456"},
		"residence":    map[string]any{"municipality": "tradate", "address": "Via Manzoni 3"},
		"household":    map[string]any{"members": 3, "minors": 1},
		"isee_euro":    4000,
		"delivery":     "home",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}}
	path := "/api/v1/citizens/" + reg.Citizen.ID + "/applications"
	r := e.do("POST", path, "operatore.tradate", app)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/privacy_consent_signed"] != "required" {
		t.Fatalf("without consent: %s", r.body)
	}
	app["privacy_consent_signed"] = true
	other := map[string]any{}
	for k, v := range app {
		other[k] = v
	}
	otherData := map[string]any{}
	for k, v := range app["data"].(map[string]any) {
		otherData[k] = v
	}
	otherData["applicant"] = map[string]any{"first_name": "Maria", "last_name": "Rossi", "tax_code": seed.Residents()[0].TaxCode(),
		"birth_date": "1980-01-01"}
	other["data"] = otherData
	r = e.do("POST", path, "operatore.tradate", other)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/data/applicant/tax_code"] != "tax_code_mismatch" {
		t.Fatalf("someone else's tax code: %s", r.body)
	}
	// A filing refused by the district's rules is audited once, as refused,
	// with the code of the answer (not "internal").
	outside := map[string]any{}
	for k, v := range app {
		outside[k] = v
	}
	outsideData := map[string]any{}
	for k, v := range app["data"].(map[string]any) {
		outsideData[k] = v
	}
	outsideData["residence"] = map[string]any{"municipality": "limena", "address": "Via Roma 1"}
	outside["data"] = outsideData
	r = e.do("POST", path, "operatore.tradate", outside)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/data/residence/municipality"] != "outside_district" {
		t.Fatalf("outside the district: %s", r.body)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'file_on_behalf_refused'
		AND detail->>'error' = 'validation' AND detail->>'fields' = 'outside_district'`); n != 1 {
		t.Fatalf("%d file_on_behalf_refused rows with the validation codes, want 1: %v", n, e.auditByActor("operatore.tradate"))
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'file_on_behalf'`); n != 0 {
		t.Fatalf("%d file_on_behalf rows written before the attempt", n)
	}
	before := e.countCases()
	r = e.do("POST", path, "operatore.tradate", app, hdr{"Idempotency-Key": "desk-1"})
	expectStatus(t, r, http.StatusCreated)
	var c caseView
	r.json(t, &c)
	// A retry files nothing new.
	r = e.do("POST", path, "operatore.tradate", app, hdr{"Idempotency-Key": "desk-1"})
	expectStatus(t, r, http.StatusCreated)
	if r.header.Get("Idempotent-Replayed") != "true" || e.countCases() != before+1 {
		t.Fatalf("retry: replayed %q, cases %d → %d", r.header.Get("Idempotent-Replayed"), before, e.countCases())
	}

	// The case is the citizen's: they see it in their own area.
	token, status := e.loginAs(reg.Citizen.Username, password)
	if status != http.StatusOK {
		t.Fatalf("citizen login: %d", status)
	}
	e.tokens[reg.Citizen.Username] = token
	r = e.do("GET", "/api/v1/applications", reg.Citizen.Username, nil)
	expectStatus(t, r, http.StatusOK)
	var mine list[caseView]
	r.json(t, &mine)
	if mine.Total != 1 || mine.Items[0].ID != c.ID {
		t.Fatalf("the citizen's cases: %s", r.body)
	}
	// The timeline names the operator and the citizen.
	r = e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", reg.Citizen.Username, nil)
	expectStatus(t, r, http.StatusOK)
	var events []struct {
		Type   string         `json:"type"`
		Actor  string         `json:"actor"`
		Detail map[string]any `json:"detail"`
	}
	r.json(t, &events)
	if len(events) == 0 || events[0].Type != "submitted" || events[0].Actor != "operatore.tradate" ||
		events[0].Detail["on_behalf_of"] != tc || events[0].Detail["filed_by_name"] != "Operatore Tradate" {
		t.Fatalf("timeline %+v", events)
	}
	rows := e.auditByActor("operatore.tradate")
	if !findAudit(rows, "filed_on_behalf", tc, c.ID) || findAudit(rows, "file_on_behalf", tc, "") {
		t.Fatalf("no audit rows of the filing for %s: %v", tc, rows)
	}

	// No e-mail: the Social Point gets a contact task for the receipt, by phone.
	received := e.waitContact("operatore.tradate", c.ID, "application_received")
	if received.Channel != "phone" || received.HomeDelivery || !strings.Contains(received.MessageIT, c.ID) ||
		!strings.Contains(received.MessageIT, "Domanda ricevuta") {
		t.Fatalf("received contact %+v", received)
	}
	// It is not a review: not in the inbox, and the review actions refuse it.
	r = e.do("GET", "/api/v1/tasks?status=all", "operatore.tradate", nil)
	if strings.Contains(string(r.body), received.ID) {
		t.Fatalf("the review inbox lists the contact task: %s", r.body)
	}
	for _, action := range []string{"claim", "release"} {
		r = e.do("POST", "/api/v1/tasks/"+received.ID+"/"+action, "operatore.tradate", nil)
		expectStatus(t, r, http.StatusConflict)
		if r.errorBody(t).Code != "contact_task" {
			t.Fatalf("%s: %s", action, r.body)
		}
	}
	r = e.do("POST", "/api/v1/tasks/"+received.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"})
	expectStatus(t, r, http.StatusConflict)
	r = e.do("POST", "/api/v1/tasks/"+received.ID+"/assign", "supervisore", map[string]any{"assignee": "operatore.tradate"})
	expectStatus(t, r, http.StatusConflict)

	// The operator phones; the outcome closes the task and is on the timeline and in the audit.
	r = e.do("POST", "/api/v1/contact-tasks/"+received.ID+"/outcome", "operatore.tradate", map[string]any{"outcome": "shouted"})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r = e.do("POST", "/api/v1/contact-tasks/"+received.ID+"/outcome", "operatore.tradate",
		map[string]any{"outcome": "phoned", "note": "risponde la figlia"})
	expectStatus(t, r, http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/contact-tasks/"+received.ID+"/outcome", "operatore.tradate",
		map[string]any{"outcome": "phoned"}), http.StatusConflict)
	// The contacts page says so, back on the list.
	op := e.browser()
	op.login("operatore.tradate")
	p := op.post("/desk/contacts/"+received.ID+"/outcome", url.Values{"outcome": {"phoned"}})
	if p.status != http.StatusSeeOther || p.location != "/desk/contacts" {
		t.Fatalf("recorded again on the page: %d %q\n%s", p.status, p.location, p.body)
	}
	expectPage(t, op.follow(p), http.StatusOK, "Questo contatto era già stato registrato.")

	// Approval: the voucher is ready and, as asked, delivered at home.
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"}),
		http.StatusOK)
	ready := e.waitContact("operatore.tradate", c.ID, "voucher_ready")
	if !ready.HomeDelivery || !strings.Contains(ready.MessageIT, "Buono disponibile") {
		t.Fatalf("voucher contact %+v", ready)
	}
	r = e.do("POST", "/api/v1/contact-tasks/"+ready.ID+"/outcome", "operatore.tradate", map[string]any{"outcome": "delivered_home"})
	expectStatus(t, r, http.StatusOK)
	var done contactTask
	r.json(t, &done)
	if done.Status != "done" {
		t.Fatalf("after delivery %+v", done)
	}
	r = e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", reg.Citizen.Username, nil)
	var types []string
	var tl []struct {
		Type string `json:"type"`
	}
	r.json(t, &tl)
	for _, ev := range tl {
		types = append(types, ev.Type)
	}
	joined := strings.Join(types, ",")
	for _, want := range []string{"contact_needed", "contact_phoned", "contact_delivered_home"} {
		if !strings.Contains(joined, want) {
			t.Errorf("timeline lacks %s: %s", want, joined)
		}
	}
	rows = e.auditByActor("operatore.tradate")
	if !findAudit(rows, "record_contact", tc, c.ID) {
		raw, _ := json.Marshal(rows)
		t.Fatalf("no record_contact audit row: %s", raw)
	}
}
