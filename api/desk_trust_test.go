package api_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sportello/internal/notify"
	"sportello/internal/seed"
)

// Trust at the desk (issue 10, finding 2): who an operator serves, the
// shared desk, recoveries of active accounts, sessions ended by a new
// password, opaque public ids.

// mailbox is the API's mailer in the tests: it keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (m *mailbox) Send(_ context.Context, msg notify.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// to returns the messages sent to addr.
func (m *mailbox) to(addr string) []notify.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []notify.Message
	for _, msg := range m.msgs {
		if msg.To == addr {
			out = append(out, msg)
		}
	}
	return out
}

// ids returns the public and the internal (sequential) id of username.
func (e *env) ids(username string) (string, int64) {
	e.t.Helper()
	var public string
	var id int64
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT public_id::text, id FROM users WHERE username = $1`,
		username).Scan(&public, &id); err != nil {
		e.t.Fatalf("ids of %s: %v", username, err)
	}
	return public, id
}

// onBehalfApplication is a food-voucher application of Maria Rossi (Tradate) filed at the desk.
func onBehalfApplication(t *testing.T) map[string]any {
	return map[string]any{"form": "buoni-spesa", "data": application(t, "cittadino.tradate")["data"],
		"privacy_consent_signed": true}
}

func TestDeskServesItsMunicipalityUnlessTheDistrictSharesIt(t *testing.T) {
	e := newEnv(t)
	maria := demoUser(t, "cittadino.tradate")
	public, seq := e.ids("cittadino.tradate")
	path := "/api/v1/citizens/" + public
	casesBefore := e.countCases()

	// Vedano Olona's operator does not serve a citizen of Tradate: not
	// found on read, new code and filing on behalf; search does not list her.
	expectStatus(t, e.do("GET", path, "operatore.vedano", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", path+"/activation-code", "operatore.vedano", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", path+"/applications", "operatore.vedano", onBehalfApplication(t)), http.StatusNotFound)
	if n := e.countCases(); n != casesBefore {
		t.Fatalf("a case was filed: %d -> %d", casesBefore, n)
	}
	b := e.browser()
	b.login("operatore.vedano")
	for _, q := range []string{maria.TaxCode, "Maria", "cittadino.tradate"} {
		p := b.get("/desk?q=" + url.QueryEscape(q))
		expectPage(t, p, http.StatusOK, "Nessun cittadino trovato")
		if strings.Contains(p.body, public) || strings.Contains(p.body, "Maria Rossi") {
			t.Fatalf("search %q lists a citizen of Tradate to Vedano's operator:\n%s", q, p.body)
		}
	}
	expectPage(t, b.get("/desk/citizens/"+public), http.StatusNotFound)
	// Registering a resident of Tradate is not Vedano's either.
	r := e.do("POST", "/api/v1/citizens", "operatore.vedano", lucaRegistration(""))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if fieldCodes(t, r)["/tax_code"] != "not_served" {
		t.Fatalf("registration outside the municipality: %s", r.body)
	}

	// Tradate's operator serves her; a sequential id is a 404 for everyone.
	r = e.do("GET", path, "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var d map[string]any
	r.json(t, &d)
	if d["id"] != public {
		t.Fatalf("the citizen's id is %v, want the public id %s", d["id"], public)
	}
	for _, raw := range []string{strconv.FormatInt(seq, 10), strconv.FormatInt(seq, 10) + "/activation-code"} {
		method := "GET"
		if strings.HasSuffix(raw, "code") {
			method = "POST"
		}
		expectStatus(t, e.do(method, "/api/v1/citizens/"+raw, "operatore.tradate", nil), http.StatusNotFound)
	}
	expectPage(t, e.browserAs("operatore.tradate").get("/desk/citizens/"+strconv.FormatInt(seq, 10)), http.StatusNotFound)

	// Sharing the desk is the supervisor's, audited.
	expectStatus(t, e.do("PUT", "/api/v1/district/desk-sharing", "operatore.vedano", map[string]any{"shared": true}),
		http.StatusForbidden)
	r = e.do("GET", "/api/v1/district/desk-sharing", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"shared":false`) {
		t.Fatalf("sharing is on by default: %s", r.body)
	}
	expectStatus(t, e.do("PUT", "/api/v1/district/desk-sharing", "supervisore", map[string]any{}), http.StatusUnprocessableEntity)
	expectStatus(t, e.do("PUT", "/api/v1/district/desk-sharing", "supervisore", map[string]any{"shared": true}), http.StatusOK)
	if !findAuditAction(e.auditByActor("supervisore"), "set_desk_sharing") {
		t.Fatal("turning the sharing on is not audited")
	}

	// Shared: Vedano's operator reads and files for her, audited as acting
	// across municipalities.
	expectStatus(t, e.do("GET", path, "operatore.vedano", nil), http.StatusOK)
	p := b.get("/desk?q=" + url.QueryEscape(maria.TaxCode))
	expectPage(t, p, http.StatusOK, public)
	r = e.do("POST", path+"/applications", "operatore.vedano", onBehalfApplication(t))
	expectStatus(t, r, http.StatusCreated)
	shared := 0
	for _, row := range e.auditByActor("operatore.vedano") {
		detail, _ := row["detail"].(map[string]any)
		if row["acting_for"] == maria.TaxCode && detail["shared_desk"] == true && detail["citizen_municipality"] == "tradate" {
			shared++
		}
	}
	if shared < 2 {
		t.Fatalf("acting under the shared desk is not audited as such (%d rows)", shared)
	}

	// Unshared again: back to 404.
	expectStatus(t, e.do("PUT", "/api/v1/district/desk-sharing", "supervisore", map[string]any{"shared": false}), http.StatusOK)
	expectStatus(t, e.do("GET", path, "operatore.vedano", nil), http.StatusNotFound)
}

