// Package faults runs the production processes (`sportello api` and
// `sportello worker`, built from this tree) against their own PostgreSQL
// cluster and Temporal server, and breaks them while citizens apply and
// book: the worker is killed (SIGKILL) several times, the API is restarted,
// PostgreSQL and the Temporal server are restarted once each. Afterwards
// every journey has ended exactly once, nothing was awarded or paid twice
// and `sportello verify` finds the books sound.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/bookingtest"
	"sportello/internal/devstack"
	"sportello/internal/paysandbox"
	"sportello/internal/pglocal"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// Sizes of the load: at least 200 journeys and 50 bookings
// (FAULTS_JOURNEYS and FAULTS_BOOKINGS change them, e.g. smaller while
// developing).
const (
	defaultJourneys = 200
	defaultBookings = 50
	taskQueue       = "faults"
	providerSecret  = "faults-provider-secret-not-the-sandbox-default"
)

// proc is one `sportello` process that the test starts, kills and starts
// again with the same arguments and environment.
type proc struct {
	t    *testing.T
	name string
	bin  string
	args []string
	env  []string
	log  *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(p.log, "---- start %s at %s\n", p.name, time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		p.t.Errorf("start %s: %v", p.name, err)
		return
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(done)
		// A process that ends without stop (a refused setting, a port in
		// use) fails the test at once, not after every journey's wait.
		p.mu.Lock()
		own := p.cmd == cmd
		p.mu.Unlock()
		if own {
			p.t.Errorf("%s exited on its own: %v (its log is printed at the end)", p.name, err)
		}
	}()
	p.cmd, p.done = cmd, done
}

