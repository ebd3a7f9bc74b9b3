// Package paysandbox is a sandbox payment provider: a small, PSP-like HTTP
// API that `sportello dev` and the tests run as a separate local server, so
// the platform's payment client talks real HTTP to something that behaves
// like a provider, including its bad days.
//
// The API (JSON, amounts in integer euro cents, currency EUR):
//
//	POST /v1/payment_intents                 create (Idempotency-Key required)
//	GET  /v1/payment_intents/{id}            status
//	POST /v1/payment_intents/{id}/refunds    full or partial refund (Idempotency-Key required)
//	GET  /pay/{id}                           hosted payment page (Italian; ?lang=en)
//	POST /pay/{id}/confirm, /pay/{id}/cancel the payer's choice; 303 to the return URL
//	POST /sandbox/faults                     queue a fault (see Fault)
//	DELETE /sandbox/faults                   clear queued faults
//
// Idempotency: the same key with the same body gets the same answer (header
// Idempotent-Replayed: true); the same key with another body is a 422
// idempotency_key_reused. Keys are scoped per operation (creation, or refunds
// of one payment).
//
// Callbacks: when a payment is captured or canceled, and when a refund
// succeeds, the provider POSTs an Event to the payment's callback URL, signed
// in the header Sandbox-Signature: "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// t + "." + body with the shared secret>". Deliveries are retried with
// exponential backoff until a 2xx answer (or MaxCallbackAttempts); an event
// may arrive more than once, so receivers deduplicate by event id.
//
// Faults, per request with the header Sandbox-Fault (e.g. "fail-503",
// "hang", "late=2s", "drop-callback", "duplicate-callback") or configured
// with Inject / POST /sandbox/faults for the next N matching requests.
// State lives in memory and is safe for concurrent use.
package paysandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"sportello/internal/payments"
)

// FaultHeader asks for a fault on one request.
const FaultHeader = "Sandbox-Fault"

// The wire types and constants are the client's (package payments): the
// sandbox speaks exactly what the platform expects of a provider.
type (
	Payment = payments.Payment
	Refund  = payments.Refund
	Event   = payments.Event
)

const (
	StatusPending  = payments.StatusPending
	StatusCaptured = payments.StatusCaptured
	StatusCanceled = payments.StatusCanceled
	EventCaptured  = payments.EventCaptured
	EventCanceled  = payments.EventCanceled
	EventRefunded  = payments.EventRefunded
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	Secret string // shared callback secret (required)
	// BaseURL is the server's public address, used for checkout URLs
	// (default: taken from each request's Host).
	BaseURL             string
	MaxCallbackAttempts int           // default 8
	CallbackBackoff     time.Duration // first retry delay, doubled each time (default 200ms, at most 10s)
	CallbackTimeout     time.Duration // per delivery (default 5s)
	MaxHang             time.Duration // how long a "hang" waits for the client to give up (default 2m)
	Logger              *slog.Logger  // default: discard
}

// Fault is an injected misbehaviour.
type Fault struct {
	// Kind: "fail-500", "fail-503", "hang" (no answer until the client gives
	// up), "late" (process the request, answer after Delay), "drop-callback"
	// (the payment's callbacks are never sent), "duplicate-callback" (each of
	// the payment's callbacks is delivered twice).
	Kind  string        `json:"kind"`
	Delay time.Duration `json:"delay,omitempty"` // for "late"; JSON in nanoseconds, or use delay_ms
	// DelayMS is Delay in milliseconds, for curl users.
	DelayMS int `json:"delay_ms,omitempty"`
	// Op limits the fault to one operation: "create", "get", "refund" (""
	// matches every API request). Callback faults apply at creation.
	Op string `json:"op,omitempty"`
	// Times is how many matching requests get it (default 1).
	Times int `json:"times,omitempty"`
}

type payment struct {
	Payment
	callbackFault string // "", "drop-callback" or "duplicate-callback"
}

type idemEntry struct {
	bodyHash [32]byte
	status   int
	body     []byte
}

// Server is the sandbox provider; it is an http.Handler.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	mu       sync.Mutex
	payments map[string]*payment
	refunds  map[string][]Refund
	idem     map[string]idemEntry
	faults   []Fault
	attempts map[string]int // API requests per idempotency key
	deliver  map[string]int // callback deliveries attempted per event id

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	hc     *http.Client
}

