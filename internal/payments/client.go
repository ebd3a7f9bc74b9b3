// Package payments is the platform's client of the online payment provider
// (in development and tests the sandbox of internal/paysandbox).
//
// Calls go over go-retryablehttp with few retries and short timeouts: the
// caller (a Temporal activity) owns the real retry policy, so a failed call
// comes back quickly as an *Error that says whether retrying can help.
// Every mutating call carries the caller's idempotency key, the same on
// each attempt, so a retry after a lost answer never pays or refunds twice.
//
// The provider reports outcomes by signed callbacks; CallbackHandler
// verifies them (HMAC-SHA256, constant-time, timestamp tolerance) and hands
// each Event to the caller, who must handle repeats (same Event.ID).
package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"sportello/internal/observe"
)

// Payment statuses.
const (
	StatusPending  = "pending"
	StatusCaptured = "captured"
	StatusCanceled = "canceled"
)

// Event types.
const (
	EventCaptured = "payment.captured"
	EventCanceled = "payment.canceled"
	EventRefunded = "refund.succeeded"
)

// Config configures a Client. Zero values take the defaults noted.
type Config struct {
	BaseURL        string        // the provider's API root, e.g. http://127.0.0.1:8090 (SPORTELLO_PAYMENTS_URL)
	Secret         string        // callback secret (SPORTELLO_PAYMENTS_SECRET); needed by Verify and CallbackHandler only
	AttemptTimeout time.Duration // per HTTP attempt (default 5s)
	RetryMax       int           // retries after the first attempt (default 2; negative: none)
	RetryWaitMin   time.Duration // default 100ms
	RetryWaitMax   time.Duration // default 1s
	Logger         *slog.Logger  // default: no logging
}

// Client talks to the payment provider. It is safe for concurrent use.
type Client struct {
	base string
	rc   *retryablehttp.Client
}

// New returns a client for cfg.BaseURL.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("payments: invalid provider URL %q", cfg.BaseURL)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 5 * time.Second
	}
	switch {
	case cfg.RetryMax == 0:
		cfg.RetryMax = 2
	case cfg.RetryMax < 0:
		cfg.RetryMax = 0
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = 100 * time.Millisecond
	}
	if cfg.RetryWaitMax <= 0 {
		cfg.RetryWaitMax = time.Second
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient.Timeout = cfg.AttemptTimeout
	if t, ok := rc.HTTPClient.Transport.(*http.Transport); ok {
		// Activities call concurrently: keep enough idle connections to the
		// provider (the pooled default keeps GOMAXPROCS+1).
		t.MaxIdleConnsPerHost = 32
	}
	// Each call is a client span of the activity's trace and carries its
	// traceparent to the provider.
	rc.HTTPClient.Transport = observe.Transport(rc.HTTPClient.Transport)
	rc.RetryMax = cfg.RetryMax
	rc.RetryWaitMin, rc.RetryWaitMax = cfg.RetryWaitMin, cfg.RetryWaitMax
	rc.CheckRetry = checkRetry
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler // the last answer or error, classified below
	rc.Logger = nil
	if cfg.Logger != nil {
		rc.Logger = cfg.Logger
	}
	return &Client{base: strings.TrimRight(cfg.BaseURL, "/"), rc: rc}, nil
}

// checkRetry retries transport errors and timeouts, 408, 409 (a request
// with the same key still in progress), 429 and 5xx other than 501.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	return retryableStatus(resp.StatusCode), nil
}

func retryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusConflict, code == http.StatusTooManyRequests:
		return true
	case code == http.StatusNotImplemented:
		return false
	default:
		return code >= 500
	}
}

// Error is a failed call. Retryable says whether the same call (same
// idempotency key) may succeed later: transport errors, timeouts, 408, 409,
// 429 and 5xx are; other 4xx answers are permanent.
type Error struct {
	Op         string            // "create", "get", "refund"
	StatusCode int               // 0 when no answer came
	Code       string            // the provider's error code, e.g. "refund_exceeds_captured"
	Message    string            // the provider's message or the transport error
	Fields     map[string]string // per-field problems of a 422
	Retryable  bool
	Timeout    bool  // no answer within the attempt timeout
	Err        error // the transport error, if any
}

