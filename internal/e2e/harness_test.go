// Package e2e drives whole citizen journeys over HTTP against a real Temporal
// server and a real PostgreSQL, with the production worker and API.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"sportello/activities"
	"sportello/api"
	"sportello/forms"
	"sportello/internal/accounting"
	"sportello/internal/apicontract"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type stack struct {
	t         *testing.T
	st        *store.Store
	tc        client.Client
	taskQueue string
	srv       *httptest.Server
	worker    sdkworker.Worker
	mailer    activities.Mailer // nil: notifications stay in the outbox
	portalURL string            // the worker's portal address ("http://portal.test" when empty)
	// accounting is the sandbox accounting system of the worker (call
	// budget commitments), started with the first worker.
	accounting       *accounting.Server
	accountingClient *accounting.Client
}

func newStack(t *testing.T) *stack { return newStackWith(t, nil) }

func newStackWith(t *testing.T, mailer activities.Mailer) *stack {
	t.Helper()
	_, st := testenv.Postgres(t)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	s := &stack{t: t, st: st, tc: testenv.Temporal(t), taskQueue: testenv.TaskQueue(t), mailer: mailer}
	s.startWorker()
	s.srv = httptest.NewServer(apicontract.For(t, api.New(s.apiDeps())))
	t.Cleanup(func() {
		s.srv.Close()
		s.stopWorker()
	})
	return s
}

// apiDeps is the API's wiring in the e2e stacks (no payment provider).
func (s *stack) apiDeps() api.Deps {
	s.t.Helper()
	reg, err := forms.NewRegistry()
	if err != nil {
		s.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return api.Deps{Store: s.st, Temporal: s.tc, Forms: reg, Logger: logger, TaskQueue: s.taskQueue,
		Namespace: "default", TemporalUIURL: "http://127.0.0.1:8233"}
}

func (s *stack) startWorker() {
	portal := s.portalURL
	if portal == "" {
		portal = "http://portal.test"
	}
	if s.accounting == nil {
		s.accounting, s.accountingClient = testenv.Accounting(s.t, accounting.Options{})
	}
	s.worker = worker.NewWith(s.tc, s.st, worker.Config{TaskQueue: s.taskQueue, Mailer: s.mailer, PortalURL: portal,
		Accounting: s.accountingClient})
	if err := s.worker.Start(); err != nil {
		s.t.Fatalf("worker: %v", err)
	}
}

func (s *stack) stopWorker() {
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
}

type session struct {
	s     *stack
	token string
	user  map[string]any
}

func (s *stack) login(username string) *session {
	s.t.Helper()
	var out struct {
		Token string         `json:"token"`
		User  map[string]any `json:"user"`
	}
	code := (&session{s: s}).call("POST", "/api/v1/session", map[string]string{"username": username, "password": "demo"}, nil, &out)
	if code != http.StatusOK || out.Token == "" {
		s.t.Fatalf("login %s: status %d", username, code)
	}
	return &session{s: s, token: out.Token, user: out.User}
}

// call sends a JSON request and decodes the JSON answer into out (if not nil).
func (c *session) call(method, path string, body any, headers map[string]string, out any) int {
	c.s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.s.srv.URL+path, rd)
	if err != nil {
		c.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
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
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.s.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	if testing.Verbose() && resp.StatusCode >= 400 {
		c.s.t.Logf("%s %s -> %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

func (c *session) mustCall(want int, method, path string, body any, out any) {
	c.s.t.Helper()
	var raw json.RawMessage
	code := c.call(method, path, body, nil, &raw)
	if code != want {
		c.s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.s.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}

// eventually polls cond until it holds; the limit only guards against hangs.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// caseRef is the answer to a filed application: the case's id.
type caseRef struct {
	ID string `json:"id"`
}

// apply files application as the session's citizen (201 or the test
// fails) and returns the new case.
func (c *session) apply(application map[string]any) caseRef {
	c.s.t.Helper()
	var created caseRef
	c.mustCall(http.StatusCreated, "POST", "/api/v1/applications", application, &created)
	return created
}

func application(taxCode, municipality string, members, minors int, isee float64) map[string]any {
	return map[string]any{
		"form": "buoni-spesa",
		"data": map[string]any{
			"applicant": map[string]any{"first_name": "Maria", "last_name": "Rossi", "tax_code": taxCode,
				"birth_date": "1980-01-01", "email": "maria.rossi@example.org"},
			"residence":    map[string]any{"municipality": municipality, "address": "Via Roma 1"},
			"household":    map[string]any{"members": members, "minors": minors},
			"isee_euro":    isee,
			"delivery":     "download",
			"declarations": map[string]any{"truthful": true, "privacy": true},
		},
	}
}

type task struct {
	ID        string `json:"id"`
	CaseID    string `json:"case_id"`
	Status    string `json:"status"`
	Escalated bool   `json:"escalated"`
	ClaimedBy string `json:"claimed_by"`
}

// taskFor waits until the case has an open task in the session's queue.
func (c *session) taskFor(caseID string) task {
	c.s.t.Helper()
	var found task
	eventually(c.s.t, "a task for "+caseID, func() bool {
		var tasks []task
		var wrapped struct {
			Items []task `json:"items"`
		}
		var raw json.RawMessage
		if c.call("GET", "/api/v1/tasks?status=open", nil, nil, &raw) != http.StatusOK {
			return false
		}
		if json.Unmarshal(raw, &tasks) != nil {
			if json.Unmarshal(raw, &wrapped) != nil {
				return false
			}
			tasks = wrapped.Items
		}
		for _, tk := range tasks {
			if tk.CaseID == caseID {
				found = tk
				return true
			}
		}
		return false
	})
	return found
}

func (c *session) applicationStatus(caseID string) string {
	var out struct {
		Status string `json:"status"`
	}
	c.call("GET", "/api/v1/applications/"+caseID, nil, nil, &out)
	return out.Status
}

func (s *stack) citizenTaxCode() string {
	var tc string
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT tax_code FROM users WHERE username = 'cittadino.tradate'`).Scan(&tc); err != nil {
		s.t.Fatal(err)
	}
	return tc
}

func (s *stack) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.st.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (s *stack) assertBooksBalance() {
	s.t.Helper()
	problem, err := store.LedgerCheck(context.Background(), s.st.Pool)
	if err != nil || problem != "" {
		s.t.Fatalf("ledger: %q %v", problem, err)
	}
}

func fmtCents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
