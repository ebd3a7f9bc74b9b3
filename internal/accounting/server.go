// Package accounting stands for a municipality's accounting system: the
// platform sends it invoices (cooperatives billing the voucher-funded
// sessions they delivered) and reimbursement claims (merchants, for redeemed
// food vouchers), and later reads whether each one has been paid. `sportello
// accounting` and `make run` serve it as a separate local HTTP server
// (default http://127.0.0.1:8091); the tests start it on a free port. Client
// is the platform's side.
//
// The API (JSON, amounts in integer euro cents):
//
//	POST /v1/invoices               submit an invoice with its PDF (Idempotency-Key required)
//	GET  /v1/invoices/{id}          the invoice's status: received, then paid (with payment_ref)
//	POST /v1/invoices/{id}/payment  the treasurer pays it now (sandbox control)
//	POST /v1/commitments            commit a call's budget (Idempotency-Key required; commitments.go)
//	POST /sandbox/faults            queue faults for the next N requests (see Fault)
//	DELETE /sandbox/faults          clear them
//	POST /sandbox/release           serve the requests a "hold" fault keeps waiting
//
// Payment confirmation is read, not pushed: the platform polls GET
// /v1/invoices/{id} until the status is paid. In the sandbox an invoice is
// paid PayAfter after it was received (or when /payment is called).
//
// Idempotency: the same key with the same body gets the same answer (header
// Idempotent-Replayed: true); the same key with another body is a 422
// idempotency_key_reused; another key for an invoice reference already
// received is a 409 duplicate_reference. State lives in memory.
package accounting

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Statuses of a received invoice.
const (
	StatusReceived = "received"
	StatusPaid     = "paid"
)

// Line is one line of an invoice: a delivered session or a redemption.
type Line struct {
	Seq         int       `json:"seq"`
	Description string    `json:"description"`
	Date        time.Time `json:"date"`
	AmountCents int64     `json:"amount_cents"`
	Reference   string    `json:"reference"` // the platform's id of the session or redemption
	// Funder of a cooperative's line: "municipality" (the voucher's part)
	// or "company" (a company's welfare credit, CompanyID, to be charged
	// to it); empty on merchants' lines.
	Funder    string `json:"funder,omitempty"`
	CompanyID string `json:"company_id,omitempty"`
}

// Submission is an invoice as the platform sends it.
type Submission struct {
	Reference    string `json:"reference"` // the platform's invoice id
	Number       int64  `json:"number"`
	Kind         string `json:"kind"` // cooperative or merchant
	District     string `json:"district"`
	Municipality string `json:"municipality"`
	PayeeID      string `json:"payee_id"`
	PayeeName    string `json:"payee_name"`
	Period       string `json:"period"` // YYYY-MM
	TotalCents   int64  `json:"total_cents"`
	Lines        []Line `json:"lines"`
	// Declaration is the merchant's self-declaration (merchant claims only).
	Declaration map[string]bool `json:"declaration,omitempty"`
	PDF         []byte          `json:"pdf"` // base64 in JSON
}

