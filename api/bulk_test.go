package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"sportello/api"
	"sportello/forms"
	"sportello/internal/auth"
)

// addUser adds a user with the demo password (municipality "" for none).
func (e *env) addUser(username, role, district, municipality, taxCode string) {
	e.t.Helper()
	hash, err := auth.HashPassword("demo")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO users (username, password_hash, role, display_name,
			district_id, municipality_id, tax_code) VALUES ($1, $2, $3, $1, $4, nullif($5, ''), nullif($6, ''))`,
		username, hash, role, district, municipality, taxCode); err != nil {
		e.t.Fatal(err)
	}
}

// newApplicant files an application as a new citizen of municipality with
// the given household and returns the case id; i tells the citizens apart.
func (e *env) newApplicant(i int, municipality string, members, minors int) string {
	e.t.Helper()
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	tc := fmt.Sprintf("%c%cXBLK80A01L319", letters[i%20], letters[(i/20)%20])
	c, err := forms.TaxCodeCheckChar(tc)
	if err != nil {
		e.t.Fatal(err)
	}
	tc += string(c)
	user := "bulk." + tc
	e.addUser(user, "citizen", "tradate", municipality, tc)
	r := e.do("POST", "/api/v1/applications", user, map[string]any{"form": "buoni-spesa", "data": map[string]any{
		"applicant":    map[string]any{"first_name": "Anna", "last_name": "Bulk", "tax_code": tc, "birth_date": "1980-01-01"},
		"residence":    map[string]any{"municipality": municipality, "address": "Via Roma 1"},
		"household":    map[string]any{"members": members, "minors": minors},
		"isee_euro":    4000,
		"delivery":     "download",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}})
	expectStatus(e.t, r, http.StatusCreated)
	var cv caseView
	r.json(e.t, &cv)
	return cv.ID
}

// bulk sends a bulk request and decodes the per-item results.
func (e *env) bulk(user string, body map[string]any, headers ...hdr) api.BulkResultBody {
	e.t.Helper()
	r := e.do("POST", "/api/v1/tasks/bulk", user, body, headers...)
	expectStatus(e.t, r, http.StatusOK)
	var res api.BulkResultBody
	r.json(e.t, &res)
	if len(res.Items) != len(body["task_ids"].([]string)) {
		e.t.Fatalf("%d results for %d tasks: %s", len(res.Items), len(body["task_ids"].([]string)), r.body)
	}
	return res
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.st.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// openTaskOfKind waits for the case's open task of kind.
func (e *env) openTaskOfKind(user, caseID, kind string) taskView {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tk := e.waitTask(user, caseID)
		var k string
		if err := e.st.Pool.QueryRow(context.Background(), `SELECT kind FROM tasks WHERE id = $1`, tk.ID).Scan(&k); err != nil {
			e.t.Fatal(err)
		}
		if k == kind {
			return tk
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("no open %s task for %s", kind, caseID)
	return taskView{}
}

func expectItem(t *testing.T, it api.BulkItemBody, status, codeOrOutcome string) {
	t.Helper()
	got := it.Outcome
	if status == "refused" {
		got = it.Code
	}
	if it.Status != status || got != codeOrOutcome {
		t.Fatalf("item %s (%s): %+v, want %s %s", it.TaskID, it.CaseID, it, status, codeOrOutcome)
	}
	if status == "refused" && (it.Message == "" || it.MessageIT == "" || it.Message == it.MessageIT) {
		t.Fatalf("refusal of %s without its reason in English and Italian: %+v", it.TaskID, it)
	}
}

// TestBulkApprove: one bulk approval by a supervisor over a mix of tasks.
// Small awards are approved, an award above the fund's four-eyes threshold
// becomes a first approval, a task claimed by a colleague and an unknown id
// are refused; every item has its audit rows; repeating the request decides
// nothing twice; the first approver's bulk second approval is refused and
// another supervisor's goes through.
func TestBulkApprove(t *testing.T) {
	e := newEnv(t)
	e.addUser("supervisore2", "supervisor", "tradate", "", "")
	small1 := e.newApplicant(1, "tradate", 1, 0) // EUR 150
	small2 := e.newApplicant(2, "tradate", 2, 0) // EUR 250
	big := e.newApplicant(3, "tradate", 4, 2)    // EUR 550, above EUR 500
	taken := e.newApplicant(4, "tradate", 1, 0)  // claimed by the operator
	var ids []string
	for _, c := range []string{small1, small2, big, taken} {
		ids = append(ids, e.waitTask("supervisore", c).ID)
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+ids[3]+"/claim", "operatore.tradate", nil), http.StatusOK)
	stranger := uuid.NewString()
	req := map[string]any{"action": "approve", "task_ids": append(append([]string{}, ids...), stranger)}

	res := e.bulk("supervisore", req)
	if res.Done != 3 || res.Refused != 2 {
		t.Fatalf("done %d, refused %d: %+v", res.Done, res.Refused, res.Items)
	}
	expectItem(t, res.Items[0], "done", "approve")
	expectItem(t, res.Items[1], "done", "approve")
	expectItem(t, res.Items[2], "done", "first_approval")
	expectItem(t, res.Items[3], "refused", "task_not_claimed")
	expectItem(t, res.Items[4], "refused", "not_found")
	if res.Items[0].AmountCents != 15000 || res.Items[2].AmountCents != 55000 {
		t.Fatalf("amounts: %+v", res.Items)
	}
	if got := e.count(`SELECT count(*) FROM vouchers`); got != 2 {
		t.Fatalf("%d vouchers, want 2 (the first approval issues none)", got)
	}
	// Every item went through the single actions and their audit rows.
	for _, c := range []string{small1, small2, big} {
		if n := e.count(`SELECT count(*) FROM audit_log WHERE case_id = $1 AND actor_username = 'supervisore' AND action IN ('claim', 'decide')`, c); n != 2 {
			t.Fatalf("case %s: %d claim/decide audit rows, want 2", c, n)
		}
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE case_id = $1 AND actor_username = 'supervisore' AND action = 'decide_refused'`, taken); n != 1 {
		t.Fatalf("the refused item has %d decide_refused rows, want 1", n)
	}
	r := e.do("GET", "/api/v1/tasks/"+ids[3], "supervisore", nil)
	var tv taskView
	r.json(t, &tv)
	if tv.ClaimedBy != "operatore.tradate" {
		t.Fatalf("the colleague's task changed hands: %+v", tv)
	}

	// The same request again decides nothing twice.
	again := e.bulk("supervisore", req)
	if again.Done != 0 || again.Refused != 5 {
		t.Fatalf("repeated request: %+v", again.Items)
	}
	for i := 0; i < 3; i++ {
		expectItem(t, again.Items[i], "refused", "task_not_open")
	}
	if got := e.count(`SELECT count(*) FROM vouchers`); got != 2 {
		t.Fatalf("%d vouchers after the repeat, want 2", got)
	}
	if n := e.count(`SELECT count(*) FROM case_events WHERE type IN ('approved', 'first_approval') AND case_id = ANY($1)`,
		[]string{small1, small2, big}); n != 3 {
		t.Fatalf("%d decisions on the timelines, want 3", n)
	}

	// Four eyes, per case: the first approver's bulk approval of the second
	// approval is refused for that item; another supervisor's is done.
	second := e.openTaskOfKind("supervisore", big, "second_approval")
	mine := e.bulk("supervisore", map[string]any{"action": "approve", "task_ids": []string{second.ID, ids[0]}})
	expectItem(t, mine.Items[0], "refused", "four_eyes")
	expectItem(t, mine.Items[1], "refused", "task_not_open")
	op := e.bulk("operatore.tradate", map[string]any{"action": "approve", "task_ids": []string{second.ID}})
	expectItem(t, op.Items[0], "refused", "forbidden")
	other := e.bulk("supervisore2", map[string]any{"action": "approve", "task_ids": []string{second.ID}})
	expectItem(t, other.Items[0], "done", "approve")
	if other.Items[0].AmountCents != 55000 {
		t.Fatalf("second approval amount: %+v", other.Items[0])
	}
	if got := e.count(`SELECT count(*) FROM vouchers`); got != 3 {
		t.Fatalf("%d vouchers after the second approval, want 3", got)
	}
}

