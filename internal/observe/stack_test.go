package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"sportello/api"
	"sportello/internal/observe"
	"sportello/internal/payments"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// stack is the real platform in this process, wired as cmd/sportello wires
// it: the store with SQL spans and its pool's metrics, one Temporal client
// with the SDK's metrics (and the tracing interceptor when tracing is on)
// shared by the worker and the API, the API behind observe.HTTPHandler, and
// /metrics served from observe.Registry.
type stack struct {
	t        *testing.T
	st       *store.Store
	temporal client.Client
	api      *httptest.Server
	metrics  *httptest.Server
	tokens   map[string]string
	logs     *syncBuffer
}

func newStack(t *testing.T) *stack { t.Helper(); return newStackWith(t, nil) }

// newStackWith is newStack whose API and worker call the payment provider
// through pay (nil: none).
func newStackWith(t *testing.T, pay *payments.Client) *stack {
	t.Helper()
	ctx := context.Background()
	url, seedStore := testenv.Postgres(t)
	if err := seed.Run(ctx, seedStore, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	st, err := store.OpenTraced(ctx, url, observe.NewSQLTracer(nil))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	t.Cleanup(observe.RegisterPool(st.Pool))

	opts, err := observe.Temporal(client.Options{HostPort: testenv.TemporalAddress(t), Namespace: testenv.Namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatalf("temporal options: %v", err)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		t.Fatalf("dial Temporal: %v", err)
	}
	t.Cleanup(c.Close)
	tq := testenv.TaskQueue(t)
	w := worker.NewWith(c, st, worker.Config{TaskQueue: tq, Payments: pay})
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)

	logs := &syncBuffer{}
	h := observe.HTTPHandler(api.New(api.Deps{Store: st, Temporal: c, TaskQueue: tq, Namespace: testenv.Namespace, Payments: pay,
		Logger: slog.New(observe.LogHandler(slog.NewJSONHandler(logs, nil)))}))
	s := &stack{t: t, st: st, temporal: c, tokens: map[string]string{}, logs: logs,
		api: httptest.NewServer(h), metrics: httptest.NewServer(observe.Handler())}
	t.Cleanup(s.api.Close)
	t.Cleanup(s.metrics.Close)
	return s
}

// syncBuffer collects log lines written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.b.String()), "\n")
}

type reply struct {
	status int
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (s *stack) do(method, path, user string, body any, headers ...string) reply {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.api.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+s.token(user))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{status: res.StatusCode, body: raw}
}

func (s *stack) expect(r reply, status int) {
	s.t.Helper()
	if r.status != status {
		s.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func (s *stack) token(user string) string {
	s.t.Helper()
	if tok, ok := s.tokens[user]; ok {
		return tok
	}
	r := s.do("POST", "/api/v1/session", "", map[string]string{"username": user, "password": seed.DemoPassword})
	s.expect(r, http.StatusOK)
	var lr api.LoginResponse
	r.decode(s.t, &lr)
	s.tokens[user] = lr.Token
	return lr.Token
}

// apply files a valid food-voucher application for a demo citizen and
// returns the case id.
func (s *stack) apply(username string) string {
	s.t.Helper()
	var u seed.DemoUser
	for _, d := range seed.DemoUsers() {
		if d.Username == username {
			u = d
		}
	}
	birth := ""
	for _, r := range seed.Residents() {
		if r.TaxCode() == u.TaxCode {
			birth = r.Born.Format("2006-01-02")
		}
	}
	first, last, _ := strings.Cut(u.DisplayName, " ")
	r := s.do("POST", "/api/v1/applications", username, map[string]any{"form": "buoni-spesa", "data": map[string]any{
		"applicant":    map[string]any{"first_name": first, "last_name": last, "tax_code": u.TaxCode, "birth_date": birth, "email": u.Email},
		"residence":    map[string]any{"municipality": u.Municipality, "address": "Via Roma 1"},
		"household":    map[string]any{"members": 3, "minors": 1},
		"isee_euro":    4500.5,
		"delivery":     "download",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}})
	s.expect(r, http.StatusCreated)
	var c struct {
		ID string `json:"id"`
	}
	r.decode(s.t, &c)
	return c.ID
}

// until checks cond every 50ms for up to 30s: what the test waits for is a
// state it reads (the workflow's, a voucher's), not the passing of time.
func (s *stack) until(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reviewTask is the open review task of a case once its workflow has
// recorded it (the row is written by an activity a moment before).
func (s *stack) reviewTask(caseID string) string {
	s.t.Helper()
	var id string
	s.until("the review task of "+caseID, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := s.temporal.QueryWorkflow(ctx, workflows.CaseWorkflowID(caseID), "", workflows.QueryState)
		if err != nil {
			return false
		}
		var st workflows.StateResult
		if v.Get(&st) != nil || st.Task == nil {
			return false
		}
		id = st.Task.ID
		return true
	})
	return id
}

// scrape reads /metrics: each series ("name{labels}" as written, labels
// sorted) and its value.
func (s *stack) scrape() metrics {
	s.t.Helper()
	res, err := http.Get(s.metrics.URL)
	if err != nil {
		s.t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		s.t.Fatalf("scrape: %d %v", res.StatusCode, err)
	}
	m := metrics{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			s.t.Fatalf("scrape: bad line %q", line)
		}
		m[line[:i]] = v
	}
	return m
}

type metrics map[string]float64

// get is the value of the one series of name whose labels include every
// pair of labels ("k", "v", ...); ok is false when there is none.
func (m metrics) get(t *testing.T, name string, labels ...string) (v float64, ok bool) {
	t.Helper()
	n := 0
	for series, val := range m {
		base, rest, _ := strings.Cut(series, "{")
		if base != name {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+`="`+labels[i+1]+`"`) {
				match = false
			}
		}
		if match {
			v, n = val, n+1
		}
	}
	if n > 1 {
		t.Fatalf("%s %v matches %d series", name, labels, n)
	}
	return v, n == 1
}

// delta is how much the series moved from before to after; a series that
// did not exist before counts from 0, one missing after fails the test.
func delta(t *testing.T, before, after metrics, name string, labels ...string) float64 {
	t.Helper()
	a, ok := after.get(t, name, labels...)
	if !ok {
		t.Fatalf("no series %s %v on /metrics", name, labels)
	}
	b, _ := before.get(t, name, labels...)
	return a - b
}
