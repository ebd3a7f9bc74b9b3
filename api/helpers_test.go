package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/api"
	"sportello/internal/accounting"
	"sportello/internal/apicontract"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one API under test: a fresh seeded database, the shared Temporal
// server, a worker on the test's own task queue and an HTTP server.
type env struct {
	t        *testing.T
	st       *store.Store
	temporal client.Client
	queue    string // the worker's task queue
	srv      *httptest.Server
	tokens   map[string]string
	// mail holds the account notices the API sent (desk_trust.go).
	mail *mailbox
	// accounting is the sandbox accounting system of the worker (budget
	// commitments of calls, invoices).
	accounting *accounting.Server
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t) }

// newEnvWith is newEnv with the API's dependencies adjusted by opts.
func newEnvWith(t *testing.T, opts ...func(*api.Deps)) *env {
	t.Helper()
	_, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	// Test databases all number cases from 1, but share one Temporal server:
	// start each database's numbering elsewhere so that workflow ids
	// (case:BS-<year>-<n>) of different tests do not collide.
	if _, err := st.Pool.Exec(ctx, `SELECT setval('case_number_seq', $1)`, 100_000+rand.Int64N(800_000)); err != nil {
		t.Fatalf("case numbering: %v", err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	acc, accClient := testenv.Accounting(t, accounting.Options{})
	w := worker.NewWith(c, st, worker.Config{TaskQueue: tq, Accounting: accClient})
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	mail := &mailbox{}
	deps := api.Deps{
		Store: st, Temporal: c, TaskQueue: tq, Namespace: testenv.Namespace, AccountMailer: mail,
		TemporalUIURL: "http://temporal-ui.test",
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, o := range opts {
		o(&deps)
	}
	srv := httptest.NewServer(apicontract.For(t, api.New(deps)))
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, temporal: c, queue: tq, srv: srv, tokens: map[string]string{}, mail: mail, accounting: acc}
}

// testWriter sends log lines to the test log (shown when a test fails).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorBody decodes the standard error body.
func (r resp) errorBody(t *testing.T) api.ErrorDetail {
	t.Helper()
	var b api.ErrorBody
	r.json(t, &b)
	return b.Error
}

type hdr map[string]string

// do sends a request; body may be nil, a string (sent as is) or a value
// encoded as JSON. user "" sends no token.
func (e *env) do(method, path, user string, body any, headers ...hdr) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(user))
	}
	for _, h := range headers {
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// token logs user in once (password demo) and caches the token.
func (e *env) token(user string) string {
	e.t.Helper()
	if tok, ok := e.tokens[user]; ok {
		return tok
	}
	r := e.do("POST", "/api/v1/session", "", map[string]string{"username": user, "password": seed.DemoPassword})
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	var lr api.LoginResponse
	r.json(e.t, &lr)
	e.tokens[user] = lr.Token
	return lr.Token
}

func expectStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
}