// Record is the accounting system's view of a received invoice.
type Record struct {
	ID          string     `json:"id"`
	Reference   string     `json:"reference"`
	Status      string     `json:"status"`
	TotalCents  int64      `json:"total_cents"`
	ReceivedAt  time.Time  `json:"received_at"`
	PaymentRef  string     `json:"payment_ref,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	PDFSHA256   string     `json:"pdf_sha256"`
	LineCount   int        `json:"line_count"`
	PayeeID     string     `json:"payee_id"`
	Description string     `json:"description,omitempty"`
}

// Fault is an injected misbehaviour for the next Times matching requests.
type Fault struct {
	// "fail-503", "fail-500", "hang" (no answer until the client gives up)
	// or "hold" (the request waits until ReleaseHeld, then is served).
	Kind  string `json:"kind"`
	Op    string `json:"op,omitempty"`    // "submit", "status", "commit" or "" (any)
	Times int    `json:"times,omitempty"` // default 1
}

// Options configure a Server.
type Options struct {
	// PayAfter: an invoice counts as paid this long after it was received
	// (0: at once; negative: only when /payment is called).
	PayAfter time.Duration
	MaxHang  time.Duration // how long "hang" waits at most (default 2m)
	// CommitmentLimit is each municipality's appropriation: the budgets it
	// commits add up to at most this (default DefaultCommitmentLimit).
	CommitmentLimit int64
	Logger          *slog.Logger
	Now             func() time.Time // default time.Now
}

type stored struct {
	hash   [32]byte
	status int
	body   []byte
}

// Server is the sandbox accounting system; it is an http.Handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	invoices map[string]*Record // by id
	byRef    map[string]string  // reference -> id
	idem     map[string]stored
	faults   []Fault
	requests map[string]int // submissions per idempotency key

	commitments    map[string]*Commitment // by call id
	commitSeq      int
	commitRequests map[string]int // commit requests per idempotency key

	held    int           // requests waiting under a "hold" fault
	release chan struct{} // closed by ReleaseHeld
}

// New returns a sandbox accounting server.
func New(opts Options) *Server {
	if opts.MaxHang <= 0 {
		opts.MaxHang = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CommitmentLimit <= 0 {
		opts.CommitmentLimit = DefaultCommitmentLimit
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), done: make(chan struct{}),
		invoices: map[string]*Record{}, byRef: map[string]string{}, idem: map[string]stored{}, requests: map[string]int{},
		commitments: map[string]*Commitment{}, commitRequests: map[string]int{}, release: make(chan struct{})}
	s.mux.HandleFunc("POST /v1/invoices", s.faulty("submit", s.keyed("", s.receiveLocked, func(int) bool { return true })))
	s.mux.HandleFunc("GET /v1/invoices/{id}", s.faulty("status", s.status))
	s.mux.HandleFunc("POST /v1/invoices/{id}/payment", s.pay)
	// A refused commitment is not remembered: the key stays free.
	s.mux.HandleFunc("POST /v1/commitments", s.faulty("commit", s.keyed("commit:", s.commitLocked,
		func(status int) bool { return status == http.StatusCreated })))
	s.mux.HandleFunc("POST /sandbox/faults", s.postFault)
	s.mux.HandleFunc("POST /sandbox/release", func(w http.ResponseWriter, _ *http.Request) {
		s.ReleaseHeld()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("DELETE /sandbox/faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close releases requests held by a "hang" fault.
func (s *Server) Close() { s.once.Do(func() { close(s.done) }) }

// Inject queues a fault.
func (s *Server) Inject(f Fault) error {
	if f.Kind != "fail-503" && f.Kind != "fail-500" && f.Kind != "hang" && f.Kind != "hold" {
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Op != "" && f.Op != "submit" && f.Op != "status" && f.Op != "commit" {
		return fmt.Errorf("unknown op %q", f.Op)
	}
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
	return nil
}

// hold keeps r waiting until ReleaseHeld; false when it gave up first.
func (s *Server) hold(r *http.Request) bool {
	s.mu.Lock()
	s.held++
	release := s.release
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.held--
		s.mu.Unlock()
	}()
	select {
	case <-release:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// Held reports how many requests a "hold" fault keeps waiting.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// ReleaseHeld lets the requests held by "hold" faults be served.
func (s *Server) ReleaseHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = make(chan struct{})
}

// ClearFaults drops the queued faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Submissions reports how many submit requests carried the idempotency key.
func (s *Server) Submissions(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

// Invoices returns a copy of every received invoice.
func (s *Server) Invoices() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.invoices)
}

// copies returns a copy of every value of m.
func copies[T any](m map[string]*T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	return out
}

// Pay marks a received invoice paid now (once); false when unknown.
func (s *Server) Pay(id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.invoices[id]
	if !ok {
		return Record{}, false
	}
	s.markPaidLocked(r)
	return *r, true
}

func (s *Server) markPaidLocked(r *Record) {
	if r.Status == StatusPaid {
		return
	}
	now := s.opts.Now().UTC().Truncate(time.Millisecond)
	r.Status, r.PaidAt, r.PaymentRef = StatusPaid, &now, newID("pay")
}

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

func (s *Server) takeFault(op string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.faults, func(f Fault) bool { return f.Op == "" || f.Op == op })
	if i < 0 {
		return Fault{}, false
	}
	f := s.faults[i]
	if s.faults[i].Times--; s.faults[i].Times == 0 {
		s.faults = slices.Delete(s.faults, i, i+1)
	}
	return f, true
}

// faulty applies a queued fault before the operation.
func (s *Server) faulty(op string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if key := strings.TrimSpace(r.Header.Get("Idempotency-Key")); key != "" && (op == "submit" || op == "commit") {
			s.mu.Lock()
			if op == "submit" {
				s.requests[key]++
			} else {
				s.commitRequests[key]++
			}
			s.mu.Unlock()
		}
		f, ok := s.takeFault(op)
		if !ok {
			next(w, r)
			return
		}
		s.opts.Logger.Info("accounting sandbox: injecting fault", "op", op, "fault", f.Kind)
		switch f.Kind {
		case "fail-503":
			w.Header().Set("Retry-After", "0")
			writeJSON(w, http.StatusServiceUnavailable, apiError{Code: "unavailable", Message: "injected unavailability"})
		case "fail-500":
			writeJSON(w, http.StatusInternalServerError, apiError{Code: "failure", Message: "injected failure"})
		case "hang":
			select {
			case <-r.Context().Done():
			case <-s.done:
			case <-time.After(s.opts.MaxHang):
			}
		case "hold":
			if s.hold(r) {
				next(w, r)
			}
		}
	}
}

const maxBody = 8 << 20

// keyed serves an operation under an Idempotency-Key, in its own key
// space: the same key and body get the remembered answer, the same key
// with another body is refused; do's answer is remembered when keep says so
// of its status.
func (s *Server) keyed(space string, do func(body []byte) (int, any), keep func(status int) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, key, ok := readKeyed(w, r)
		if !ok {
			return
		}
		key = space + key
		// The lock is held across the operation: two requests with one key
		// are serialised and the second sees the first one's answer.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.replayLocked(w, key, body) {
			return
		}
		status, answer := do(body)
		b, _ := json.Marshal(answer)
		b = append(b, '\n')
		if keep(status) {
			s.rememberLocked(key, body, status, b)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

// readKeyed reads a request's body and its Idempotency-Key, answering the
// refusal itself when either is wrong.
func readKeyed(w http.ResponseWriter, r *http.Request) ([]byte, string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Code: "body_too_large", Message: "body over 8 MiB"})
		return nil, "", false
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" || len(key) > 255 {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "idempotency_key_required", Message: "an Idempotency-Key of 1 to 255 characters is required"})
		return nil, "", false
	}
	return body, key, true
}

// replayLocked answers again the request remembered under key, or refuses
// another body under it; false when key is new.
func (s *Server) replayLocked(w http.ResponseWriter, key string, body []byte) bool {
	e, ok := s.idem[key]
	if !ok {
		return false
	}
	if e.hash != sha256.Sum256(canonical(body)) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was used with a different request body"})
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
	return true
}

// rememberLocked binds key to body's answer.
func (s *Server) rememberLocked(key string, body []byte, status int, answer []byte) {
	s.idem[key] = stored{hash: sha256.Sum256(canonical(body)), status: status, body: answer}
}

func (s *Server) receiveLocked(body []byte) (int, any) {
	var in Submission
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return http.StatusBadRequest, apiError{Code: "bad_json", Message: err.Error()}
	}
	fields := validate(in)
	if len(fields) > 0 {
		return http.StatusUnprocessableEntity, apiError{Code: "validation_failed", Message: "invalid invoice", Fields: fields}
	}
	if _, ok := s.byRef[in.Reference]; ok {
		return http.StatusConflict, apiError{Code: "duplicate_reference", Message: "an invoice with this reference was already received with another key"}
	}
	sum := sha256.Sum256(in.PDF)
	rec := &Record{ID: newID("inv"), Reference: in.Reference, Status: StatusReceived, TotalCents: in.TotalCents,
		ReceivedAt: s.opts.Now().UTC().Truncate(time.Millisecond), PDFSHA256: hex.EncodeToString(sum[:]),
		LineCount: len(in.Lines), PayeeID: in.PayeeID}
	s.invoices[rec.ID] = rec
	s.byRef[in.Reference] = rec.ID
	return http.StatusCreated, *rec
}

func validate(in Submission) map[string]string {
	f := map[string]string{}
	if r := strings.TrimSpace(in.Reference); r == "" || len(r) > 100 {
		f["reference"] = "required, at most 100 characters"
	}
	if in.Kind != "cooperative" && in.Kind != "merchant" {
		f["kind"] = "cooperative or merchant"
	}
	if strings.TrimSpace(in.Municipality) == "" {
		f["municipality"] = "required"
	}
	if strings.TrimSpace(in.PayeeID) == "" {
		f["payee_id"] = "required"
	}
	if _, err := time.Parse("2006-01", in.Period); err != nil {
		f["period"] = "YYYY-MM"
	}
	if len(in.Lines) == 0 {
		f["lines"] = "an invoice needs at least one line"
	}
	var sum int64
	for i, l := range in.Lines {
		if l.AmountCents <= 0 {
			f[fmt.Sprintf("lines/%d/amount_cents", i)] = "must be positive"
		}
		sum += l.AmountCents
	}
	if in.TotalCents <= 0 || in.TotalCents != sum {
		f["total_cents"] = "must be positive and equal the sum of the lines"
	}
	if !bytes.HasPrefix(in.PDF, []byte("%PDF-")) {
		f["pdf"] = "a PDF document (base64) is required"
	}
	if in.Kind == "merchant" && len(in.Declaration) == 0 {
		f["declaration"] = "a merchant's claim needs the self-declaration"
	}
	return f
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.invoices[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{Code: "not_found", Message: "no such invoice"})
		return
	}
	if s.opts.PayAfter >= 0 && rec.Status == StatusReceived && !s.opts.Now().Before(rec.ReceivedAt.Add(s.opts.PayAfter)) {
		s.markPaidLocked(rec)
	}
	writeJSON(w, http.StatusOK, *rec)
}

func (s *Server) pay(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.Pay(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{Code: "not_found", Message: "no such invoice"})
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "bad_json", Message: err.Error()})
		return
	}
	if err := s.Inject(f); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Code: "validation_failed", Message: err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

// canonical re-encodes JSON so that key order and spacing do not matter.
func canonical(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}

func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}