// New returns a sandbox server. Call Close to stop its callback deliveries.
func New(opts Options) (*Server, error) {
	if opts.Secret == "" {
		return nil, errors.New("paysandbox: a callback secret is required")
	}
	if opts.MaxCallbackAttempts <= 0 {
		opts.MaxCallbackAttempts = 8
	}
	if opts.CallbackBackoff <= 0 {
		opts.CallbackBackoff = 200 * time.Millisecond
	}
	if opts.CallbackTimeout <= 0 {
		opts.CallbackTimeout = 5 * time.Second
	}
	if opts.MaxHang <= 0 {
		opts.MaxHang = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, log: opts.Logger, mux: http.NewServeMux(),
		payments: map[string]*payment{}, refunds: map[string][]Refund{},
		idem: map[string]idemEntry{}, attempts: map[string]int{}, deliver: map[string]int{},
		ctx: ctx, cancel: cancel,
		hc: &http.Client{Timeout: opts.CallbackTimeout},
	}
	s.mux.HandleFunc("POST /v1/payment_intents", s.api("create", s.create))
	s.mux.HandleFunc("GET /v1/payment_intents/{id}", s.api("get", s.get))
	s.mux.HandleFunc("POST /v1/payment_intents/{id}/refunds", s.api("refund", s.refund))
	s.mux.HandleFunc("GET /pay/{id}", s.page)
	s.mux.HandleFunc("POST /pay/{id}/{choice}", s.choose)
	s.mux.HandleFunc("POST /sandbox/faults", s.postFault)
	s.mux.HandleFunc("DELETE /sandbox/faults", s.clearFaults)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops pending callback deliveries and waits for them.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Inject queues a fault for the next matching requests.
func (s *Server) Inject(f Fault) error {
	if err := f.normalize(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
	return nil
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Attempts reports how many API requests carried the idempotency key.
func (s *Server) Attempts(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[key]
}

// Deliveries reports how many times delivery of the event was attempted.
func (s *Server) Deliveries(eventID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliver[eventID]
}

// Payments returns a copy of every payment, in no particular order.
func (s *Server) Payments() []Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payment, 0, len(s.payments))
	for _, p := range s.payments {
		out = append(out, p.Payment)
	}
	return out
}

// Refunds returns the refunds of a payment, oldest first.
func (s *Server) Refunds(paymentID string) []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refund(nil), s.refunds[paymentID]...)
}

var faultKinds = map[string]bool{"fail-500": true, "fail-503": true, "hang": true, "late": true,
	"drop-callback": true, "duplicate-callback": true}

func (f *Fault) normalize() error {
	if !faultKinds[f.Kind] {
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.DelayMS > 0 {
		f.Delay = time.Duration(f.DelayMS) * time.Millisecond
	}
	if f.Kind == "late" && f.Delay <= 0 {
		f.Delay = 2 * time.Second
	}
	if f.Op != "" && f.Op != "create" && f.Op != "get" && f.Op != "refund" {
		return fmt.Errorf("unknown op %q", f.Op)
	}
	if f.Times <= 0 {
		f.Times = 1
	}
	return nil
}

// parseFault reads the Sandbox-Fault header: "kind" or "late=<duration>".
func parseFault(h string) (Fault, bool, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return Fault{}, false, nil
	}
	kind, arg, _ := strings.Cut(h, "=")
	f := Fault{Kind: kind}
	if arg != "" {
		d, err := time.ParseDuration(arg)
		if err != nil {
			return f, false, fmt.Errorf("bad delay %q", arg)
		}
		f.Delay = d
	}
	return f, true, f.normalize()
}

// takeFault pops the first queued fault matching op (callback faults only
// match creation).
func (s *Server) takeFault(op string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		callback := strings.HasSuffix(f.Kind, "-callback")
		if (f.Op != "" && f.Op != op) || (callback && op != "create") {
			continue
		}
		taken := *f
		if f.Times--; f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return taken, true
	}
	return Fault{}, false
}

// apiError is the JSON body of every API error.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg})
}

// result is what an operation answers: a status and a JSON value.
type result struct {
	status int
	body   any
	after  func() // run after the answer is stored (callbacks)
}

// api wraps an operation with fault injection and, for POSTs, idempotency.
func (s *Server) api(op string, fn func(r *http.Request, body []byte) result) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			writeErr(w, http.StatusRequestEntityTooLarge, "body_too_large", "body over 64 KiB")
			return
		}
		key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
		if key != "" {
			s.mu.Lock()
			s.attempts[key]++
			s.mu.Unlock()
		}
		f, ok, err := parseFault(r.Header.Get(FaultHeader))
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad_fault", err.Error())
			return
		}
		if !ok {
			f, ok = s.takeFault(op)
		}
		var late time.Duration
		if ok {
			s.log.Info("paysandbox: injecting fault", "op", op, "fault", f.Kind)
			switch f.Kind {
			case "fail-500":
				writeErr(w, http.StatusInternalServerError, "sandbox_failure", "injected failure")
				return
			case "fail-503":
				w.Header().Set("Retry-After", "0")
				writeErr(w, http.StatusServiceUnavailable, "sandbox_unavailable", "injected unavailability")
				return
			case "hang":
				select {
				case <-r.Context().Done():
				case <-s.ctx.Done():
				case <-time.After(s.opts.MaxHang):
				}
				return
			case "late":
				late = f.Delay
			case "drop-callback", "duplicate-callback":
				r = r.WithContext(context.WithValue(r.Context(), callbackFaultKey{}, f.Kind))
			}
		}
		var res result
		if r.Method == http.MethodPost {
			res = s.idempotent(op, key, r, body, fn)
		} else {
			res = fn(r, body)
		}
		if late > 0 {
			select {
			case <-time.After(late):
			case <-r.Context().Done():
				return // processed, but nobody is listening any more
			case <-s.ctx.Done():
				return
			}
		}
		if raw, ok := res.body.([]byte); ok {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(res.status)
			_, _ = w.Write(raw)
			return
		}
		writeJSON(w, res.status, res.body)
	}
}

