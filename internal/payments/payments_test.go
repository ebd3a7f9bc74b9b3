package payments_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sportello/internal/payments"
	"sportello/internal/paysandbox"
)

const secret = "test-secret"

// env is a sandbox provider and a merchant (callback receiver and return
// page) on loopback, with a client of the provider.
type env struct {
	sb       *paysandbox.Server
	provider *httptest.Server
	merchant *httptest.Server
	client   *payments.Client

	mu       sync.Mutex
	received map[string]int            // deliveries per event id
	applied  map[string]payments.Event // the effect: one per event id
	status   map[string]string         // payment id → last status applied
	fail     int                       // callbacks to answer 500 first
	returns  []url.Values              // return-URL visits
	notify   chan struct{}
}

func newEnv(t *testing.T, cfg payments.Config) *env {
	t.Helper()
	sb, err := paysandbox.New(paysandbox.Options{Secret: secret, CallbackBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sb: sb, received: map[string]int{}, applied: map[string]payments.Event{}, status: map[string]string{},
		notify: make(chan struct{}, 100)}
	e.provider = httptest.NewServer(sb)
	mux := http.NewServeMux()
	mux.Handle("/callback", payments.CallbackHandler(secret, 0, nil, func(_ context.Context, ev payments.Event) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.received[ev.ID]++
		if e.fail > 0 {
			e.fail--
			return errors.New("database down")
		}
		if _, seen := e.applied[ev.ID]; !seen { // idempotent handling: once per event
			e.applied[ev.ID] = ev
			e.status[ev.Payment.ID] = ev.Payment.Status
		}
		e.notify <- struct{}{}
		return nil
	}))
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.returns = append(e.returns, r.URL.Query())
		e.mu.Unlock()
		_, _ = io.WriteString(w, "thank you")
	})
	e.merchant = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.provider.Close()
		sb.Close()
		e.merchant.Close()
	})
	cfg.BaseURL = e.provider.URL
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin, cfg.RetryWaitMax = 10*time.Millisecond, 50*time.Millisecond
	}
	if e.client, err = payments.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) intent(ref string, cents int64) payments.IntentRequest {
	return payments.IntentRequest{AmountCents: cents, Description: "Centro estivo YouCare", MerchantReference: ref,
		ReturnURL: e.merchant.URL + "/done?order=" + ref, CallbackURL: e.merchant.URL + "/callback"}
}

// waitApplied waits (bounded) until n distinct events were applied.
func (e *env) waitApplied(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		got := len(e.applied)
		e.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-e.notify:
		case <-deadline:
			t.Fatalf("%d events applied, want %d", got, n)
		}
	}
}