// TestBulkApproveAmountAndRetry: an operator approves a selection with one
// amount; an amount the fund does not allow is refused per item and the
// claim made for it is given back; a retry with the same Idempotency-Key
// applies nothing twice.
func TestBulkApproveAmountAndRetry(t *testing.T) {
	e := newEnv(t)
	a := e.newApplicant(11, "tradate", 1, 0)
	b := e.newApplicant(12, "tradate", 1, 0)
	ta, tb := e.waitTask("operatore.tradate", a), e.waitTask("operatore.tradate", b)

	tooMuch := e.bulk("operatore.tradate", map[string]any{"action": "approve", "task_ids": []string{ta.ID}, "amount_cents": 60000})
	expectItem(t, tooMuch.Items[0], "refused", "invalid_decision")
	r := e.do("GET", "/api/v1/tasks/"+ta.ID, "operatore.tradate", nil)
	var tv taskView
	r.json(t, &tv)
	if tv.Status != "open" || tv.ClaimedBy != "" {
		t.Fatalf("the refused item keeps the bulk's claim: %+v", tv)
	}

	body := map[string]any{"action": "approve", "task_ids": []string{ta.ID, tb.ID}, "amount_cents": 20000}
	key := hdr{"Idempotency-Key": "bulk-retry-1"}
	first := e.bulk("operatore.tradate", body, key)
	retry := e.bulk("operatore.tradate", body, key)
	for i := range first.Items {
		expectItem(t, first.Items[i], "done", "approve")
		if first.Items[i].AmountCents != 20000 {
			t.Fatalf("amount: %+v", first.Items[i])
		}
		if retry.Items[i].Status == "done" && retry.Items[i].AmountCents != 20000 {
			t.Fatalf("retry: %+v", retry.Items[i])
		}
	}
	if n := e.count(`SELECT count(*) FROM vouchers`); n != 2 {
		t.Fatalf("%d vouchers after a retried bulk approval, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM case_events WHERE type = 'approved' AND case_id = ANY($1)`, []string{a, b}); n != 2 {
		t.Fatalf("%d approvals on the timelines, want 2", n)
	}
}

// TestBulkAssign: a supervisor assigns a selection; a task taken from
// someone needs a reason (refused for that item without one), a colleague
// of another municipality is refused per item, operators may not assign.
func TestBulkAssign(t *testing.T) {
	e := newEnv(t)
	f := e.newApplicant(21, "tradate", 1, 0)
	g := e.newApplicant(22, "tradate", 1, 0)
	h := e.newApplicant(23, "tradate", 1, 0)
	v := e.newApplicant(24, "vedano-olona", 1, 0)
	var ids []string
	for _, c := range []string{f, g, h, v} {
		ids = append(ids, e.waitTask("supervisore", c).ID)
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+ids[2]+"/claim", "supervisore", nil), http.StatusOK)

	res := e.bulk("supervisore", map[string]any{"action": "assign", "task_ids": ids, "assignee": "operatore.tradate"})
	if res.Done != 2 || res.Refused != 2 {
		t.Fatalf("done %d refused %d: %+v", res.Done, res.Refused, res.Items)
	}
	expectItem(t, res.Items[0], "done", "")
	expectItem(t, res.Items[1], "done", "")
	if res.Items[0].AssignedTo != "operatore.tradate" {
		t.Fatalf("assigned to %q", res.Items[0].AssignedTo)
	}
	expectItem(t, res.Items[2], "refused", "invalid_decision") // taken from supervisore without a reason
	expectItem(t, res.Items[3], "refused", "unknown_assignee") // no such operator in Vedano Olona
	for _, c := range []string{f, g, h} {
		if n := e.count(`SELECT count(*) FROM audit_log WHERE case_id = $1 AND action IN ('assign', 'assign_refused')`, c); n != 1 {
			t.Fatalf("case %s: %d assign audit rows (done or refused), want 1", c, n)
		}
	}

	withReason := e.bulk("supervisore", map[string]any{"action": "assign", "task_ids": ids[2:3],
		"assignee": "operatore.tradate", "reason": "Ferie"})
	expectItem(t, withReason.Items[0], "done", "")
	r := e.do("GET", "/api/v1/tasks/"+ids[2], "operatore.tradate", nil)
	var tv taskView
	r.json(t, &tv)
	if tv.ClaimedBy != "operatore.tradate" {
		t.Fatalf("after the bulk assignment: %+v", tv)
	}

	r = e.do("POST", "/api/v1/tasks/bulk", "operatore.tradate", map[string]any{"action": "assign", "task_ids": ids[:1], "assignee": "operatore.tradate"})
	expectStatus(t, r, http.StatusForbidden)
}