type callbackFaultKey struct{}

// idempotent runs fn once per (op scope, key, body); a replay returns the
// stored answer as raw bytes.
func (s *Server) idempotent(op, key string, r *http.Request, body []byte, fn func(*http.Request, []byte) result) result {
	if key == "" {
		return result{status: http.StatusBadRequest, body: apiError{Code: "idempotency_key_required", Message: "the Idempotency-Key header is required"}}
	}
	if len(key) > 255 {
		return result{status: http.StatusBadRequest, body: apiError{Code: "idempotency_key_invalid", Message: "Idempotency-Key longer than 255 characters"}}
	}
	scope := op + "\x00" + r.PathValue("id") + "\x00" + key
	hash := sha256.Sum256(canonicalJSON(body))
	// The lock is held across the operation: two requests with one key are
	// serialised, and the second one sees the first one's answer.
	s.mu.Lock()
	if e, ok := s.idem[scope]; ok {
		s.mu.Unlock()
		if e.bodyHash != hash {
			return result{status: http.StatusUnprocessableEntity, body: apiError{Code: "idempotency_key_reused",
				Message: "this Idempotency-Key was used with a different request body"}}
		}
		return result{status: e.status, body: e.body}
	}
	res := fn(r, body)
	if res.status < 500 {
		b, _ := json.Marshal(res.body)
		s.idem[scope] = idemEntry{bodyHash: hash, status: res.status, body: append(b, '\n')}
	}
	s.mu.Unlock()
	if res.after != nil {
		res.after()
	}
	return res
}

// canonicalJSON re-encodes a JSON body so that whitespace and key order do
// not make two equal requests differ; a body that is not JSON stays as is.
func canonicalJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v) // maps are encoded with sorted keys
	return out
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type createRequest struct {
	AmountCents       int64  `json:"amount_cents"`
	Currency          string `json:"currency"`
	Description       string `json:"description"`
	MerchantReference string `json:"merchant_reference"`
	ReturnURL         string `json:"return_url"`
	CallbackURL       string `json:"callback_url"`
}

func invalid(fields map[string]string) result {
	return result{status: http.StatusUnprocessableEntity, body: apiError{Code: "validation_failed", Message: "invalid request", Fields: fields}}
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// create is called with s.mu held (see idempotent).
func (s *Server) create(r *http.Request, body []byte) result {
	var req createRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return result{status: http.StatusBadRequest, body: apiError{Code: "bad_json", Message: err.Error()}}
	}
	fields := map[string]string{}
	if req.AmountCents <= 0 || req.AmountCents > 100_000_000 {
		fields["amount_cents"] = "must be between 1 and 100000000"
	}
	if req.Currency != "EUR" {
		fields["currency"] = "only EUR is supported"
	}
	if d := strings.TrimSpace(req.Description); d == "" || len(d) > 200 {
		fields["description"] = "required, at most 200 characters"
	}
	if m := strings.TrimSpace(req.MerchantReference); m == "" || len(m) > 100 {
		fields["merchant_reference"] = "required, at most 100 characters"
	}
	if !validURL(req.ReturnURL) {
		fields["return_url"] = "an absolute http(s) URL is required"
	}
	if !validURL(req.CallbackURL) {
		fields["callback_url"] = "an absolute http(s) URL is required"
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	p := &payment{Payment: Payment{
		ID: newID("pi"), Status: StatusPending, AmountCents: req.AmountCents, Currency: req.Currency,
		Description: strings.TrimSpace(req.Description), MerchantReference: strings.TrimSpace(req.MerchantReference),
		ReturnURL: req.ReturnURL, CallbackURL: req.CallbackURL, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}}
	p.CheckoutURL = s.baseURL(r) + "/pay/" + p.ID
	if cf, ok := r.Context().Value(callbackFaultKey{}).(string); ok {
		p.callbackFault = cf
	}
	s.payments[p.ID] = p
	return result{status: http.StatusCreated, body: p.Payment}
}

func (s *Server) get(r *http.Request, _ []byte) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[r.PathValue("id")]
	if !ok {
		return result{status: http.StatusNotFound, body: apiError{Code: "not_found", Message: "no such payment"}}
	}
	return result{status: http.StatusOK, body: p.Payment}
}

