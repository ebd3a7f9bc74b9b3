package accounting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"sportello/internal/observe"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	BaseURL        string        // e.g. http://127.0.0.1:8091 (SPORTELLO_ACCOUNTING_URL)
	AttemptTimeout time.Duration // per HTTP attempt (default 10s)
	Retries        int           // retries after the first attempt (default 2; negative: none)
}

// Client is the platform's client of the accounting system. Few quick
// retries: the calling activity's retry policy does the real retrying, with
// the same idempotency key each time.
type Client struct {
	base string
	rc   *retryablehttp.Client
}

// NewClient returns a client for cfg.BaseURL.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("accounting: invalid URL %q", cfg.BaseURL)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 10 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient.Timeout = cfg.AttemptTimeout
	// Each call is a client span of the activity's trace and carries its
	// traceparent to the accounting system.
	rc.HTTPClient.Transport = observe.Transport(rc.HTTPClient.Transport)
	rc.RetryMax = max(cfg.Retries, 0)
	rc.RetryWaitMin, rc.RetryWaitMax = 50*time.Millisecond, 500*time.Millisecond
	rc.Logger = nil
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if err != nil {
			return true, nil
		}
		return temporary(resp.StatusCode), nil
	}
	return &Client{base: strings.TrimRight(cfg.BaseURL, "/"), rc: rc}, nil
}

// temporary: 408, 429 and 5xx other than 501 may succeed later.
func temporary(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented)
}

// CallError is a failed call; Permanent when retrying cannot help (4xx).
type CallError struct {
	Op         string
	StatusCode int // 0: no answer
	Code       string
	Message    string
	Fields     map[string]string
	Permanent  bool
}

func (e *CallError) Error() string {
	return fmt.Sprintf("accounting %s: HTTP %d %s: %s", e.Op, e.StatusCode, e.Code, e.Message)
}

// IsPermanent reports whether err is a CallError that retrying cannot fix.
func IsPermanent(err error) bool {
	var ce *CallError
	return errors.As(err, &ce) && ce.Permanent
}

// Submit sends an invoice; the same key with the same submission returns
// the same record.
func (c *Client) Submit(ctx context.Context, key string, in Submission) (Record, error) {
	var rec Record
	return rec, c.post(ctx, "submit", "/v1/invoices", key, in, &rec)
}

// post sends in as JSON under the idempotency key (required) and decodes
// the answer into out.
func (c *Client) post(ctx context.Context, op, path, key string, in, out any) error {
	if strings.TrimSpace(key) == "" {
		return &CallError{Op: op, Message: "an idempotency key is required", Permanent: true}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.call(ctx, op, http.MethodPost, path, key, body, out)
}

// Invoice reads a received invoice's status.
func (c *Client) Invoice(ctx context.Context, id string) (Record, error) {
	var rec Record
	return rec, c.call(ctx, "status", http.MethodGet, "/v1/invoices/"+url.PathEscape(id), "", nil, &rec)
}

func (c *Client) call(ctx context.Context, op, method, path, key string, body []byte, out any) error {
	req, err := retryablehttp.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return &CallError{Op: op, Message: err.Error(), Permanent: true}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		return &CallError{Op: op, Message: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &CallError{Op: op, StatusCode: resp.StatusCode, Message: err.Error()}
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			return &CallError{Op: op, StatusCode: resp.StatusCode, Code: "bad_response", Message: err.Error()}
		}
		return nil
	}
	e := &CallError{Op: op, StatusCode: resp.StatusCode, Permanent: !temporary(resp.StatusCode)}
	var ae apiError
	if json.Unmarshal(raw, &ae) == nil {
		e.Code, e.Message, e.Fields = ae.Code, ae.Message, ae.Fields
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