// countCases counts every case in the database.
func (e *env) countCases() int {
	e.t.Helper()
	n, err := e.st.API().CountCases(context.Background(), store.System)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func demoUser(t *testing.T, username string) seed.DemoUser {
	t.Helper()
	for _, u := range seed.DemoUsers() {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("no demo user %s", username)
	return seed.DemoUser{}
}

// application returns valid application data for a demo citizen.
func application(t *testing.T, username string) map[string]any {
	t.Helper()
	u := demoUser(t, username)
	first, last, _ := strings.Cut(u.DisplayName, " ")
	birth := ""
	for _, r := range seed.Residents() {
		if r.TaxCode() == u.TaxCode {
			birth = r.Born.Format("2006-01-02")
		}
	}
	return map[string]any{
		"form": "buoni-spesa",
		"data": map[string]any{
			"applicant": map[string]any{
				"first_name": first, "last_name": last, "tax_code": u.TaxCode, "birth_date": birth,
				"email": u.Email,
			},
			"residence":    map[string]any{"municipality": u.Municipality, "address": "Via Roma 1"},
			"household":    map[string]any{"members": 3, "minors": 1},
			"isee_euro":    4500.5,
			"delivery":     "download",
			"declarations": map[string]any{"truthful": true, "privacy": true},
		},
	}
}

// dataOf returns the "data" object of an application for editing.
func dataOf(app map[string]any) map[string]any { return app["data"].(map[string]any) }

// caseView is the subset of a case the tests read.
type caseView struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	Form         string          `json:"form"`
	FormVersion  int             `json:"form_version"`
	Municipality string          `json:"municipality"`
	FundID       string          `json:"fund_id"`
	WorkflowID   string          `json:"workflow_id"`
	TemporalURL  string          `json:"temporal_ui_url"`
	Data         json.RawMessage `json:"data"`
	AwardCents   *int64          `json:"award_cents"`
	Voucher      *struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"voucher"`
	Task *struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		ClaimedBy string `json:"claimed_by"`
	} `json:"task"`
}

type taskView struct {
	ID            string `json:"id"`
	CaseID        string `json:"case_id"`
	Status        string `json:"status"`
	ClaimedBy     string `json:"claimed_by"`
	ApplicantName string `json:"applicant_name"`
	Municipality  string `json:"municipality"`
}

type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// apply files a valid application for user and returns the case.
func (e *env) apply(user string, headers ...hdr) caseView {
	e.t.Helper()
	r := e.do("POST", "/api/v1/applications", user, application(e.t, user), headers...)
	expectStatus(e.t, r, http.StatusCreated)
	var c caseView
	r.json(e.t, &c)
	return c
}

// waitTask polls the inbox of user until the case has an open task.
func (e *env) waitTask(user, caseID string) taskView {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := e.do("GET", "/api/v1/tasks?status=open", user, nil)
		expectStatus(e.t, r, http.StatusOK)
		var l list[taskView]
		r.json(e.t, &l)
		for _, tk := range l.Items {
			if tk.CaseID == caseID && e.workflowHasTask(caseID, tk.ID) {
				return tk
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("no open task for case %s in the inbox of %s\n%s", caseID, user, e.workflowDiagnosis(caseID))
	return taskView{}
}

// workflowHasTask reports whether the case workflow has recorded the task:
// the row is written by an activity a moment before the workflow does.
func (e *env) workflowHasTask(caseID, taskID string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := e.temporal.QueryWorkflow(ctx, workflows.CaseWorkflowID(caseID), "", workflows.QueryState)
	if err != nil {
		return false
	}
	var st workflows.StateResult
	return v.Get(&st) == nil && st.Task != nil && st.Task.ID == taskID
}

// workflowDiagnosis describes a case workflow's state and failures, for
// failure messages.
func (e *env) workflowDiagnosis(caseID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	d, err := e.temporal.DescribeWorkflowExecution(ctx, "case:"+caseID, "")
	if err != nil {
		return "describe workflow: " + err.Error()
	}
	fmt.Fprintf(&b, "workflow status %v, task queue %s\n", d.GetWorkflowExecutionInfo().GetStatus(),
		d.GetWorkflowExecutionInfo().GetTaskQueue())
	for _, pa := range d.GetPendingActivities() {
		fmt.Fprintf(&b, "pending activity %s attempt %d: %v\n", pa.GetActivityType().GetName(), pa.GetAttempt(),
			pa.GetLastFailure().GetMessage())
	}
	it := e.temporal.GetWorkflowHistory(ctx, "case:"+caseID, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			break
		}
		fmt.Fprintf(&b, "  %d %v\n", ev.GetEventId(), ev.GetEventType())
		if f := ev.GetWorkflowTaskFailedEventAttributes(); f != nil {
			fmt.Fprintf(&b, "    workflow task failed: %v\n", f.GetFailure().GetMessage())
		}
	}
	return b.String()
}