type refundRequest struct {
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"`
}

// refund is called with s.mu held (see idempotent), so concurrent refunds
// of one payment never add up to more than was captured.
func (s *Server) refund(r *http.Request, body []byte) result {
	p, ok := s.payments[r.PathValue("id")]
	if !ok {
		return result{status: http.StatusNotFound, body: apiError{Code: "not_found", Message: "no such payment"}}
	}
	var req refundRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return result{status: http.StatusBadRequest, body: apiError{Code: "bad_json", Message: err.Error()}}
	}
	if req.AmountCents <= 0 {
		return invalid(map[string]string{"amount_cents": "must be positive"})
	}
	if len(req.Reason) > 200 {
		return invalid(map[string]string{"reason": "at most 200 characters"})
	}
	if p.Status != StatusCaptured {
		return result{status: http.StatusUnprocessableEntity, body: apiError{Code: "not_captured", Message: "only a captured payment can be refunded"}}
	}
	if left := p.CapturedCents - p.RefundedCents; req.AmountCents > left {
		return result{status: http.StatusUnprocessableEntity, body: apiError{Code: "refund_exceeds_captured",
			Message: fmt.Sprintf("at most %d cents can still be refunded", left),
			Fields:  map[string]string{"amount_cents": fmt.Sprintf("at most %d", left)}}}
	}
	rf := Refund{ID: newID("re"), PaymentID: p.ID, AmountCents: req.AmountCents, Reason: req.Reason,
		Status: "succeeded", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	p.RefundedCents += rf.AmountCents
	s.refunds[p.ID] = append(s.refunds[p.ID], rf)
	ev := s.eventLocked(EventRefunded, p, &rf)
	fault := p.callbackFault
	return result{status: http.StatusCreated, body: rf, after: func() { s.sendCallback(p.CallbackURL, ev, fault) }}
}

func (s *Server) eventLocked(typ string, p *payment, rf *Refund) Event {
	return Event{ID: newID("evt"), Type: typ, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Payment: p.Payment, Refund: rf}
}

// decide moves a pending payment to captured or canceled, once. It returns
// the payment and whether this call changed it.
func (s *Server) decide(id string, capture bool) (Payment, bool, error) {
	s.mu.Lock()
	p, ok := s.payments[id]
	if !ok {
		s.mu.Unlock()
		return Payment{}, false, errNotFound
	}
	if p.Status != StatusPending {
		s.mu.Unlock()
		return p.Payment, false, nil
	}
	typ := EventCanceled
	if capture {
		p.Status, p.CapturedCents, typ = StatusCaptured, p.AmountCents, EventCaptured
	} else {
		p.Status = StatusCanceled
	}
	ev := s.eventLocked(typ, p, nil)
	snapshot, url, fault := p.Payment, p.CallbackURL, p.callbackFault
	s.mu.Unlock()
	s.sendCallback(url, ev, fault)
	return snapshot, true, nil
}

var errNotFound = errors.New("no such payment")

// sendCallback delivers ev in the background (twice with
// "duplicate-callback", never with "drop-callback").
func (s *Server) sendCallback(target string, ev Event, fault string) {
	if fault == "drop-callback" {
		s.log.Info("paysandbox: callback dropped (fault)", "event", ev.ID)
		return
	}
	body, _ := json.Marshal(ev)
	copies := 1
	if fault == "duplicate-callback" {
		copies = 2
	}
	for range copies {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliverWithRetries(target, ev.ID, body)
		}()
	}
}

func (s *Server) deliverWithRetries(target, eventID string, body []byte) {
	wait := s.opts.CallbackBackoff
	for attempt := 1; attempt <= s.opts.MaxCallbackAttempts; attempt++ {
		s.mu.Lock()
		s.deliver[eventID]++
		s.mu.Unlock()
		status, err := s.deliverOnce(target, body)
		if err == nil && status >= 200 && status < 300 {
			return
		}
		s.log.Info("paysandbox: callback not accepted, retrying", "event", eventID, "attempt", attempt, "status", status, "err", err)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
	s.log.Warn("paysandbox: callback given up", "event", eventID, "attempts", s.opts.MaxCallbackAttempts)
}

func (s *Server) deliverOnce(target string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(payments.SignatureHeader, payments.Sign(s.opts.Secret, time.Now(), body))
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&f); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_json", err.Error())
		return
	}
	if err := f.normalize(); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Code: "validation_failed", Message: err.Error()})
		return
	}
	_ = s.Inject(f)
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) clearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