// pay confirms (or cancels) like a browser: the form post on the hosted
// page, following the redirect to the return URL.
func pay(t *testing.T, p payments.Payment, choice string) *http.Response {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	page, err := hc.Get(p.CheckoutURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	action := "/pay/" + p.ID + "/" + choice
	if !strings.Contains(string(b), `action="`+action+`"`) {
		t.Fatalf("hosted page has no form for %s:\n%s", action, b)
	}
	return choose(t, hc, p, choice)
}

// choose posts the payer's choice without reading the page first (a
// second click from a stale page).
func choose(t *testing.T, hc *http.Client, p payments.Payment, choice string) *http.Response {
	t.Helper()
	resp, err := hc.PostForm(p.CheckoutURL+"/"+choice, url.Values{"lang": {"it"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCreateConfirmRedirectCallback(t *testing.T) {
	e := newEnv(t, payments.Config{})
	ctx := context.Background()
	p, err := e.client.CreateIntent(ctx, "order-1", e.intent("order-1", 12_50))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != payments.StatusPending || p.AmountCents != 1250 || p.Currency != "EUR" || !strings.Contains(p.CheckoutURL, p.ID) {
		t.Fatalf("created %+v", p)
	}
	resp := pay(t, p, "confirm")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/done" {
		t.Fatalf("after confirming: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	q := resp.Request.URL.Query()
	if q.Get("order") != "order-1" || q.Get("payment_id") != p.ID || q.Get("status") != payments.StatusCaptured {
		t.Fatalf("return URL query %v", q)
	}
	e.waitApplied(t, 1)
	e.mu.Lock()
	if e.status[p.ID] != payments.StatusCaptured {
		t.Errorf("callback applied status %q", e.status[p.ID])
	}
	for _, ev := range e.applied {
		if ev.Type != payments.EventCaptured || ev.Payment.CapturedCents != 1250 || ev.Payment.MerchantReference != "order-1" {
			t.Errorf("event %+v", ev)
		}
	}
	e.mu.Unlock()
	got, err := e.client.Payment(ctx, p.ID)
	if err != nil || got.Status != payments.StatusCaptured || got.CapturedCents != 1250 {
		t.Fatalf("status %+v %v", got, err)
	}
	// A second click (cancel, from a stale page) changes nothing.
	if resp := choose(t, http.DefaultClient, p, "cancel"); resp.Request.URL.Query().Get("status") != payments.StatusCaptured {
		t.Fatalf("cancel after capture: %v", resp.Request.URL)
	}
	if n := len(e.sb.Payments()); n != 1 {
		t.Fatalf("%d payments", n)
	}
}

func TestCancelSendsCanceledEvent(t *testing.T) {
	e := newEnv(t, payments.Config{})
	p, err := e.client.CreateIntent(context.Background(), "order-c", e.intent("order-c", 500))
	if err != nil {
		t.Fatal(err)
	}
	if resp := pay(t, p, "cancel"); resp.Request.URL.Query().Get("status") != payments.StatusCanceled {
		t.Fatalf("cancel: %v", resp.Request.URL)
	}
	e.waitApplied(t, 1)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.status[p.ID] != payments.StatusCanceled {
		t.Fatalf("status %q", e.status[p.ID])
	}
}

func TestIdempotentReplayAndKeyReuse(t *testing.T) {
	e := newEnv(t, payments.Config{})
	ctx := context.Background()
	req := e.intent("order-2", 3000)
	a, err := e.client.CreateIntent(ctx, "key-2", req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.CreateIntent(ctx, "key-2", req)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.CreatedAt != b.CreatedAt {
		t.Fatalf("replay gave another payment: %s vs %s", a.ID, b.ID)
	}
	req.AmountCents = 3001
	_, err = e.client.CreateIntent(ctx, "key-2", req)
	var pe *payments.Error
	if !errors.As(err, &pe) || pe.StatusCode != http.StatusUnprocessableEntity || pe.Code != "idempotency_key_reused" || pe.Retryable {
		t.Fatalf("key reuse with another body: %v", err)
	}
	if n := len(e.sb.Payments()); n != 1 {
		t.Fatalf("%d payments, want 1", n)
	}
	// A missing key never reaches the provider.
	if _, err := e.client.CreateIntent(ctx, " ", req); err == nil || payments.IsRetryable(err) {
		t.Fatalf("no key: %v", err)
	}
	// Validation is a permanent 422 with fields.
	bad := e.intent("", -1)
	bad.ReturnURL = "javascript:alert(1)"
	_, err = e.client.CreateIntent(ctx, "key-bad", bad)
	if !errors.As(err, &pe) || pe.StatusCode != 422 || pe.Retryable || pe.Fields["amount_cents"] == "" ||
		pe.Fields["merchant_reference"] == "" || pe.Fields["return_url"] == "" {
		t.Fatalf("invalid intent: %#v", err)
	}
}

func TestProvider503ThenBack(t *testing.T) {
	e := newEnv(t, payments.Config{RetryMax: 2})
	if err := e.sb.Inject(paysandbox.Fault{Kind: "fail-503", Op: "create", Times: 2}); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.CreateIntent(context.Background(), "key-503", e.intent("order-503", 100))
	if err != nil {
		t.Fatal(err)
	}
	if n := e.sb.Attempts("key-503"); n != 3 {
		t.Fatalf("%d attempts with the key, want 3 (two 503s, then success)", n)
	}
	if ps := e.sb.Payments(); len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("payments %+v", ps)
	}
}

func TestProviderDownIsRetryable(t *testing.T) {
	e := newEnv(t, payments.Config{RetryMax: 1})
	if err := e.sb.Inject(paysandbox.Fault{Kind: "fail-500", Times: 5}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CreateIntent(context.Background(), "key-500", e.intent("order-500", 100))
	var pe *payments.Error
	if !errors.As(err, &pe) || pe.StatusCode != 500 || !pe.Retryable {
		t.Fatalf("500s: %v", err)
	}
	if n := e.sb.Attempts("key-500"); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	if n := len(e.sb.Payments()); n != 0 {
		t.Fatalf("%d payments", n)
	}
}

func TestHangTimesOutRetryable(t *testing.T) {
	e := newEnv(t, payments.Config{AttemptTimeout: 200 * time.Millisecond, RetryMax: 1})
	if err := e.sb.Inject(paysandbox.Fault{Kind: "hang", Times: 2}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CreateIntent(context.Background(), "key-hang", e.intent("order-hang", 100))
	var pe *payments.Error
	if !errors.As(err, &pe) || !pe.Timeout || !pe.Retryable || pe.StatusCode != 0 {
		t.Fatalf("hang: %#v", err)
	}
	if n := e.sb.Attempts("key-hang"); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	// The provider is back: the same key creates the payment once.
	if _, err := e.client.CreateIntent(context.Background(), "key-hang", e.intent("order-hang", 100)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sb.Payments()); n != 1 {
		t.Fatalf("%d payments", n)
	}
}

func TestLateAnswer(t *testing.T) {
	// Late but within the attempt timeout: one attempt, the answer arrives.
	e := newEnv(t, payments.Config{AttemptTimeout: 5 * time.Second})
	if err := e.sb.Inject(paysandbox.Fault{Kind: "late", Delay: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.CreateIntent(context.Background(), "key-late", e.intent("order-late", 100))
	if err != nil || p.ID == "" {
		t.Fatalf("late: %+v %v", p, err)
	}
	if n := e.sb.Attempts("key-late"); n != 1 {
		t.Fatalf("%d attempts", n)
	}

	// Later than the attempt timeout: the provider did create the payment,
	// the client retries with the same key and gets that payment back.
	e2 := newEnv(t, payments.Config{AttemptTimeout: 300 * time.Millisecond, RetryMax: 2})
	if err := e2.sb.Inject(paysandbox.Fault{Kind: "late", Delay: 3 * time.Second, Op: "create"}); err != nil {
		t.Fatal(err)
	}
	p2, err := e2.client.CreateIntent(context.Background(), "key-later", e2.intent("order-later", 100))
	if err != nil {
		t.Fatal(err)
	}
	ps := e2.sb.Payments()
	if len(ps) != 1 || ps[0].ID != p2.ID {
		t.Fatalf("payments %+v, answer %s", ps, p2.ID)
	}
	if n := e2.sb.Attempts("key-later"); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

func TestDuplicatedAndRetriedCallbacks(t *testing.T) {
	e := newEnv(t, payments.Config{})
	if err := e.sb.Inject(paysandbox.Fault{Kind: "duplicate-callback"}); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.fail = 1 // the merchant fails once: the provider retries
	e.mu.Unlock()
	p, err := e.client.CreateIntent(context.Background(), "key-dup", e.intent("order-dup", 700))
	if err != nil {
		t.Fatal(err)
	}
	pay(t, p, "confirm")
	e.waitApplied(t, 1)
	// Both copies end accepted: wait for three deliveries (one failed).
	deadline := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		var total int
		var id string
		for k, n := range e.received {
			total, id = total+n, k
		}
		e.mu.Unlock()
		if total >= 3 {
			if n := e.sb.Deliveries(id); n < 3 {
				t.Fatalf("provider counted %d deliveries", n)
			}
			break
		}
		select {
		case <-e.notify:
		case <-deadline:
			t.Fatalf("received %d deliveries", total)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.applied) != 1 || len(e.received) != 1 {
		t.Fatalf("applied %d events from %d ids, want one", len(e.applied), len(e.received))
	}
}

func TestDroppedCallbackPaymentStatusStillReadable(t *testing.T) {
	e := newEnv(t, payments.Config{})
	if err := e.sb.Inject(paysandbox.Fault{Kind: "drop-callback"}); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.CreateIntent(context.Background(), "key-drop", e.intent("order-drop", 900))
	if err != nil {
		t.Fatal(err)
	}
	pay(t, p, "confirm")
	got, err := e.client.Payment(context.Background(), p.ID)
	if err != nil || got.Status != payments.StatusCaptured {
		t.Fatalf("status %+v %v", got, err)
	}
	// The provider never tried: nothing to wait for.
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.received) != 0 {
		t.Fatalf("received %v", e.received)
	}
	if _, err := e.client.Payment(context.Background(), "pi_nope"); err == nil || payments.IsRetryable(err) {
		t.Fatalf("unknown payment: %v", err)
	}
}

func TestCallbackSignature(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"payment.captured","payment":{"id":"pi_1","status":"captured"}}`)
	now := time.Now()
	good := payments.Sign(secret, now, body)
	if err := payments.Verify(secret, good, body, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		header string
		body   []byte
		want   error
	}{
		"other secret":  {payments.Sign("other", now, body), body, payments.ErrBadSignature},
		"tampered body": {good, append([]byte(nil), append(body[:len(body)-1], ' ', '}')...), payments.ErrBadSignature},
		"stale":         {payments.Sign(secret, now.Add(-10*time.Minute), body), body, payments.ErrStale},
		"future":        {payments.Sign(secret, now.Add(10*time.Minute), body), body, payments.ErrStale},
		"missing":       {"", body, payments.ErrNoSignature},
		"no timestamp":  {"v1=" + strings.Repeat("0", 64), body, payments.ErrNoSignature},
		"not hex":       {"t=1,v1=zz", body, payments.ErrNoSignature},
		"other ts":      {strings.Replace(good, "t=", "t=1", 1), body, payments.ErrBadSignature},
	}
	for name, c := range cases {
		if err := payments.Verify(secret, c.header, c.body, now, time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}

	// Over HTTP: a forged callback is refused and never handled.
	var handled atomic.Int32
	srv := httptest.NewServer(payments.CallbackHandler(secret, time.Minute, nil, func(context.Context, payments.Event) error {
		handled.Add(1)
		return nil
	}))
	defer srv.Close()
	post := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		req.Header.Set(payments.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(payments.Sign("forged", now, body)); code != http.StatusBadRequest {
		t.Fatalf("forged: %d", code)
	}
	if handled.Load() != 0 {
		t.Fatal("a forged callback was handled")
	}
	if code := post(payments.Sign(secret, time.Now(), body)); code != http.StatusNoContent || handled.Load() != 1 {
		t.Fatalf("genuine: %d, handled %d", code, handled.Load())
	}
}

func TestConcurrentPartialRefundsNeverExceedCaptured(t *testing.T) {
	e := newEnv(t, payments.Config{})
	ctx := context.Background()
	p, err := e.client.CreateIntent(ctx, "key-ref", e.intent("order-ref", 10_000))
	if err != nil {
		t.Fatal(err)
	}
	// Not captured yet: a refund is a permanent 422.
	_, err = e.client.Refund(ctx, "r-early", p.ID, 100, "")
	var pe *payments.Error
	if !errors.As(err, &pe) || pe.Code != "not_captured" || pe.Retryable {
		t.Fatalf("refund before capture: %v", err)
	}
	pay(t, p, "confirm")

	// 20 refunds of EUR 7 race for EUR 100: 14 succeed, 6 are refused; each
	// sent twice with its key (a retry) is counted once.
	const n, each = 20, 700
	var wg sync.WaitGroup
	results := make([]error, 2*n)
	refunds := make([]payments.Refund, 2*n)
	for i := range 2 * n {
		wg.Go(func() {
			refunds[i], results[i] = e.client.Refund(ctx, fmt.Sprintf("refund-%d", i%n), p.ID, each, "partial")
		})
	}
	wg.Wait()
	ok, refused := map[string]bool{}, 0
	for i, err := range results {
		switch {
		case err == nil:
			ok[refunds[i].ID] = true
		case errors.As(err, &pe) && pe.Code == "refund_exceeds_captured" && !pe.Retryable:
			refused++
		default:
			t.Fatalf("refund %d: %v", i, err)
		}
	}
	if len(ok) != 14 || refused != 12 {
		t.Fatalf("%d distinct refunds, %d refusals; want 14 and 12 (each twice)", len(ok), refused)
	}
	got, err := e.client.Payment(ctx, p.ID)
	if err != nil || got.RefundedCents != 14*each || got.RefundedCents > got.CapturedCents {
		t.Fatalf("payment %+v %v", got, err)
	}
	if rs := e.sb.Refunds(p.ID); len(rs) != 14 {
		t.Fatalf("%d refunds at the provider", len(rs))
	}
	// The remaining EUR 2 as a full refund of what is left, then nothing.
	if _, err := e.client.Refund(ctx, "rest", p.ID, 10_000-14*each, "rest"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Refund(ctx, "more", p.ID, 1, ""); !errors.As(err, &pe) || pe.Code != "refund_exceeds_captured" {
		t.Fatalf("refund beyond captured: %v", err)
	}
	// Refund events arrive too (1 capture + 15 refunds).
	e.waitApplied(t, 16)
}

func TestPerRequestFaultHeaderAndFaultAPI(t *testing.T) {
	e := newEnv(t, payments.Config{})
	do := func(method, path, key, fault, body string) *http.Response {
		req, _ := http.NewRequest(method, e.provider.URL+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		if fault != "" {
			req.Header.Set(paysandbox.FaultHeader, fault)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	body := `{"amount_cents":100,"currency":"EUR","description":"x","merchant_reference":"r",` +
		`"return_url":"http://127.0.0.1/r","callback_url":"http://127.0.0.1/c"}`
	if r := do("POST", "/v1/payment_intents", "", "", body); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("no key: %d", r.StatusCode)
	}
	if r := do("POST", "/v1/payment_intents", "k", "fail-503", body); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("fail-503 header: %d", r.StatusCode)
	}
	if r := do("POST", "/v1/payment_intents", "k", "bogus", body); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown fault: %d", r.StatusCode)
	}
	if r := do("POST", "/sandbox/faults", "", "", `{"kind":"fail-500","op":"get","times":1}`); r.StatusCode != http.StatusCreated {
		t.Fatalf("queue fault: %d", r.StatusCode)
	}
	r1 := do("POST", "/v1/payment_intents", "k", "", body)
	r2 := do("POST", "/v1/payment_intents", "k", "", " "+body) // whitespace does not make another request
	if r1.StatusCode != 201 || r2.StatusCode != 201 || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("create %d, replay %d %q", r1.StatusCode, r2.StatusCode, r2.Header.Get("Idempotent-Replayed"))
	}
	id := e.sb.Payments()[0].ID
	if r := do("GET", "/v1/payment_intents/"+id, "", "", ""); r.StatusCode != 500 {
		t.Fatalf("queued get fault: %d", r.StatusCode)
	}
	if r := do("GET", "/v1/payment_intents/"+id, "", "", ""); r.StatusCode != 200 {
		t.Fatalf("after the fault: %d", r.StatusCode)
	}
	if r := do("POST", "/sandbox/faults", "", "", `{"kind":"explode"}`); r.StatusCode != 422 {
		t.Fatalf("bad fault: %d", r.StatusCode)
	}
}