func findAuditAction(rows []map[string]any, action string) bool {
	for _, row := range rows {
		if row["action"] == action {
			return true
		}
	}
	return false
}

// browserAs is a browser logged in as user.
func (e *env) browserAs(user string) *browser {
	b := e.browser()
	b.login(user)
	return b
}

// mailedCode is an activation code standing alone in a text: not part
// of a longer run of letters, digits and hyphens such as a UUID, whose
// groups of digits would otherwise look like one.
var mailedCode = regexp.MustCompile(`(?:^|[^-0-9A-Za-z])([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})(?:$|[^-0-9A-Za-z])`)

// codeIn is the activation code in text ("" when there is none).
func codeIn(text string) string {
	if m := mailedCode.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func TestRecoveryOfAnActiveAccountIsConfirmedByTheCitizen(t *testing.T) {
	e := newEnv(t)
	maria := demoUser(t, "cittadino.tradate")
	public, _ := e.ids("cittadino.tradate")
	oldToken, status := e.loginAs("cittadino.tradate", seed.DemoPassword)
	if status != http.StatusOK {
		t.Fatalf("login: %d", status)
	}
	web := e.browserAs("cittadino.tradate")

	// The operator asks: the desk gets a recovery, no code; the password is unchanged.
	r := e.do("POST", "/api/v1/citizens/"+public+"/activation-code", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusAccepted)
	var rec map[string]any
	r.json(t, &rec)
	if rec["status"] != "sent" || rec["channel"] != "email" || mailedCode.Match(r.body) {
		t.Fatalf("recovery answer: %s", r.body)
	}
	if _, status := e.loginAs("cittadino.tradate", seed.DemoPassword); status != http.StatusOK {
		t.Fatalf("the password changed before the citizen confirmed: %d", status)
	}
	// What the operator could try: the activation endpoint without the e-mailed code.
	expectStatus(t, e.do("POST", "/api/v1/activation", "", map[string]string{"username": "cittadino.tradate",
		"code": "AAAA-BBBB-CCCC", "password": "presa dall'operatore"}), http.StatusUnprocessableEntity)

	// The citizen is told, with the code, in Italian.
	mails := e.mail.to(maria.Email)
	if len(mails) != 1 || !strings.Contains(mails[0].Text, "Se NON è stato lei") {
		t.Fatalf("recovery e-mails: %+v", mails)
	}
	code := codeIn(mails[0].Text)
	if code == "" {
		t.Fatalf("no code in the e-mail:\n%s", mails[0].Text)
	}

	// The citizen confirms with the code: new password, every old session ends, she is told.
	const newPassword = "una nuova password sicura"
	expectStatus(t, e.do("POST", "/api/v1/activation", "", map[string]string{"username": "cittadino.tradate",
		"code": code, "password": newPassword}), http.StatusOK)
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+oldToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old token still works after the password change: %d", res.StatusCode)
	}
	if p := web.get("/me"); p.status == http.StatusOK {
		t.Fatalf("the old web session still works after the password change")
	}
	if _, status := e.loginAs("cittadino.tradate", seed.DemoPassword); status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", status)
	}
	if _, status := e.loginAs("cittadino.tradate", newPassword); status != http.StatusOK {
		t.Fatalf("new password: %d", status)
	}
	mails = e.mail.to(maria.Email)
	if len(mails) != 2 || !strings.Contains(mails[1].Subject, "password") {
		t.Fatalf("password-changed e-mail: %+v", mails)
	}
	if !findAudit(e.auditByActor("operatore.tradate"), "request_account_recovery", maria.TaxCode, "") {
		t.Fatal("the recovery request is not audited")
	}
}

