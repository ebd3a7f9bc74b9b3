package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/auth"
	"sportello/internal/seed"
)

// The door (issue 10): login and activation throttling, the same answer
// whoever the account, a bound on password hashing, HSTS, staff idle
// sessions.

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// doorEnv is an API whose clock the test moves, trusting X-Forwarded-For
// from the test client so that each part of a test is its own address.
func doorEnv(t *testing.T, opts ...func(*api.Deps)) (*env, *testClock) {
	clock := newTestClock()
	e := newEnvWith(t, append([]func(*api.Deps){func(d *api.Deps) {
		d.Now = clock.Now
		d.TrustedProxies = []string{"127.0.0.1", "::1"}
	}}, opts...)...)
	return e, clock
}

func from(addr string) hdr { return hdr{"X-Forwarded-For": addr} }

func (e *env) login(username, password, addr string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/session", "", map[string]string{"username": username, "password": password}, from(addr))
}

// retryAfter reads the Retry-After of a 429 (failing the test when absent).
func retryAfter(t *testing.T, r resp) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q on %d %s", r.header.Get("Retry-After"), r.status, r.body)
	}
	return time.Duration(n) * time.Second
}

// outcome is what a client can tell of an answer: status and body, minus
// the request id.
func outcome(t *testing.T, r resp) string {
	t.Helper()
	b := r.errorBody(t)
	b.RequestID = ""
	return strconv.Itoa(r.status) + " " + b.Code + " " + b.Message + " " + r.header.Get("Retry-After")
}

func TestLoginThrottledPerAccount(t *testing.T) {
	e, clock := doorEnv(t)
	const user = "cittadino.tradate"

	// 40 wrong passwords, then the right one: the back-off starts after a
	// few failures and refuses even the right password while it lasts.
	var statuses []int
	var last resp
	for range 40 {
		last = e.login(user, "wrong password", "10.0.0.1")
		statuses = append(statuses, last.status)
	}
	if statuses[0] != http.StatusUnauthorized {
		t.Fatalf("first wrong password: %d", statuses[0])
	}
	throttled := 0
	for _, s := range statuses {
		if s == http.StatusTooManyRequests {
			throttled++
		} else if s != http.StatusUnauthorized {
			t.Fatalf("statuses %v", statuses)
		}
	}
	if throttled < 30 {
		t.Fatalf("only %d of 40 wrong passwords throttled: %v", throttled, statuses)
	}
	r := e.login(user, seed.DemoPassword, "10.0.0.1")
	expectStatus(t, r, http.StatusTooManyRequests)
	if r.errorBody(t).Code != "too_many_attempts" {
		t.Fatalf("throttled body %s", r.body)
	}
	wait := retryAfter(t, r)
	// Another address does not help: the account is blocked.
	expectStatus(t, e.login(user, seed.DemoPassword, "10.0.0.2"), http.StatusTooManyRequests)

	// Every throttled attempt is in the audit trail, in the account's district.
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'login_throttled' AND district_id IS NOT NULL
		AND actor_id IS NULL AND detail->>'username' = $1`, user); n != throttled+2 {
		t.Fatalf("%d login_throttled rows, want %d", n, throttled+2)
	}

	// Once the back-off is over, the right password gets in and the
	// account's count starts again.
	clock.Add(wait)
	r = e.login(user, seed.DemoPassword, "10.0.0.1")
	expectStatus(t, r, http.StatusOK)
	expectStatus(t, e.login(user, "wrong password", "10.0.0.1"), http.StatusUnauthorized)
	expectStatus(t, e.login(user, seed.DemoPassword, "10.0.0.1"), http.StatusOK)
}

func TestLoginThrottledPerAddress(t *testing.T) {
	e, clock := doorEnv(t)
	// One address tries a different account each time: each account has
	// one failure only, the address is blocked after its free failures.
	var r resp
	for i := range 12 {
		r = e.login("utente"+strconv.Itoa(i), "wrong password", "10.0.1.1")
		if r.status == http.StatusTooManyRequests {
			break
		}
		expectStatus(t, r, http.StatusUnauthorized)
	}
	expectStatus(t, r, http.StatusTooManyRequests)
	wait := retryAfter(t, r)
	// Blocked for everyone's account from there, not from elsewhere.
	expectStatus(t, e.login("cittadino.vedano", seed.DemoPassword, "10.0.1.1"), http.StatusTooManyRequests)
	expectStatus(t, e.login("cittadino.vedano", seed.DemoPassword, "10.0.1.2"), http.StatusOK)
	// An unknown account's throttled attempt is audited without a district.
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'login_throttled' AND district_id IS NULL
		AND detail->>'address' = '10.0.1.1'`); n != 1 {
		t.Fatalf("%d district-less login_throttled rows, want 1", n)
	}
	clock.Add(wait)
	expectStatus(t, e.login("cittadino.vedano", seed.DemoPassword, "10.0.1.1"), http.StatusOK)

	// Successful logins from one address (an office) do not add up to a block.
	for range 15 {
		expectStatus(t, e.login("operatore.tradate", seed.DemoPassword, "10.0.1.3"), http.StatusOK)
	}
}

