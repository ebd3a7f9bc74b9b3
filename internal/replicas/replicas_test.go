// Package replicas proves that nothing is held in one process (issue 14):
// two `sportello api` processes and two `sportello worker` processes,
// built from this tree, share one PostgreSQL database and one Temporal
// server and nothing else. A session made on one API works on the other
// and ends on both; failed logins count across both; an Idempotency-Key
// sent to both files once and claims once; the schedules both workers put
// in place at the same moment exist once each.
package replicas

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/contract"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// providerSecret is the payment callback secret of the APIs (not the
// sandbox's public one, which `sportello api` refuses).
const providerSecret = "replicas-provider-secret-0123456789"

// process is one `sportello` process of the test.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// start runs bin with args and env; the process is stopped (SIGTERM, then
// SIGKILL) when the test ends, and its log is printed when the test fails.
func start(t *testing.T, bin, name string, env []string, args ...string) *process {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			raw, _ := os.ReadFile(logf.Name())
			t.Logf("---- log of %s ----\n%s", name, raw)
		}
		logf.Close()
	})
	return p
}

// logLines are the JSON log lines of p so far.
func (p *process) logLines(t *testing.T) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(p.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// peakRSS is the peak resident set of p in MiB (VmHWM).
func (p *process) peakRSS(t *testing.T) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// waitFor polls cond (a guard against hangs, not a timing assertion).
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends a JSON request to base and decodes the answer into out.
func call(t *testing.T, base, method, path, token string, body any, headers map[string]string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func TestNothingHeldInOneProcess(t *testing.T) {
	ctx := context.Background()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sportello")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "sportello")).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbURL, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Case numbers of this database start elsewhere than other packages'
	// (workflow ids on a shared Temporal server must not collide).
	if _, err := st.Pool.Exec(ctx, `SELECT setval('case_number_seq', 900000)`); err != nil {
		t.Fatal(err)
	}
	tc := testenv.Temporal(t)
	queue := testenv.TaskQueue(t)
	common := append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"TEMPORAL_ADDRESS="+testenv.TemporalAddress(t),
		"TEMPORAL_NAMESPACE="+testenv.Namespace,
		"SPORTELLO_TASK_QUEUE="+queue,
		"SPORTELLO_PUBLIC_URL=http://sportello.test",
		// Nothing in this test pays, invoices or mails: the outside
		// parties' addresses only have to be valid.
		"SPORTELLO_PAYMENTS_URL=http://127.0.0.1:9",
		"SPORTELLO_PAYMENTS_SECRET="+providerSecret,
		"SPORTELLO_ACCOUNTING_URL=http://127.0.0.1:9",
		"SPORTELLO_SMTP_HOST=127.0.0.1",
		"SPORTELLO_SMTP_PORT=9",
		"SPORTELLO_PSEUDONYM_KEY=replicas-pseudonym-key-0123456789",
		"SPORTELLO_METRICS_ADDR=off",
		"SPORTELLO_LOG_FORMAT=json",
		"SPORTELLO_LOG_LEVEL=info",
	)

	// Two workers started at the same moment: each puts every schedule in
	// place at start-up.
	var workers []*process
	for _, name := range []string{"worker-a", "worker-b"} {
		workers = append(workers, start(t, bin, name, common, "worker"))
	}
	var apis []string
	var apiProcs []*process
	for _, name := range []string{"api-a", "api-b"} {
		port := testenv.FreePort(t)
		apiProcs = append(apiProcs, start(t, bin, name, append(common, fmt.Sprintf("SPORTELLO_HTTP_ADDR=127.0.0.1:%d", port)), "api"))
		apis = append(apis, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	for i, base := range apis {
		waitFor(t, "API "+base+" ready", time.Minute, func() bool {
			select {
			case err := <-apiProcs[i].done:
				t.Fatalf("%s ended: %v", apiProcs[i].name, err)
			default:
			}
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	a, b := apis[0], apis[1]

	t.Run("a session made on one API works on the other and ends on both", func(t *testing.T) {
		var login struct {
			Token string `json:"token"`
		}
		if code := call(t, a, "POST", "/api/v1/session", "", map[string]string{"username": "operatore.tradate", "password": seed.DemoPassword}, nil, &login); code != 200 {
			t.Fatalf("login on A: %d", code)
		}
		var me struct {
			Username string `json:"username"`
		}
		if code := call(t, b, "GET", "/api/v1/me", login.Token, nil, nil, &me); code != 200 || me.Username != "operatore.tradate" {
			t.Fatalf("the session of A on B: %d %+v", code, me)
		}
		if code := call(t, b, "DELETE", "/api/v1/session", login.Token, nil, nil, nil); code != 204 && code != 200 {
			t.Fatalf("logout on B: %d", code)
		}
		if code := call(t, a, "GET", "/api/v1/me", login.Token, nil, nil, nil); code != 401 {
			t.Fatalf("the session ended on B still works on A: %d", code)
		}
		// The portal's session cookie is the same kind of session.
		form := strings.NewReader("username=cittadino.tradate&password=" + seed.DemoPassword)
		req, _ := http.NewRequest("POST", a+"/login", form)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "__Host-sportello_session" && c.Value != "" {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatalf("portal login on A: %d, no session cookie", resp.StatusCode)
		}
		req, _ = http.NewRequest("GET", b+"/", nil)
		req.AddCookie(cookie)
		resp, err = noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(page, []byte("Maria Rossi")) {
			t.Fatalf("the portal session of A on B: %d, the page does not name its user", resp.StatusCode)
		}
	})

	t.Run("failed logins count across both APIs", func(t *testing.T) {
		// store.ThrottlePolicies: an account's first 3 failures are free,
		// the 4th blocks it for 1 s, the 5th for 2 s, the 6th for 4 s. Three
		// failures on A, then B until it refuses: if each API counted its
		// own, B would only block after its own 4th failure, the 7th in
		// all. Counted together, B refuses after the 4th, or (a slow
		// machine letting the first block pass while hashing) the 5th or
		// 6th.
		wrong := map[string]string{"username": "cittadino.vedano", "password": "not-the-password"}
		for i := 0; i < 3; i++ {
			if code := call(t, a, "POST", "/api/v1/session", "", wrong, nil, nil); code != 401 {
				t.Fatalf("failure %d on A: %d", i+1, code)
			}
		}
		failures := 3
		for {
			var body struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			code := call(t, b, "POST", "/api/v1/session", "", wrong, nil, &body)
			if code == 429 {
				break
			}
			if code != 401 {
				t.Fatalf("attempt on B: %d %+v", code, body)
			}
			if failures++; failures >= 7 {
				t.Fatalf("B let %d failures through: it does not count A's", failures)
			}
		}
		t.Logf("B refused after %d failures, 3 of them on A", failures)
	})

	// A citizen of Tradate in the registry, with a session, files the same
	// application on both APIs at once with one Idempotency-Key.
	taxCode := "RSSMRA80A01L319"
	c, err := forms.TaxCodeCheckChar(taxCode)
	if err != nil {
		t.Fatal(err)
	}
	taxCode += string(c)
	if _, err := st.Pool.Exec(ctx, `INSERT INTO residents (tax_code, municipality_id, first_name, last_name) VALUES ($1, 'tradate', 'Replica', 'Citizen')`, taxCode); err != nil {
		t.Fatal(err)
	}
	var userID int64
	if err := st.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code, email)
		VALUES ('replica.citizen', 'x', 'citizen', 'Replica Citizen', 'tradate', 'tradate', $1, 'replica@example.org') RETURNING id`, taxCode).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	token := session(ctx, t, st, userID)
	operator := session(ctx, t, st, userIDOf(ctx, t, st, "operatore.tradate"))
	colleague := session(ctx, t, st, userIDOf(ctx, t, st, "operatrice.tradate"))

	var caseID string
	t.Run("an Idempotency-Key sent to both APIs at once files once", func(t *testing.T) {
		ids := make([]string, 2)
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for i, base := range apis {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var cv struct {
					ID string `json:"id"`
				}
				codes[i] = call(t, base, "POST", "/api/v1/applications", token, testenv.LoadApplication(taxCode),
					map[string]string{"Idempotency-Key": "replicas-apply-1"}, &cv)
				ids[i] = cv.ID
			}()
		}
		wg.Wait()
		for i := range codes {
			if codes[i] != 200 && codes[i] != 201 {
				t.Fatalf("apply on %s: %d", apis[i], codes[i])
			}
		}
		if ids[0] == "" || ids[0] != ids[1] {
			t.Fatalf("two answers for one key: %v", ids)
		}
		var n int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM cases c JOIN users u ON u.id = c.applicant_id WHERE u.id = $1`, userID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d cases filed for one Idempotency-Key", n)
		}
		caseID = ids[0]
	})

	t.Run("a claim with one Idempotency-Key on both APIs claims once", func(t *testing.T) {
		if caseID == "" {
			t.Fatal("no case (the previous step failed)")
		}
		var taskID string
		waitFor(t, "the case in the review queue (the workers took it there)", 2*time.Minute, func() bool {
			var cv struct {
				Task *struct {
					ID string `json:"id"`
				} `json:"task"`
			}
			if code := call(t, a, "GET", "/api/v1/applications/"+caseID, operator, nil, nil, &cv); code != 200 || cv.Task == nil {
				return false
			}
			taskID = cv.Task.ID
			return true
		})
		key := map[string]string{"Idempotency-Key": "replicas-claim-1"}
		if code := call(t, a, "POST", "/api/v1/tasks/"+taskID+"/claim", operator, nil, key, nil); code != 200 {
			t.Fatalf("claim on A: %d", code)
		}
		if code := call(t, b, "POST", "/api/v1/tasks/"+taskID+"/claim", operator, nil, key, nil); code != 200 {
			t.Fatalf("the same claim again on B: %d (the update id is derived from the key, not kept by A)", code)
		}
		if code := call(t, b, "POST", "/api/v1/tasks/"+taskID+"/claim", colleague, nil, map[string]string{"Idempotency-Key": "replicas-claim-2"}, nil); code != 409 {
			t.Fatalf("a colleague's claim of the claimed task: %d, want 409", code)
		}
	})

	t.Run("the schedules both workers made at once exist once", func(t *testing.T) {
		for _, w := range workers {
			waitFor(t, w.name+" schedules in place", 3*time.Minute, func() bool {
				for _, l := range w.logLines(t) {
					if l["msg"] == "billing schedules in place" {
						return true
					}
				}
				return false
			})
			for _, l := range w.logLines(t) {
				if msg, _ := l["msg"].(string); strings.HasSuffix(msg, "schedules") || strings.HasSuffix(msg, "schedule") {
					t.Errorf("%s: %s: %v", w.name, msg, l["err"])
				}
			}
		}
		payees, err := st.BillingPayees(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{contract.LedgerScheduleID: 0, contract.RetentionScheduleID: 0, contract.OperationsWatchScheduleID: 0}
		for _, p := range payees {
			want[contract.BillingScheduleID(p.Kind, p.PayeeID, p.Municipality)] = 0
		}
		// Temporal's visibility lists a new schedule a moment after its
		// creation: wait until every expected one is listed.
		waitFor(t, "every schedule listed", time.Minute, func() bool {
			for k := range want {
				want[k] = 0
			}
			it, err := tc.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for it.HasNext() {
				s, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := want[s.ID]; ok {
					want[s.ID]++
				}
			}
			for _, n := range want {
				if n == 0 {
					return false
				}
			}
			return true
		})
		for id, n := range want {
			if n != 1 {
				t.Errorf("schedule %s listed %d times", id, n)
			}
		}
		t.Logf("%d schedules, each once (%d billing)", len(want), len(payees))
	})

	// Peak resident sets of the real processes after this short load: the
	// manifests' memory figures (deploy/SCALING.md) quote them.
	for _, p := range append(apiProcs, workers...) {
		t.Logf("peak RSS %s: %.1f MiB", p.name, p.peakRSS(t))
	}
}

func session(ctx context.Context, t *testing.T, st *store.Store, userID int64) string {
	tok, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO auth_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
		hash, userID); err != nil {
		t.Fatal(err)
	}
	return tok
}

func userIDOf(ctx context.Context, t *testing.T, st *store.Store, username string) int64 {
	var id int64
	if err := st.Pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