func TestRecoveryWithoutEmailIsApprovedByASupervisor(t *testing.T) {
	e := newEnv(t)
	reg := e.register(lucaRegistration(""))
	const first = "la prima password di luca"
	expectStatus(t, e.do("POST", "/api/v1/activation", "", map[string]string{"username": reg.Citizen.Username,
		"code": reg.Activation.Code, "password": first}), http.StatusOK)
	oldToken, status := e.loginAs(reg.Citizen.Username, first)
	if status != http.StatusOK {
		t.Fatalf("login: %d", status)
	}

	r := e.do("POST", "/api/v1/citizens/"+reg.Citizen.ID+"/activation-code", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusAccepted)
	var rec struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	r.json(t, &rec)
	if rec.Status != "awaiting_approval" || mailedCode.Match(r.body) {
		t.Fatalf("recovery without e-mail: %s", r.body)
	}
	// Asking again while it waits is a conflict.
	expectStatus(t, e.do("POST", "/api/v1/citizens/"+reg.Citizen.ID+"/activation-code", "operatore.tradate", nil),
		http.StatusConflict)

	// Only supervisors decide; the page lists it.
	expectStatus(t, e.do("GET", "/api/v1/recoveries", "operatore.tradate", nil), http.StatusForbidden)
	expectStatus(t, e.do("POST", "/api/v1/recoveries/"+rec.ID+"/decision", "operatore.tradate",
		map[string]any{"approve": true}), http.StatusForbidden)
	r = e.do("GET", "/api/v1/recoveries?status=awaiting_approval", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), rec.ID) {
		t.Fatalf("recoveries: %s", r.body)
	}
	sup := e.browserAs("supervisore")
	expectPage(t, sup.get("/desk/recoveries"), http.StatusOK, "Luca Colombo", "/desk/recoveries/"+rec.ID+"/decision")
	expectStatus(t, e.do("POST", "/api/v1/recoveries/not-a-uuid/decision", "supervisore", map[string]any{"approve": true}),
		http.StatusNotFound)

	// Approved on the page: the hand-over sheet shows the code once.
	p := sup.post("/desk/recoveries/"+rec.ID+"/decision", url.Values{"decision": {"approve"}})
	expectPage(t, p, http.StatusOK, reg.Citizen.Username)
	code := codeIn(p.body)
	if code == "" {
		t.Fatalf("no code on the sheet:\n%s", p.body)
	}
	expectStatus(t, e.do("POST", "/api/v1/recoveries/"+rec.ID+"/decision", "supervisore", map[string]any{"approve": true}),
		http.StatusConflict)
	if !findAudit(e.auditByActor("supervisore"), "decide_account_recovery", reg.Citizen.TaxCode, "") {
		t.Fatal("the decision is not audited")
	}

	const second = "la seconda password di luca"
	expectStatus(t, e.do("POST", "/api/v1/activation", "", map[string]string{"username": reg.Citizen.Username,
		"code": code, "password": second}), http.StatusOK)
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+oldToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old token still works: %d", res.StatusCode)
	}
	if _, status := e.loginAs(reg.Citizen.Username, second); status != http.StatusOK {
		t.Fatalf("new password: %d", status)
	}
}
