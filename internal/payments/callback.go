package payments

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a callback's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of t + "." + body>".
const SignatureHeader = "Sandbox-Signature"

// DefaultTolerance is how far a callback's timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrBadSignature = errors.New("payments: callback signature does not match")
	ErrStale        = errors.New("payments: callback timestamp outside the tolerance")
	ErrNoSignature  = errors.New("payments: callback signature missing or malformed")
	// ErrUnconfirmed is what a callback's handler returns (wrapped) when the
	// provider, asked directly, does not confirm what the event claims:
	// CallbackHandler answers 409, nothing was done. A genuine event that
	// the provider's API cannot confirm yet is redelivered by the provider
	// (it retries every non-2xx answer); a forged one is refused.
	ErrUnconfirmed = errors.New("payments: event not confirmed by the provider")
)

// Event is a callback from the provider. The same event (same ID) may
// arrive more than once.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"` // EventCaptured, EventCanceled, EventRefunded
	CreatedAt time.Time `json:"created_at"`
	Payment   Payment   `json:"payment"`
	Refund    *Refund   `json:"refund,omitempty"`
}

// Sign returns the SignatureHeader value for body at time t (the
// provider's side of Verify).
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header (the SignatureHeader value) against body with the
// shared secret, in constant time, and that its timestamp is within
// tolerance of now (either way).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return errors.New("payments: no callback secret configured")
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs { // several v1 values let the provider rotate secrets
		ok = hmac.Equal(s, want) || ok
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}

// CallbackHandler returns an http.Handler for the provider's callbacks. It
// verifies each one (DefaultTolerance when tolerance is 0), decodes the
// Event and calls handle. Answers: 204 when handle returns nil (the
// provider stops retrying), 400 for a bad or stale signature or body, 409
// when handle returns ErrUnconfirmed (the claim was refused), 500 when
// handle fails otherwise (the provider retries later). handle must be
// idempotent: events may come twice, concurrently too.
func CallbackHandler(secret string, tolerance time.Duration, logger *slog.Logger, handle func(context.Context, Event) error) http.Handler {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := Verify(secret, r.Header.Get(SignatureHeader), body, time.Now(), tolerance); err != nil {
			logger.Warn("payments: callback rejected", "err", err, "remote", r.RemoteAddr)
			http.Error(w, "invalid signature", http.StatusBadRequest)
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Payment.ID == "" {
			http.Error(w, "invalid event", http.StatusBadRequest)
			return
		}
		if err := handle(r.Context(), ev); errors.Is(err, ErrUnconfirmed) {
			logger.Warn("payments: callback refused", "event", ev.ID, "type", ev.Type, "payment_id", ev.Payment.ID, "err", err)
			http.Error(w, "event not confirmed by the provider", http.StatusConflict)
			return
		} else if err != nil {
			logger.Error("payments: callback handling failed", "event", ev.ID, "type", ev.Type, "err", err)
			http.Error(w, "not handled, retry later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