// TestBulkValidation: malformed bulk requests are a 422 with field pointers,
// and nothing is done.
func TestBulkValidation(t *testing.T) {
	e := newEnv(t)
	id := uuid.NewString()
	many := make([]string, 101)
	for i := range many {
		many[i] = uuid.NewString()
	}
	cases := []struct {
		name     string
		body     any
		pointers []string
	}{
		{"no action", map[string]any{"task_ids": []string{id}}, []string{"/action"}},
		{"unknown action", map[string]any{"action": "reject", "task_ids": []string{id}}, []string{"/action"}},
		{"no tasks", map[string]any{"action": "approve", "task_ids": []string{}}, []string{"/task_ids"}},
		{"too many", map[string]any{"action": "approve", "task_ids": many}, []string{"/task_ids"}},
		{"duplicate", map[string]any{"action": "approve", "task_ids": []string{uuid.NewString(), uuid.NewString(), id, id}}, []string{"/task_ids/3"}},
		{"not an id", map[string]any{"action": "approve", "task_ids": []string{id, "x"}}, []string{"/task_ids/1"}},
		{"negative amount", map[string]any{"action": "approve", "task_ids": []string{id}, "amount_cents": -1}, []string{"/amount_cents"}},
		{"amount too large", map[string]any{"action": "approve", "task_ids": []string{id}, "amount_cents": 100_000_001}, []string{"/amount_cents"}},
		{"no assignee", map[string]any{"action": "assign", "task_ids": []string{id}}, []string{"/assignee"}},
		{"ids of the wrong type", map[string]any{"action": "approve", "task_ids": "x"}, []string{"/task_ids"}},
		{"unknown member", map[string]any{"action": "approve", "task_ids": []string{id}, "outcome": "approve"}, []string{"/outcome"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/tasks/bulk", "supervisore", tc.body)
			expectStatus(t, r, http.StatusUnprocessableEntity)
			got := map[string]bool{}
			for _, f := range r.errorBody(t).Fields {
				got[f.Pointer] = true
				if f.Message == "" || f.MessageIT == "" {
					t.Fatalf("field without messages: %+v", f)
				}
			}
			for _, p := range tc.pointers {
				if !got[p] {
					t.Fatalf("no problem at %s: %s", p, r.body)
				}
			}
		})
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/bulk", "supervisore", "{"), http.StatusUnprocessableEntity)
	expectStatus(t, e.do("POST", "/api/v1/tasks/bulk", "cittadino.tradate", map[string]any{"action": "approve", "task_ids": []string{id}}), http.StatusForbidden)
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'decide%' OR action LIKE 'claim%' OR action LIKE 'assign%'`); n != 0 {
		t.Fatalf("%d audit rows of actions for refused requests", n)
	}
}

// TestBulkApproveTwiceAtOnce: the same bulk approval sent twice at the same
// moment (a double click) decides each task once: every task is done in
// exactly one of the two answers, and each case has one voucher.
func TestBulkApproveTwiceAtOnce(t *testing.T) {
	e := newEnv(t)
	var ids, cases []string
	for i := 41; i <= 43; i++ {
		c := e.newApplicant(i, "tradate", 1, 0)
		cases = append(cases, c)
		ids = append(ids, e.waitTask("operatore.tradate", c).ID)
	}
	raw, err := json.Marshal(map[string]any{"action": "approve", "task_ids": ids})
	if err != nil {
		t.Fatal(err)
	}
	token := e.token("operatore.tradate")
	results := make([]api.BulkResultBody, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/tasks/bulk", bytes.NewReader(raw))
			if err != nil {
				errs[k] = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[k] = err
				return
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				errs[k] = fmt.Errorf("status %d", res.StatusCode)
				return
			}
			errs[k] = json.NewDecoder(res.Body).Decode(&results[k])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range ids {
		done := 0
		for _, r := range results {
			if r.Items[i].Status == "done" {
				done++
			}
		}
		if done != 1 {
			t.Fatalf("task %d was approved in %d answers: %+v / %+v", i, done, results[0].Items[i], results[1].Items[i])
		}
	}
	if n := e.count(`SELECT count(*) FROM vouchers v JOIN cases c ON c.id = v.case_id WHERE c.id = ANY($1)`, cases); n != len(cases) {
		t.Fatalf("%d vouchers for %d cases", n, len(cases))
	}
	if n := e.count(`SELECT count(*) FROM case_events WHERE type = 'approved' AND case_id = ANY($1)`, cases); n != len(cases) {
		t.Fatalf("%d approvals on the timelines for %d cases", n, len(cases))
	}
}
