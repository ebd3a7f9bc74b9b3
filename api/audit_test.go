package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// auditRow is a row of audit_log as the tests read it (as the table owner,
// past row-level security).
type auditRow struct {
	Action, Actor, Role, Reason, Detail, RequestID string
	CaseID                                         *string
}

// auditRows lists the audit rows, oldest first, of caseID ("" for every row).
func (e *env) auditRows(caseID string) []auditRow {
	e.t.Helper()
	rows, err := e.st.Pool.Query(context.Background(), `SELECT action, actor_username, actor_role, reason, detail::text,
		request_id, case_id FROM audit_log WHERE $1 = '' OR case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Action, &r.Actor, &r.Role, &r.Reason, &r.Detail, &r.RequestID, &r.CaseID); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func actions(rows []auditRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Actor+":"+r.Action)
	}
	return out
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")

	// The citizen reading their own case leaves no trace.
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "cittadino.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "cittadino.tradate", nil), http.StatusOK)
	if rows := e.auditRows(""); len(rows) != 0 {
		t.Fatalf("citizen reads audited: %v", actions(rows))
	}

	// Staff reads: the case, its timeline, its task, a search by tax code.
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "operatore.tradate", nil, hdr{"X-Request-ID": "audit-req-1"}), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/tasks/"+tk.ID, "operatore.tradate", nil), http.StatusOK)
	taxCode := demoUser(t, "cittadino.tradate").TaxCode
	expectStatus(t, e.do("GET", "/api/v1/applications?tax_code="+taxCode, "operatore.tradate", nil), http.StatusOK)
	// A list without a search term and a foreign operator's 404 are not reads of a case.
	expectStatus(t, e.do("GET", "/api/v1/applications", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "operatore.vedano", nil), http.StatusNotFound)

	rows := e.auditRows(c.ID)
	want := []string{"operatore.tradate:read_case", "operatore.tradate:read_timeline", "operatore.tradate:read_task"}
	if !slices.Equal(actions(rows), want) {
		t.Fatalf("case rows %v, want %v", actions(rows), want)
	}
	if rows[0].RequestID != "audit-req-1" || rows[0].Role != "operator" {
		t.Errorf("read row: %+v", rows[0])
	}
	all := e.auditRows("")
	if len(all) != 4 || all[3].Action != "search" || all[3].CaseID != nil || !strings.Contains(all[3].Detail, taxCode) {
		t.Fatalf("search row: %+v", all)
	}

	// Actions: claim, then a rejection with its reason.
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	// A refused claim is recorded as tried and refused.
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "supervisore", nil), http.StatusConflict)
	const reason = "Documentazione incompleta: manca l'attestazione ISEE."
	r := e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "reject", "reason": reason})
	expectStatus(t, r, http.StatusOK)
	rows = e.auditRows(c.ID)
	// Each action is recorded once, after it happened: done, or refused
	// with the refusal's code.
	want = append(want, "operatore.tradate:claim", "supervisore:claim_refused", "operatore.tradate:decide")
	if !slices.Equal(actions(rows), want) {
		t.Fatalf("case rows %v, want %v", actions(rows), want)
	}
	decide := rows[len(rows)-1]
	if decide.Reason != reason || !strings.Contains(decide.Detail, `"outcome": "reject"`) || !strings.Contains(decide.Detail, tk.ID) {
		t.Errorf("decision row: %+v", decide)
	}
	if refusal := rows[len(rows)-2]; !strings.Contains(refusal.Detail, `"error": "task_already_claimed"`) {
		t.Errorf("refusal row: %+v", refusal)
	}

	// A merchant's redemption is recorded without any case.
	before := len(e.auditRows(""))
	expectStatus(t, e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": "NOPE-NOPE", "amount_cents": 500}),
		http.StatusNotFound)
	all = e.auditRows("")
	if got := actions(all[before:]); !slices.Equal(got, []string{"esercente.tradate:redeem_refused"}) ||
		all[before].CaseID != nil || !strings.Contains(all[before].Detail, `"amount_cents": 500`) ||
		!strings.Contains(all[before].Detail, `"error": "not_found"`) {
		t.Errorf("redemption rows: %v %+v", got, all[before:])
	}

	// The staff case page is a read too.
	op := e.browser()
	op.login("operatore.tradate")
	p := op.get("/cases/" + c.ID)
	expectPage(t, p, http.StatusOK, "<h1>Pratica "+c.ID+"</h1>")
	if strings.Contains(p.body, "/audit?case_id=") {
		t.Error("the operator's case page links the access log")
	}
	rows = e.auditRows(c.ID)
	if last := rows[len(rows)-1]; last.Action != "read_case" || !strings.Contains(last.Detail, `"page"`) {
		t.Errorf("page read: %+v", last)
	}
	// The search page by tax code, and by case number (then the case page).
	expectPage(t, op.get("/search?q="+taxCode), http.StatusOK, c.ID)
	if all = e.auditRows(""); all[len(all)-1].Action != "search" || !strings.Contains(all[len(all)-1].Detail, taxCode) {
		t.Errorf("search page row: %+v", all[len(all)-1])
	}
	expectPage(t, op.follow(op.get("/search?q="+strings.ToLower(c.ID))), http.StatusOK, "<h1>Pratica "+c.ID+"</h1>")
	rows = e.auditRows(c.ID)
	if got := actions(rows[len(rows)-2:]); !slices.Equal(got, []string{"operatore.tradate:search", "operatore.tradate:read_case"}) {
		t.Errorf("search by number: %v", got)
	}

	// The supervisors' JSON view: their district only; nobody else.
	var l struct {
		Items []struct {
			Action        string `json:"action"`
			CaseID        string `json:"case_id"`
			ActorUsername string `json:"actor_username"`
			ActorRole     string `json:"actor_role"`
			Reason        string `json:"reason"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r = e.do("GET", "/api/v1/audit?case_id="+url.QueryEscape(c.ID), "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &l)
	if l.Total != len(rows) || len(l.Items) != len(rows) || l.Items[0].Action != "read_case" {
		t.Fatalf("supervisor's view: %d rows, want %d: %s", l.Total, len(rows), r.body)
	}
	found := false
	for _, it := range l.Items {
		if it.Action == "decide" && it.Reason == reason && it.ActorUsername == "operatore.tradate" && it.ActorRole == "operator" {
			found = true
		}
	}
	if !found {
		t.Errorf("no decision with its reason: %s", r.body)
	}
	r = e.do("GET", "/api/v1/audit?actor=esercente.tradate", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	l.Items = nil
	r.json(t, &l)
	if l.Total != 1 || l.Items[0].CaseID != "" {
		t.Errorf("merchant rows: %s", r.body)
	}
	r = e.do("GET", "/api/v1/audit", "supervisore.padova", nil)
	expectStatus(t, r, http.StatusOK)
	l.Items = nil
	r.json(t, &l)
	if l.Total != 0 {
		t.Errorf("another district's supervisor sees %d rows: %s", l.Total, r.body)
	}
	for _, u := range []string{"operatore.tradate", "cittadino.tradate", "esercente.tradate"} {
		expectStatus(t, e.do("GET", "/api/v1/audit", u, nil), http.StatusForbidden)
	}
	expectStatus(t, e.do("GET", "/api/v1/audit?case_id="+strings.Repeat("X", 65), "supervisore", nil), http.StatusUnprocessableEntity)

	// The supervisors' page: the case page links it; it lists the rows.
	sv := e.browser()
	sv.login("supervisore")
	expectPage(t, sv.get("/cases/"+c.ID), http.StatusOK, `href="/audit?case_id=`+c.ID+`"`, "Registro accessi")
	p = sv.get("/audit?case_id=" + url.QueryEscape(c.ID))
	expectPage(t, p, http.StatusOK, "<h1>Registro accessi</h1>", "<caption>Registro accessi della pratica "+c.ID,
		`<th scope="col">Quando</th>`, `<th scope="row"><time datetime="`, "operatore.tradate", "Operatore sociale",
		"Consultazione pratica", "Presa in carico (rifiutata)", "Decisione", "Documentazione incompleta",
		"esito: Respingi", `href="/cases/`+c.ID+`"`, `value="`+c.ID+`"`)
	expectPage(t, sv.get("/audit?actor=esercente.tradate"), http.StatusOK, "Riscossione buono", "importo: 5,00 €")
	expectPage(t, sv.get("/audit?actor=nobody"), http.StatusOK, "Nessuna registrazione corrisponde ai filtri.")
	expectPage(t, sv.get("/audit?case_id="+strings.Repeat("X", 65)), http.StatusUnprocessableEntity, `aria-invalid="true"`)
	sv.follow(sv.get("/lang/en?next=/audit"))
	expectPage(t, sv.get("/audit?case_id="+url.QueryEscape(c.ID)), http.StatusOK, "<h1>Access log</h1>", "Case read", "Decision")
	// Operators and other districts' supervisors do not get the page or the rows.
	expectPage(t, op.get("/audit"), http.StatusForbidden)
	pd := e.browser()
	pd.login("supervisore.padova")
	p = pd.get("/audit")
	expectPage(t, p, http.StatusOK, "Nessuna registrazione corrisponde ai filtri.")
	if strings.Contains(p.body, c.ID) {
		t.Error("another district's supervisor sees the case in the log")
	}
}

// TestAuditUnavailableStopsReads: when the trail cannot be written, staff
// get a 503 and not the data; citizens are not affected.
func TestAuditUnavailableStopsReads(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)
	ctx := context.Background()
	if _, err := e.st.Pool.Exec(ctx, `REVOKE INSERT ON audit_log FROM sportello_app`); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/v1/applications/"+c.ID, "operatore.tradate", nil)
	expectStatus(t, r, http.StatusServiceUnavailable)
	if code := r.errorBody(t).Code; code != "audit_unavailable" || strings.Contains(string(r.body), demoUser(t, "cittadino.tradate").TaxCode) {
		t.Errorf("503 body: %s", r.body)
	}
	// The timeline's row rides in the read's own transaction: no row, no events.
	r = e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusServiceUnavailable)
	if code := r.errorBody(t).Code; code != "audit_unavailable" || strings.Contains(string(r.body), "submitted") {
		t.Errorf("503 body of the timeline: %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "cittadino.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusServiceUnavailable)
	op := e.browser()
	op.login("operatore.tradate")
	p := op.get("/cases/" + c.ID)
	expectPage(t, p, http.StatusServiceUnavailable)
	if strings.Contains(p.body, demoUser(t, "cittadino.tradate").TaxCode) {
		t.Error("the case page shows personal data without an audit row")
	}
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "cittadino.tradate", nil), http.StatusOK)
	if _, err := e.st.Pool.Exec(ctx, `GRANT INSERT ON audit_log TO sportello_app`); err != nil {
		t.Fatal(err)
	}
	// The claim was not attempted: the task is still open.
	r = e.do("GET", "/api/v1/tasks/"+tk.ID, "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var got taskView
	r.json(t, &got)
	if got.Status != "open" {
		t.Errorf("task %s after a claim without audit", got.Status)
	}
}