// stop sends sig and waits for the process to end.
func (p *proc) stop(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	fmt.Fprintf(p.log, "---- %s %s at %s\n", sig, p.name, time.Now().Format(time.RFC3339Nano))
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// client is an HTTP client of the API that rides out restarts: a request
// that got no answer, or a 502/503, is sent again (the same Idempotency-Key
// where it matters), for at most two minutes.
type apiClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (c *apiClient) call(method, path, token string, body any, headers map[string]string, out any) (int, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := c.hc.Do(req)
		if err == nil {
			data, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable &&
				resp.StatusCode != http.StatusInternalServerError {
				if out != nil && len(data) > 0 {
					if err := json.Unmarshal(data, out); err != nil {
						return resp.StatusCode, fmt.Errorf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
					}
				}
				return resp.StatusCode, nil
			}
			err = fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		if time.Now().After(deadline) {
			return 0, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or the limit passes (a guard against
// hangs, not a timing assertion).
func waitFor(limit time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			if last == nil {
				last = errors.New("condition never held")
			}
			return fmt.Errorf("after %s: %w", limit, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type resident struct {
	taxCode, username, token string
	userID                   int64
}

// residents registers n synthetic residents of Tradate in the registry,
// with accounts and sessions.
func makeResidents(ctx context.Context, t *testing.T, st *store.Store, prefix string, n int) []resident {
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	out := make([]resident, n)
	for i := range out {
		s := fmt.Sprintf("%c%c%c%sNC80A01L319", letters[i%20], letters[(i/20)%20], letters[(i/400)%20], prefix)
		c, err := forms.TaxCodeCheckChar(s)
		if err != nil {
			t.Fatal(err)
		}
		tok, hash, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		r := resident{taxCode: s + string(c), username: "faults." + strings.ToLower(s+string(c)), token: tok}
		if _, err := st.Pool.Exec(ctx, `INSERT INTO residents (tax_code, municipality_id, first_name, last_name) VALUES ($1, 'tradate', 'Bench', 'Citizen')`,
			r.taxCode); err != nil {
			t.Fatal(err)
		}
		if err := st.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code, email)
			VALUES ($1, 'x', 'citizen', 'Bench Citizen', 'tradate', 'tradate', $2, $1 || '@example.org') RETURNING id`,
			r.username, r.taxCode).Scan(&r.userID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool.Exec(ctx, `INSERT INTO auth_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
			hash, r.userID); err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

func staffToken(ctx context.Context, t *testing.T, st *store.Store, username string) string {
	tok, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO auth_sessions (token_hash, user_id, expires_at)
		SELECT $1, id, now() + interval '1 day' FROM users WHERE username = $2`, hash, username); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJourneysSurviveFaults(t *testing.T) {
	ctx := context.Background()
	journeys, bookings := testenv.EnvInt("FAULTS_JOURNEYS", defaultJourneys), testenv.EnvInt("FAULTS_BOOKINGS", defaultBookings)
	dir := t.TempDir()

	// The production binary, built from this tree.
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sportello")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "sportello")).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	// PostgreSQL, its own cluster (restarted below).
	pgDir := filepath.Join(dir, "pg")
	pgOpts := pglocal.Options{Dir: pgDir, Port: testenv.FreePort(t), Ephemeral: true}
	pg, err := pglocal.Start(ctx, pgOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	if err := devstack.EnsureDatabase(ctx, pg.URL("postgres"), "sportello"); err != nil {
		t.Fatal(err)
	}
	dbURL := pg.URL("sportello")
	if err := store.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Temporal, its own dev server with its state in a file (restarted below).
	temporalBin, err := testenv.TemporalBin()
	if err != nil {
		t.Fatal(err)
	}
	tOpts := devstack.TemporalOptions{Bin: temporalBin, DBFile: filepath.Join(dir, "temporal.db"), LogFile: filepath.Join(dir, "temporal.log"),
		Port: testenv.FreePort(t), UIPort: testenv.FreePort(t)}
	ts, err := devstack.StartTemporal(ctx, tOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Stop() })
	tc, err := devstack.WaitTemporal(ctx, client.Options{HostPort: ts.Address(), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)

	// The payment provider's sandbox and the mail catcher: outside parties.
	apiPort := testenv.FreePort(t)
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	sb, err := paysandbox.New(paysandbox.Options{Secret: providerSecret, CallbackBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	provider := httptest.NewServer(sb)
	t.Cleanup(func() { provider.Close(); sb.Close() })
	smtpPort := testenv.FreePort(t)
	mail, err := devstack.StartMailCatcher(ctx, devstack.MailOptions{SMTPAddr: fmt.Sprintf("127.0.0.1:%d", smtpPort),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Stop() })

	env := append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"TEMPORAL_ADDRESS="+ts.Address(),
		"TEMPORAL_NAMESPACE=default",
		"SPORTELLO_TASK_QUEUE="+taskQueue,
		"SPORTELLO_HTTP_ADDR="+fmt.Sprintf("127.0.0.1:%d", apiPort),
		"SPORTELLO_PUBLIC_URL="+apiURL,
		"SPORTELLO_PAYMENTS_URL="+provider.URL,
		"SPORTELLO_PAYMENTS_SECRET="+providerSecret,
		"SPORTELLO_ACCOUNTING_URL="+fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)),
		"SPORTELLO_SMTP_HOST=127.0.0.1",
		"SPORTELLO_SMTP_PORT="+strconv.Itoa(smtpPort),
		"SPORTELLO_LOG_LEVEL=warn",
		// The worker refuses to start without a pseudonym key of its own.
		"SPORTELLO_PSEUDONYM_KEY=faults-test-pseudonym-key-not-dev",
		// Two processes on one machine would both want the default
		// 127.0.0.1:9464; /metrics is tested in internal/observe.
		"SPORTELLO_METRICS_ADDR=off",
	)
	logFile := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	workerProc := &proc{t: t, name: "worker", bin: bin, args: []string{"worker"}, env: env, log: logFile("worker")}
	apiProc := &proc{t: t, name: "api", bin: bin, args: []string{"api"}, env: env, log: logFile("api")}
	t.Cleanup(func() {
		apiProc.stop(syscall.SIGTERM)
		workerProc.stop(syscall.SIGTERM)
		if t.Failed() {
			for _, name := range []string{"worker", "api", "temporal"} {
				if raw, err := os.ReadFile(filepath.Join(dir, name+".log")); err == nil {
					if len(raw) > 4000 {
						raw = raw[len(raw)-4000:]
					}
					t.Logf("---- %s.log (end)\n%s", name, raw)
				}
			}
		}
	})
	workerProc.start()
	apiProc.start()
	api := &apiClient{t: t, base: apiURL, hc: &http.Client{Timeout: 20 * time.Second}}
	if err := waitFor(time.Minute, func() (bool, error) {
		code, err := api.call("GET", "/readyz", "", nil, nil, nil)
		return code == http.StatusOK, err
	}); err != nil {
		t.Fatalf("API not ready: %v", err)
	}

	// The people.
	applicants := makeResidents(ctx, t, st, "F", journeys)
	buyers := makeResidents(ctx, t, st, "G", bookings)
	operator := staffToken(ctx, t, st, "operatore.tradate")
	serviceID := bookingtest.ServiceID(t, st, bookingtest.Service)
	liftCapacity(ctx, t, st, serviceID)
	var category string
	if err := st.Pool.QueryRow(ctx, `SELECT category FROM services WHERE id = $1`, serviceID).Scan(&category); err != nil {
		t.Fatal(err)
	}
	price, err := bookingtest.UnitPrice(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	const voucherPart = 500
	if price <= voucherPart {
		t.Fatalf("the booked service costs %d cents: no online part", price)
	}
	vouchers := make([]string, bookings)
	for i, b := range buyers {
		vouchers[i] = bookingtest.ServiceVoucher(t, st, bookingtest.VoucherSpec{Username: b.username, Categories: []string{category}, Cents: 5_000})
	}

	// The faults, while the load runs.
	var faultsDone atomic.Bool
	var lastFault atomic.Int64 // unix nanoseconds
	faults := make(chan string, 16)
	go func() {
		defer faultsDone.Store(true)
		step := func(d time.Duration, what string, f func() error) bool {
			time.Sleep(d)
			if err := f(); err != nil {
				faults <- what + ": " + err.Error()
				return false
			}
			lastFault.Store(time.Now().UnixNano())
			faults <- what
			return true
		}
		killWorker := func() error {
			workerProc.stop(syscall.SIGKILL)
			time.Sleep(time.Second)
			workerProc.start()
			return nil
		}
		_ = step(3*time.Second, "worker killed", killWorker) &&
			step(3*time.Second, "API restarted", func() error { apiProc.stop(syscall.SIGTERM); apiProc.start(); return nil }) &&
			step(3*time.Second, "worker killed", killWorker) &&
			step(3*time.Second, "PostgreSQL restarted", func() error {
				if err := pg.Stop(); err != nil {
					return err
				}
				pg, err = pglocal.Start(ctx, pgOpts)
				return err
			}) &&
			step(4*time.Second, "worker killed", killWorker) &&
			step(3*time.Second, "Temporal restarted", func() error {
				if err := ts.Stop(); err != nil {
					return err
				}
				ts, err = devstack.StartTemporal(ctx, tOpts)
				return err
			}) &&
			step(3*time.Second, "worker killed", killWorker)
	}()

	// The load: every applicant applies, the operator reviews and approves;
	// every buyer books with a split payment and pays online.
	for _, err := range runLoad(ctx, api, st, loadSpec{applicants: applicants, operator: operator, journeysAtOnce: 12,
		buyers: buyers, serviceID: serviceID, vouchers: vouchers, voucherPart: voucherPart, bookingsAtOnce: 4}) {
		t.Error(err)
	}
	loadDone := time.Now()
	if err := waitFor(2*time.Minute, func() (bool, error) { return faultsDone.Load(), nil }); err != nil {
		t.Fatalf("the faults did not finish: %v", err)
	}
	close(faults)
	var happened []string
	for f := range faults {
		happened = append(happened, f)
	}
	t.Logf("faults: %s", strings.Join(happened, ", "))
	if len(happened) != 7 || strings.Contains(strings.Join(happened, ","), ":") {
		t.Fatalf("faults: %v", happened)
	}
	if last := time.Unix(0, lastFault.Load()); !last.Before(loadDone) {
		t.Fatalf("the load ended at %s, before the last fault at %s: raise FAULTS_JOURNEYS", loadDone.Format(time.StampMilli), last.Format(time.StampMilli))
	}
	if t.Failed() {
		return
	}

	// Every journey ended exactly once: one case per applicant, approved,
	// one voucher with one award and its first tranche; every booking paid
	// once and offered to its cooperative.
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := st.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	if err := waitFor(3*time.Minute, func() (bool, error) {
		return count(`SELECT count(*) FROM vouchers v JOIN accounts a ON a.id = 'voucher:' || v.id
			WHERE v.tax_code LIKE '___FNC%' AND a.balance_cents > 0`) == journeys, nil
	}); err != nil {
		t.Errorf("first tranches: %v", err)
	}
	for what, c := range map[string]struct {
		sql  string
		want int
	}{
		"cases of the applicants":                 {`SELECT count(*) FROM cases WHERE tax_code LIKE '___FNC%'`, journeys},
		"approved cases":                          {`SELECT count(*) FROM cases WHERE tax_code LIKE '___FNC%' AND status = 'approved'`, journeys},
		"vouchers":                                {`SELECT count(*) FROM vouchers WHERE tax_code LIKE '___FNC%'`, journeys},
		"award transfers":                         {`SELECT count(*) FROM transfers t JOIN vouchers v ON v.id = t.voucher_id WHERE v.tax_code LIKE '___FNC%' AND t.kind = 'award'`, journeys},
		"review tasks":                            {`SELECT count(*) FROM tasks t JOIN cases c ON c.id = t.case_id WHERE c.tax_code LIKE '___FNC%' AND t.kind = 'review'`, journeys},
		"bookings":                                {`SELECT count(*) FROM bookings b JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%'`, bookings},
		"paid bookings offered to a cooperative":  {`SELECT count(*) FROM bookings b JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%' AND b.status = 'requested' AND b.payment_status = 'paid'`, bookings},
		"payment transfers":                       {`SELECT count(*) FROM transfers t JOIN bookings b ON b.id = t.booking_id JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%' AND t.kind = 'payment'`, bookings},
		"captured payments at the provider (all)": {`SELECT count(DISTINCT payment_id) FROM bookings b JOIN users u ON u.id = b.citizen_id WHERE u.tax_code LIKE '___GNC%'`, bookings},
	} {
		if got := count(c.sql); got != c.want {
			t.Errorf("%s: %d, want %d", what, got, c.want)
		}
	}

	// No journey failed in Temporal.
	for _, status := range []string{"Failed", "Terminated", "TimedOut"} {
		resp, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "ExecutionStatus = '" + status + "'"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetCount() != 0 {
			t.Errorf("%d workflows %s", resp.GetCount(), status)
		}
	}

	// The ledger check of the production binary, with no grace period.
	cmd := exec.Command(bin, "verify", "--grace", "0s")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("the books balance")) {
		t.Fatalf("sportello verify: %v\n%s", err, out)
	}
}

// journey: the citizen applies (the same Idempotency-Key on every retry),
// the operator reads the case, claims its review task and approves.
func journey(api *apiClient, r resident, operator string, caseID *string) error {
	var created struct {
		ID string `json:"id"`
	}
	code, err := api.call("POST", "/api/v1/applications", r.token, testenv.LoadApplication(r.taxCode), map[string]string{"Idempotency-Key": "apply-" + r.taxCode}, &created)
	if err != nil || (code != http.StatusCreated && code != http.StatusOK) || created.ID == "" {
		return fmt.Errorf("apply: %d %v", code, err)
	}
	*caseID = created.ID
	var taskID string
	if err := waitFor(3*time.Minute, func() (bool, error) {
		var cv struct {
			Status string `json:"status"`
			Task   *struct {
				ID string `json:"id"`
			} `json:"task"`
		}
		code, err := api.call("GET", "/api/v1/applications/"+created.ID, operator, nil, nil, &cv)
		if err != nil || code != http.StatusOK {
			return false, fmt.Errorf("read case: %d %v", code, err)
		}
		if cv.Status == "in_review" && cv.Task != nil {
			taskID = cv.Task.ID
			return true, nil
		}
		return false, fmt.Errorf("case %s is %s", created.ID, cv.Status)
	}); err != nil {
		return err
	}
	return waitFor(3*time.Minute, func() (bool, error) {
		var cv struct {
			Status string `json:"status"`
		}
		if code, err := api.call("GET", "/api/v1/applications/"+created.ID, operator, nil, nil, &cv); err != nil || code != http.StatusOK {
			return false, fmt.Errorf("read case: %d %v", code, err)
		}
		if cv.Status == "approved" {
			return true, nil
		}
		// Claim (a repeat of one's own claim is harmless) and decide; a
		// decision already applied answers 409 and the case shows it.
		claimed, err := api.call("POST", "/api/v1/tasks/"+taskID+"/claim", operator, nil, nil, nil)
		if err != nil || (claimed != http.StatusOK && claimed != http.StatusConflict) {
			return false, fmt.Errorf("claim: %d %v", claimed, err)
		}
		var refusal json.RawMessage
		code, err := api.call("POST", "/api/v1/tasks/"+taskID+"/decision", operator, map[string]any{"outcome": "approve"}, nil, &refusal)
		if err != nil || (code != http.StatusOK && code != http.StatusConflict) {
			return false, fmt.Errorf("decide: %d %v", code, err)
		}
		return false, fmt.Errorf("case %s is %s (task %s: claim %d, decision %d %.300s)", created.ID, cv.Status, taskID, claimed, code, refusal)
	})
}

// loadSpec is a load: journeys of applicants reviewed by operator, and
// bookings of buyers (each paying voucherPart by its voucher, the rest
// online), so many of each at a time.
type loadSpec struct {
	applicants     []resident
	operator       string // the session token of the social worker who reviews
	journeysAtOnce int
	buyers         []resident
	serviceID      int64
	vouchers       []string // one per buyer
	voucherPart    int64
	bookingsAtOnce int
}

// runLoad runs the journeys and the bookings of l side by side and returns
// their errors when all have ended.
func runLoad(ctx context.Context, api *apiClient, st *store.Store, l loadSpec) []error {
	var wg sync.WaitGroup
	errs := make(chan error, len(l.applicants)+len(l.buyers))
	caseIDs := make([]string, len(l.applicants))
	eachAtOnce(&wg, l.applicants, l.journeysAtOnce, errs, func(i int, r resident) error {
		if err := journey(api, r, l.operator, &caseIDs[i]); err != nil {
			return fmt.Errorf("journey of %s: %w", r.taxCode, err)
		}
		return nil
	})
	jar, _ := cookiejar.New(nil)
	payer := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	bookingIDs := make([]string, len(l.buyers))
	eachAtOnce(&wg, l.buyers, l.bookingsAtOnce, errs, func(i int, r resident) error {
		if err := book(ctx, api, st, payer, r, l.serviceID, l.vouchers[i], l.voucherPart, &bookingIDs[i]); err != nil {
			return fmt.Errorf("booking of %s: %w", r.taxCode, err)
		}
		return nil
	})
	wg.Wait()
	close(errs)
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// eachAtOnce runs do for every resident in wg, at most atOnce at a time,
// and sends its errors to errs.
func eachAtOnce(wg *sync.WaitGroup, rs []resident, atOnce int, errs chan<- error, do func(i int, r resident) error) {
	sem := make(chan struct{}, max(1, atOnce))
	for i, r := range rs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := do(i, r); err != nil {
				errs <- err
			}
		})
	}
}

// book: the buyer puts the service in the cart and books it paying
// voucherPart by voucher and the rest online (the same Idempotency-Key on
// every retry), then pays on the provider's page.
// liftCapacity: the test books far more of one service than its weekly
// capacity (the checkout refuses a booking beyond it with 409
// capacity_full); lift it, the capacity check itself stays in the path.
func liftCapacity(ctx context.Context, t *testing.T, st *store.Store, serviceID int64) {
	t.Helper()
	if _, err := st.Pool.Exec(ctx, `UPDATE services SET capacity = 100000 WHERE id = $1`, serviceID); err != nil {
		t.Fatal(err)
	}
}

func book(ctx context.Context, api *apiClient, st *store.Store, payer *http.Client, r resident, serviceID int64, voucherID string, voucherPart int64, bookingID *string) error {
	code, err := api.call("POST", "/api/v1/cart/items", r.token, map[string]any{"service_id": serviceID, "quantity": 1}, nil, nil)
	if err != nil || (code != http.StatusOK && code != http.StatusCreated) {
		return fmt.Errorf("cart: %d %v", code, err)
	}
	var res struct {
		Booking struct {
			ID string `json:"id"`
		} `json:"booking"`
		ID string `json:"id"`
	}
	code, err = api.call("POST", "/api/v1/bookings", r.token, map[string]any{"service_id": serviceID, "payment": "split",
		"voucher_id": voucherID, "voucher_cents": voucherPart}, map[string]string{"Idempotency-Key": "book-" + r.taxCode}, &res)
	if err != nil || (code != http.StatusCreated && code != http.StatusOK) {
		return fmt.Errorf("book: %d %v", code, err)
	}
	*bookingID = res.Booking.ID
	if *bookingID == "" {
		*bookingID = res.ID
	}
	var payURL string
	if err := waitFor(3*time.Minute, func() (bool, error) {
		err := st.Pool.QueryRow(ctx, `SELECT coalesce(payment_url, '') FROM bookings WHERE id = $1`, *bookingID).Scan(&payURL)
		return err == nil && payURL != "", err
	}); err != nil {
		return fmt.Errorf("payment page: %w", err)
	}
	return waitFor(3*time.Minute, func() (bool, error) {
		var status string
		if err := st.Pool.QueryRow(ctx, `SELECT payment_status FROM bookings WHERE id = $1`, *bookingID).Scan(&status); err != nil {
			return false, err
		}
		if status == "paid" {
			return true, nil
		}
		page, err := payer.Get(payURL)
		if err != nil {
			return false, err
		}
		page.Body.Close()
		// Paying sends the browser back to the portal, which may be
		// restarting: what counts is the provider's callback.
		if resp, err := payer.PostForm(payURL+"/confirm", url.Values{"lang": {"it"}}); err == nil {
			resp.Body.Close()
		}
		return false, fmt.Errorf("booking %s payment %s", *bookingID, status)
	})
}