// TestLoginSameAnswerWhoeverTheAccount: an unknown account, a wrong
// password and an account waiting for activation get the same status and
// body, throttled alike, each costing one password hash.
func TestLoginSameAnswerWhoeverTheAccount(t *testing.T) {
	hashes := auth.NewLimiter(2, 0, 0)
	e, _ := doorEnv(t, func(d *api.Deps) { d.PasswordHashing = hashes })
	reg := e.register(lucaRegistration("")) // waiting for activation
	accounts := map[string]string{"unknown": "nessuno.qui", "wrong password": "cittadino.tradate",
		"pending": reg.Citizen.Username}
	var want []string
	for n, name := range []string{"unknown", "wrong password", "pending"} {
		var got []string
		for i := range 6 {
			before := hashes.Completed()
			r := e.login(accounts[name], "wrong password", "10.0.2."+strconv.Itoa(n+1))
			got = append(got, outcome(t, r))
			if r.status == http.StatusUnauthorized && hashes.Completed() != before+1 {
				t.Errorf("%s, attempt %d: %d password hashes, want 1", name, i, hashes.Completed()-before)
			}
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s answers\n%v\nwant (unknown account)\n%v", name, got, want)
		}
	}
	if !strings.HasPrefix(want[0], "401 invalid_credentials") || !strings.HasPrefix(want[5], "429 too_many_attempts") {
		t.Fatalf("answers %v", want)
	}
}

