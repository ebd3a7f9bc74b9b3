package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"sportello/activities"
	"sportello/internal/app/privacy"
	"sportello/internal/pseudonym"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

// get sends a GET with the session's token and returns the status, the
// content type and the body as they are.
func (c *session) get(path string, headers map[string]string) (int, string, []byte) {
	c.s.t.Helper()
	req, err := http.NewRequest("GET", c.s.srv.URL+path, nil)
	if err != nil {
		c.s.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// personalTables are the tables the retention run pseudonymises (README,
// "Privacy and record of processing"): no row of any of them may still
// hold a pseudonymised citizen's tax code, name or e-mail.
var personalTables = []string{"users", "auth_sessions", "cart_items", "cases", "case_events", "tasks", "vouchers",
	"redemptions", "notifications", "bookings", "booking_sessions", "appointments", "contact_tasks",
	"activation_codes", "account_recoveries"}

// TestPersonalDataExportAndRetention: a citizen downloads their data (JSON
// and PDF, each audited) and finds their case and nothing of another
// citizen's; the retention run then pseudonymises the citizen whose only
// case is closed and older than the period, leaves alone the one whose old
// case is still open and everything recent, keeps the books balanced and
// the audit rows as they were, records every run, and changes nothing the
// second time.
func TestPersonalDataExportAndRetention(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	maria := s.login("cittadino.tradate")
	taxMaria := s.citizenTaxCode()
	var taxGiovanni string
	if err := s.st.Pool.QueryRow(ctx, `SELECT tax_code FROM users WHERE username = 'cittadino.vedano'`).Scan(&taxGiovanni); err != nil {
		t.Fatal(err)
	}

	// Maria's application is rejected (closed); Giovanni's stays open.
	mariaCase := maria.apply(application(taxMaria, "tradate", 3, 1, 8000))
	op := s.login("operatore.tradate")
	tk := op.taskFor(mariaCase.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision",
		map[string]any{"outcome": "reject", "reason": "ISEE oltre la soglia per Maria Rossi"}, nil)
	eventually(t, "the rejection", func() bool { return maria.applicationStatus(mariaCase.ID) == "rejected" })

	giovanni := s.login("cittadino.vedano")
	app := application(taxGiovanni, "vedano-olona", 2, 0, 6000)
	applicant := app["data"].(map[string]any)["applicant"].(map[string]any)
	applicant["first_name"], applicant["last_name"], applicant["email"] = "Giovanni", "Bianchi", "giovanni.bianchi@example.org"
	app["data"].(map[string]any)["residence"].(map[string]any)["address"] = "Via Garibaldi 2"
	giovanniCase := giovanni.apply(app)

	// The JSON download: Maria's person, case, answers, timeline and the
	// audit rows about her; nothing of Giovanni's.
	code, ctype, raw := maria.get("/api/v1/me/export", nil)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("export: %d %s %s", code, ctype, raw)
	}
	var x store.PersonalExport
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{taxMaria, mariaCase.ID, "Via Roma 1", "maria.rossi@example.org"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the export lacks %q", want)
		}
	}
	for _, other := range []string{taxGiovanni, giovanniCase.ID, "Bianchi", "giovanni.bianchi"} {
		if strings.Contains(string(raw), other) {
			t.Errorf("Maria's export holds %q, Giovanni's", other)
		}
	}
	for _, secret := range []string{"password_hash", "token_hash", "code_hash", "request_hash", "operatore.tradate"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the export holds %q", secret)
		}
	}
	var cases []map[string]any
	if err := json.Unmarshal(x.Cases, &cases); err != nil || len(cases) != 1 || cases[0]["id"] != mariaCase.ID || cases[0]["data"] == nil {
		t.Errorf("export cases: %s", x.Cases)
	}
	if !strings.Contains(string(x.CaseEvents), `"rejected"`) || !strings.Contains(string(x.Audit), `"decide"`) {
		t.Errorf("export timeline %s / audit %s", x.CaseEvents, x.Audit)
	}

	// The PDF: a valid document listing the case, in English when asked.
	code, ctype, pdf := maria.get("/api/v1/me/export?format=pdf&lang=en", nil)
	if code != http.StatusOK || ctype != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("PDF export: %d %s %.40q", code, ctype, pdf)
	}
	text := testenv.PDFText(t, pdf)
	for _, want := range []string{"Your personal data", mariaCase.ID, taxMaria, "Maria Rossi"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, giovanniCase.ID) {
		t.Errorf("Maria's PDF lists Giovanni's case")
	}
	if code, _, pdf := maria.get("/api/v1/me/export", map[string]string{"Accept": "application/pdf"}); code != http.StatusOK ||
		!strings.Contains(testenv.PDFText(t, pdf), "I tuoi dati personali") {
		t.Errorf("PDF by Accept, in Italian: %d", code)
	}
	if code, _, _ := op.get("/api/v1/me/export", nil); code != http.StatusForbidden {
		t.Errorf("an operator's export: %d, want 403", code)
	}
	if code, _, _ := maria.get("/api/v1/me/export?format=xml", nil); code != http.StatusUnprocessableEntity {
		t.Errorf("format xml: %d, want 422", code)
	}
	// Each download is audited, naming Maria by reference, not by tax code.
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND actor_role = 'citizen'
		AND acting_for = (SELECT 'citizen:' || public_id::text FROM users WHERE username = 'cittadino.tradate')`,
		privacy.AuditExport); n != 3 {
		t.Errorf("%d export audit rows, want 3 (json, pdf, pdf)", n)
	}
	sup := s.login("supervisore")
	var trail struct {
		Items []store.AuditEntry `json:"items"`
	}
	sup.mustCall(http.StatusOK, "GET", "/api/v1/audit?actor=citizen", nil, &trail)
	if len(trail.Items) != 3 || trail.Items[0].ActingFor != taxMaria {
		t.Fatalf("the supervisor's trail of the exports: %+v", trail.Items)
	}

	// The retention run, on its own worker with the pseudonym key.
	maker, err := pseudonym.New("e2e-pseudonym-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	queue := testenv.TaskQueue(t)
	w := sdkworker.New(s.tc, queue, sdkworker.Options{})
	worker.RegisterRetention(w, &activities.Retention{Store: s.st, Pseudonyms: &maker})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	const days = 30
	retain := func(name string) workflows.RetentionResult {
		t.Helper()
		run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "retention-" + name, TaskQueue: queue},
			workflows.Retention, workflows.RetentionInput{RetentionDays: days})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.RetentionResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("retention %s: %v", name, err)
		}
		return res
	}

	// Everything is recent: nothing is due.
	if res := retain("recent"); res.People != 0 || res.Cases != 0 || res.Kept != 0 {
		t.Fatalf("a run over recent records: %+v", res)
	}

	// Both citizens' records age past the period; Giovanni's case is open.
	for _, q := range []string{
		`UPDATE cases SET updated_at = now() - interval '60 days', created_at = now() - interval '61 days'`,
		`UPDATE auth_sessions SET last_seen_at = now() - interval '60 days'
			WHERE user_id IN (SELECT id FROM users WHERE role = 'citizen')`,
	} {
		if _, err := s.st.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// Audit rows as written before migration 021: a desk search naming
	// Maria and Giovanni by their plain tax codes (acting_for, and the
	// query in the detail, as typed).
	legacy := func(tax string) int64 {
		t.Helper()
		var id int64
		if err := s.st.Pool.QueryRow(ctx, `INSERT INTO audit_log (district_id, municipality_id, actor_id, actor_username,
				actor_role, acting_for, action, detail)
			SELECT 'tradate', 'tradate', id, username, 'operator', $1, 'search', jsonb_build_object('citizen_query', lower($1), 'results', 1)
			FROM users WHERE username = 'operatore.tradate' RETURNING id`, tax).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	mariaLegacy := legacy(taxMaria)
	legacy(taxGiovanni)
	var mariaRef string
	if err := s.st.Pool.QueryRow(ctx, `SELECT 'citizen:' || public_id::text FROM users WHERE username = 'cittadino.tradate'`).
		Scan(&mariaRef); err != nil {
		t.Fatal(err)
	}
	auditBefore := auditDump(t, s)
	mariaBefore := rowsOf(t, s, taxMaria)
	if len(mariaBefore) == 0 {
		t.Fatal("Maria's tax code is in no table before the run")
	}
	giovanniBefore := rowsOf(t, s, taxGiovanni)
	s.assertBooksBalance()

	res := retain("due")
	if res.People != 1 || res.Cases != 1 || res.Kept != 1 || res.More || res.RunID == 0 {
		t.Fatalf("the run: %+v, want Maria pseudonymised (1 case) and Giovanni kept", res)
	}
	pseudo := maker.Of(taxMaria)
	for _, v := range []string{taxMaria, "maria.rossi@example.org", "Via Roma 1", "per Maria Rossi"} {
		if left := rowsOf(t, s, v); len(left) > 0 {
			t.Errorf("%q is still in %v", v, left)
		}
	}
	if n := s.count(`SELECT count(*) FROM users WHERE tax_code = $1 AND display_name = $1 AND email IS NULL
		AND pseudonymised_at IS NOT NULL`, pseudo); n != 1 {
		t.Errorf("Maria's account is not pseudonymised as %s", pseudo)
	}
	var data, status string
	var award *int64
	if err := s.st.Pool.QueryRow(ctx, `SELECT data::text, status, award_cents FROM cases WHERE id = $1`, mariaCase.ID).
		Scan(&data, &status, &award); err != nil {
		t.Fatal(err)
	}
	if status != "rejected" || !strings.Contains(data, pseudo) || !strings.Contains(data, `"members": 3`) ||
		!strings.Contains(data, `"municipality": "tradate"`) || strings.Contains(data, "Rossi") {
		t.Errorf("Maria's case after the run: %s %s", status, data)
	}
	// Giovanni (an open case) and everything else are as they were.
	if got := rowsOf(t, s, taxGiovanni); strings.Join(got, ",") != strings.Join(giovanniBefore, ",") {
		t.Errorf("Giovanni's rows changed: %v, were %v", got, giovanniBefore)
	}
	if n := s.count(`SELECT count(*) FROM cases WHERE id = $1 AND data::text LIKE '%Bianchi%' AND pseudonymised_at IS NULL`,
		giovanniCase.ID); n != 1 {
		t.Errorf("Giovanni's open case was touched")
	}
	// The books still balance; the audit rows are unchanged, one row per
	// district records the run, and none names Maria's tax code.
	s.assertBooksBalance()
	if r, err := s.st.VerifyLedgerSnapshot(ctx, store.VerifyOptions{Grace: time.Hour}); err != nil || !r.OK() {
		t.Errorf("ledger check after the run: %v %s", err, r.FirstProblem())
	}
	// The audit rows are unchanged but Maria's legacy one, whose tax code
	// became her reference (and nothing else changed in it).
	auditAfter := auditDump(t, s)
	for id, row := range auditBefore {
		want := row
		if id == mariaLegacy {
			want = strings.ReplaceAll(strings.ReplaceAll(row, taxMaria, mariaRef), strings.ToLower(taxMaria), mariaRef)
			if want == row {
				t.Fatalf("the legacy row does not hold Maria's tax code: %s", row)
			}
		}
		if auditAfter[id] != want {
			t.Errorf("audit row %d: %s -> %s, want %s", id, row, auditAfter[id], want)
		}
	}
	if added := len(auditAfter) - len(auditBefore); added != s.count(`SELECT count(*) FROM districts`) ||
		s.count(`SELECT count(*) FROM audit_log WHERE action = 'retention_run'`) != 2*added {
		t.Errorf("%d audit rows added by the run", added)
	}
	if n := s.count(`SELECT count(*) FROM audit_log a WHERE a::text ILIKE '%' || $1 || '%'`, taxMaria); n != 0 {
		t.Errorf("%d audit rows name Maria's tax code", n)
	}
	// The trail still reads, now with the pseudonym.
	sup.mustCall(http.StatusOK, "GET", "/api/v1/audit?actor=citizen", nil, &trail)
	if len(trail.Items) != 3 || trail.Items[0].ActingFor != pseudo {
		t.Errorf("the trail of the exports after the run: %+v", trail.Items)
	}
	// The pseudonymised account cannot sign in.
	if code := (&session{s: s}).call("POST", "/api/v1/session",
		map[string]string{"username": "cittadino.tradate", "password": "demo"}, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("login of the pseudonymised account: %d, want 401", code)
	}

	// An audit row left naming Maria by tax code after her run (as by a run
	// before migration 022) is found by the next run through her keyed
	// pseudonym and gets her reference.
	lateLegacy := legacy(taxMaria)

	// Every run is recorded; a second run changes nothing else.
	pseudoRows := rowsOf(t, s, pseudo)
	again := retain("again")
	if again.People != 0 || again.Cases != 0 || again.Kept != 1 {
		t.Errorf("the second run: %+v", again)
	}
	if got := rowsOf(t, s, pseudo); strings.Join(got, ",") != strings.Join(pseudoRows, ",") {
		t.Errorf("the second run changed Maria's rows: %v, were %v", got, pseudoRows)
	}
	var actingFor, query string
	if err := s.st.Pool.QueryRow(ctx, `SELECT acting_for, detail->>'citizen_query' FROM audit_log WHERE id = $1`, lateLegacy).
		Scan(&actingFor, &query); err != nil || actingFor != mariaRef || query != mariaRef {
		t.Errorf("the late legacy row: %q %q %v, want Maria's reference %s", actingFor, query, err, mariaRef)
	}
	if n := s.count(`SELECT count(*) FROM audit_log a WHERE a::text ILIKE '%' || $1 || '%'`, taxMaria); n != 0 {
		t.Errorf("%d audit rows still name Maria's tax code", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log a WHERE a::text ILIKE '%' || $1 || '%'`, taxGiovanni); n != 1 {
		t.Errorf("%d audit rows name Giovanni's tax code, want his legacy row still (he is kept)", n)
	}
	runs, err := s.st.RetentionRuns(ctx, 10)
	if err != nil || len(runs) != 3 {
		t.Fatalf("recorded runs: %v %+v", err, runs)
	}
	if r := runs[1]; r.ID != res.RunID || r.People != 1 || r.Cases != 1 || r.Kept != 1 || r.RetentionDays != days ||
		!r.Cutoff.Equal(res.Cutoff) || r.FinishedAt.Before(r.StartedAt) || time.Since(r.Cutoff) < days*24*time.Hour {
		t.Errorf("the recorded run: %+v (result %+v)", r, res)
	}
	// Supervisors read the runs: as JSON, and in the portal from the menu,
	// in Italian and English, axe on each page (on a phone too).
	var rep privacy.RetentionReport
	sup.mustCall(http.StatusOK, "GET", "/api/v1/privacy/retention-runs", nil, &rep)
	if len(rep.Items) != 3 || rep.Items[1].ID != res.RunID || rep.Items[1].People != 1 || rep.Items[1].Kept != 1 {
		t.Errorf("the runs as JSON: %+v", rep)
	}
	page := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	page.Follow("Conservazione dati")
	assertPath(t, page, "/privacy/retention")
	assertPage(t, page, "Conservazione e pseudonimizzazione dei dati", "Esecuzioni registrate", "Le ultime 3 esecuzioni, dalla più recente")
	if got := page.Text(`tr[data-run="` + strconv.FormatInt(res.RunID, 10) + `"] td[data-col="people"]`); got != "1" {
		t.Errorf("the run's citizens on the page: %q, want 1", got)
	}
	page.Axe()
	page.Navigate("/lang/en?next=/privacy/retention")
	assertPage(t, page, "Data retention and pseudonymisation", "Recorded runs", "The last 3 runs, newest first")
	page.Axe()
	page.Phone()
	page.Reload()
	page.Axe()

	if dir := os.Getenv("SPORTELLO_RECORD_HISTORIES"); dir != "" {
		if err := os.MkdirAll(filepath.Join(dir, "retention"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeHistory(ctx, s.tc, "retention-due", filepath.Join(dir, "retention", "pseudonymised.json")); err != nil {
			t.Fatal(err)
		}
		if err := writeHistory(ctx, s.tc, "retention-recent", filepath.Join(dir, "retention", "nothing-due.json")); err != nil {
			t.Fatal(err)
		}
	}
}

// rowsOf names the rows ("table:ctid") of personalTables whose text holds v.
func rowsOf(t *testing.T, s *stack, v string) []string {
	t.Helper()
	var out []string
	for _, table := range personalTables {
		rows, err := s.st.Pool.Query(context.Background(),
			`SELECT ctid::text FROM `+table+` x WHERE strpos(lower(x::text), lower($1)) > 0 ORDER BY ctid`, v)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, table+":"+id)
		}
		rows.Close()
	}
	return out
}

// auditDump is every audit row as text, by id.
func auditDump(t *testing.T, s *stack) map[int64]string {
	t.Helper()
	rows, err := s.st.Pool.Query(context.Background(), `SELECT id, a::text FROM audit_log a`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var row string
		if err := rows.Scan(&id, &row); err != nil {
			t.Fatal(err)
		}
		out[id] = row
	}
	return out
}