func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("payments: %s: %s", e.Op, e.Message)
	}
	return fmt.Sprintf("payments: %s: HTTP %d %s: %s", e.Op, e.StatusCode, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is a payments error worth retrying.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// IntentRequest asks for a payment intent.
type IntentRequest struct {
	AmountCents       int64  `json:"amount_cents"`
	Currency          string `json:"currency"` // "EUR" when empty
	Description       string `json:"description"`
	MerchantReference string `json:"merchant_reference"` // ours: e.g. the order id
	ReturnURL         string `json:"return_url"`         // where the payer's browser goes afterwards
	CallbackURL       string `json:"callback_url"`       // where the provider POSTs events
}

// Payment is a payment intent. Send the payer to CheckoutURL.
type Payment struct {
	ID                string    `json:"id"`
	Status            string    `json:"status"`
	AmountCents       int64     `json:"amount_cents"`
	CapturedCents     int64     `json:"captured_cents"`
	RefundedCents     int64     `json:"refunded_cents"`
	Currency          string    `json:"currency"`
	Description       string    `json:"description"`
	MerchantReference string    `json:"merchant_reference"`
	ReturnURL         string    `json:"return_url"`
	CallbackURL       string    `json:"callback_url"`
	CheckoutURL       string    `json:"checkout_url"`
	CreatedAt         time.Time `json:"created_at"`
}

// Refund is a refund of (part of) a captured payment.
type Refund struct {
	ID          string    `json:"id"`
	PaymentID   string    `json:"payment_id"`
	AmountCents int64     `json:"amount_cents"`
	Reason      string    `json:"reason,omitempty"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

// CreateIntent creates a payment intent. The same idempotencyKey with the
// same request returns the same payment; with another request it fails
// with a permanent *Error (code idempotency_key_reused).
func (c *Client) CreateIntent(ctx context.Context, idempotencyKey string, req IntentRequest) (Payment, error) {
	if req.Currency == "" {
		req.Currency = "EUR"
	}
	var p Payment
	err := c.do(ctx, "create", http.MethodPost, "/v1/payment_intents", idempotencyKey, req, &p)
	return p, err
}

// Payment reads a payment's current state.
func (c *Client) Payment(ctx context.Context, id string) (Payment, error) {
	var p Payment
	err := c.do(ctx, "get", http.MethodGet, "/v1/payment_intents/"+url.PathEscape(id), "", nil, &p)
	return p, err
}

// Refund refunds amountCents of a captured payment. The provider never lets
// refunds exceed the captured amount (a permanent *Error with code
// refund_exceeds_captured).
func (c *Client) Refund(ctx context.Context, idempotencyKey, paymentID string, amountCents int64, reason string) (Refund, error) {
	var r Refund
	body := struct {
		AmountCents int64  `json:"amount_cents"`
		Reason      string `json:"reason,omitempty"`
	}{amountCents, reason}
	err := c.do(ctx, "refund", http.MethodPost, "/v1/payment_intents/"+url.PathEscape(paymentID)+"/refunds", idempotencyKey, body, &r)
	return r, err
}

func (c *Client) do(ctx context.Context, op, method, path, key string, in, out any) error {
	if method != http.MethodGet && strings.TrimSpace(key) == "" {
		return &Error{Op: op, Message: "an idempotency key is required"}
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &Error{Op: op, Message: err.Error(), Err: err}
		}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return &Error{Op: op, Message: err.Error(), Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		return transportError(op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return transportError(op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Error{Op: op, StatusCode: resp.StatusCode, Code: "bad_response", Message: err.Error(), Retryable: true, Err: err}
		}
		return nil
	}
	e := &Error{Op: op, StatusCode: resp.StatusCode, Retryable: retryableStatus(resp.StatusCode)}
	var body2 struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	}
	if json.Unmarshal(raw, &body2) == nil {
		e.Code, e.Message, e.Fields = body2.Code, body2.Message, body2.Fields
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// transportError classifies an error with no answer: always retryable (the
// provider may not have seen the request, or may have processed it; the
// idempotency key makes the retry safe), Timeout when the attempt timed out.
func transportError(op string, err error) *Error {
	e := &Error{Op: op, Message: err.Error(), Err: err, Retryable: true}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		e.Timeout = true
	}
	return e
}