// TestLoginHashingBounded: 64 parallel logins never run more password
// hashes at once than the bound, and all get their answer.
func TestLoginHashingBounded(t *testing.T) {
	const bound = 2
	// No wait limit in play: this tests the bound, and a busy machine may take
	// minutes for 64 hashes two at a time (a one-minute limit answered 503).
	l := auth.NewLimiter(bound, 64, time.Hour)
	e, _ := doorEnv(t, func(d *api.Deps) { d.PasswordHashing = l })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	statuses := make([]int, 64)
	for i := range 64 {
		wg.Go(func() {
			// Each its own account and address: no throttling in play; an
			// unknown account costs a hash like a known one.
			statuses[i] = e.login("utente"+strconv.Itoa(i), "wrong password", "10.0.3."+strconv.Itoa(i+1)).status
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	for i, s := range statuses {
		if s != http.StatusUnauthorized {
			t.Errorf("login %d: %d", i, s)
		}
	}
	if n := l.Completed(); n != 64 {
		t.Errorf("%d password hashes, want 64", n)
	}
	if p := l.Peak(); p < 1 || p > bound {
		t.Fatalf("peak of %d password hashes at once, bound %d", p, bound)
	}
	t.Logf("64 parallel logins, bound %d: heap in use before %d MiB, after %d MiB, heap obtained from the OS %d MiB",
		bound, before.HeapInuse>>20, after.HeapInuse>>20, after.HeapSys>>20)
}

// TestLoginBusyAnswers503: when the hashing queue is full, a login is
// answered 503 with Retry-After at once instead of waiting.
func TestLoginBusyAnswers503(t *testing.T) {
	l := auth.NewLimiter(1, 1, time.Hour)
	e, _ := doorEnv(t, func(d *api.Deps) { d.PasswordHashing = l })
	release := make(chan struct{})
	running := make(chan struct{})
	done := make(chan error, 2)
	go func() { done <- l.Do(t.Context(), func() { close(running); <-release }) }()
	<-running
	go func() { done <- l.Do(t.Context(), func() {}) }()
	for l.Waiting() != 1 {
		runtime.Gosched()
	}
	r := e.login("cittadino.tradate", seed.DemoPassword, "10.0.4.1")
	expectStatus(t, r, http.StatusServiceUnavailable)
	if r.errorBody(t).Code != "busy" {
		t.Fatalf("busy body %s", r.body)
	}
	retryAfter(t, r)
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// The busy answer was no failed attempt: the login now goes through.
	expectStatus(t, e.login("cittadino.tradate", seed.DemoPassword, "10.0.4.1"), http.StatusOK)
}

func TestWebLoginThrottled(t *testing.T) {
	e, clock := doorEnv(t)
	b := e.browser()
	form := func(pw string) url.Values {
		return url.Values{"username": {"operatore.tradate"}, "password": {pw}, "next": {"/"}}
	}
	var p page
	for range 10 {
		if p = b.post("/login", form("sbagliata"), from("10.0.5.1")); p.status == http.StatusTooManyRequests {
			break
		}
		expectPage(t, p, http.StatusUnprocessableEntity, "Nome utente o password non corretti.")
	}
	expectPage(t, p, http.StatusTooManyRequests, "Troppi tentativi non riusciti: riprova tra")
	if p.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After on the throttled page")
	}
	expectPage(t, b.post("/login", form(seed.DemoPassword), from("10.0.5.1")), http.StatusTooManyRequests)
	b.follow(b.get("/lang/en?next=/"))
	expectPage(t, b.post("/login", form(seed.DemoPassword), from("10.0.5.1")), http.StatusTooManyRequests,
		"Too many failed attempts: try again in")
	clock.Add(time.Hour)
	if p = b.post("/login", form(seed.DemoPassword), from("10.0.5.1")); p.status != http.StatusSeeOther {
		t.Fatalf("after the back-off: %d\n%s", p.status, p.body)
	}
}

// TestActivationNoEnumerationNoLockout: the activation endpoint answers
// the same for an unknown username, a wrong code and a used code; wrong
// tries by a stranger are throttled (429) but never lock the code, and the
// citizen with the right code gets in after the back-off.
func TestActivationNoEnumerationNoLockout(t *testing.T) {
	e, clock := doorEnv(t)
	reg := e.register(lucaRegistration(""))
	const password = "una password lunga"
	act := func(username, code, addr string) resp {
		return e.do("POST", "/api/v1/activation", "", map[string]string{"username": username, "code": code, "password": password},
			from(addr))
	}
	// One answer whatever the username.
	wrong := act(reg.Citizen.Username, "AAAA-BBBB-CCCC", "10.0.6.1")
	unknown := act("nessuno.qui", "AAAA-BBBB-CCCC", "10.0.6.2")
	expectStatus(t, wrong, http.StatusUnprocessableEntity)
	if a, b := outcome(t, wrong)+string(wrongFields(t, wrong)), outcome(t, unknown)+string(wrongFields(t, unknown)); a != b {
		t.Fatalf("wrong code %s\nunknown username %s", a, b)
	}

	// A stranger tries many codes: throttled, then blocked, never locked.
	var r resp
	for range 20 {
		if r = act(reg.Citizen.Username, "ZZZZ-ZZZZ-ZZZZ", "10.0.6.3"); r.status == http.StatusTooManyRequests {
			break
		}
		expectStatus(t, r, http.StatusUnprocessableEntity)
	}
	expectStatus(t, r, http.StatusTooManyRequests)
	wait := retryAfter(t, r)
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'activation_throttled'`); n != 1 {
		t.Fatalf("%d activation_throttled rows, want 1", n)
	}
	// The citizen waits out the back-off and activates with the right code.
	expectStatus(t, act(reg.Citizen.Username, reg.Activation.Code, "10.0.6.4"), http.StatusTooManyRequests)
	clock.Add(wait)
	expectStatus(t, act(reg.Citizen.Username, reg.Activation.Code, "10.0.6.4"), http.StatusOK)
	// A used code answers like any wrong one.
	used := act(reg.Citizen.Username, reg.Activation.Code, "10.0.6.5")
	if a, b := outcome(t, used)+string(wrongFields(t, used)), outcome(t, unknown)+string(wrongFields(t, unknown)); a != b {
		t.Fatalf("used code %s\nunknown username %s", a, b)
	}
}

func wrongFields(t *testing.T, r resp) []byte {
	t.Helper()
	var out []byte
	for _, f := range r.errorBody(t).Fields {
		out = append(out, f.Pointer+" "+f.Code+" "+f.Message+" "+f.MessageIT+";"...)
	}
	return out
}

func TestHSTSOverTLS(t *testing.T) {
	e := newEnvWith(t, func(d *api.Deps) { d.PortalURL = "https://sportello.example.it" })
	for _, path := range []string{"/api/v1/openapi.json", "/login"} {
		r := e.do("GET", path, "", nil)
		if got := r.header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
			t.Errorf("%s: Strict-Transport-Security %q", path, got)
		}
	}
	plain := newEnvWith(t, func(d *api.Deps) { d.PortalURL = "http://127.0.0.1:8080" })
	if got := plain.do("GET", "/login", "", nil).header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("plain http: Strict-Transport-Security %q", got)
	}
	// A request that came over TLS to the server itself.
	rec := httptest.NewRecorder()
	plain.srv.Config.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "https://sportello.example.it/healthz", nil))
	if got := rec.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
		t.Errorf("over TLS: Strict-Transport-Security %q", got)
	}
}

func TestStaffSessionIdleTimeout(t *testing.T) {
	e, clock := doorEnv(t)
	op := e.token("operatore.tradate")
	cit := e.token("cittadino.tradate")
	me := func(token string) resp {
		return e.do("GET", "/api/v1/me", "", nil, hdr{"Authorization": "Bearer " + token})
	}
	// Active staff keep their session (sliding), each step under the timeout.
	for range 4 {
		clock.Add(20 * time.Minute)
		expectStatus(t, me(op), http.StatusOK)
		expectStatus(t, me(cit), http.StatusOK)
	}
	// 31 minutes without a request end a staff session, not a citizen's.
	clock.Add(31 * time.Minute)
	r := me(op)
	expectStatus(t, r, http.StatusUnauthorized)
	if r.errorBody(t).Code != "session_idle" {
		t.Fatalf("idle staff session: %s", r.body)
	}
	expectStatus(t, me(op), http.StatusUnauthorized)
	expectStatus(t, me(cit), http.StatusOK)
	// The pages too: an idle staff cookie is cleared and the login asked for.
	b := e.browser()
	b.login("supervisore")
	expectPage(t, b.get("/inbox"), http.StatusOK)
	clock.Add(31 * time.Minute)
	p := b.get("/inbox")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
		t.Fatalf("idle staff page: %d %s", p.status, p.location)
	}
}
