// Package httpx is what the two adapters of package api share, the JSON
// API (api) and the web pages (api/web): the error that knows its HTTP
// status and the one mapping of every error to it (From, over
// app.Classify's kinds), the request id and the logged-in user in the gin
// context, paging parameters, the portal's origin for links.
package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"sportello/internal/app"
	"sportello/internal/auth"
)

// FieldError is one problem with one field of a request (app.FieldError).
type FieldError = app.FieldError

// Error is an error that already knows its HTTP status and body.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  []FieldError
	CaseID  string
	Cause   error
	// RetryAfter, when positive, is sent as Retry-After (whole seconds).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New is an error with status, code and message.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Invalid is a 422 with field-level problems (app.InvalidInput).
func Invalid(fields ...FieldError) *Error { return From(app.InvalidInput(fields...)) }

// NotFound is the 404 of a missing what.
func NotFound(what string) *Error {
	return New(http.StatusNotFound, "not_found", what+" not found")
}

var (
	// ErrUnauthenticated: no bearer token, or not one at all.
	ErrUnauthenticated = New(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
	// ErrForbiddenRole: the route is not for the caller's role.
	ErrForbiddenRole = New(http.StatusForbidden, "forbidden", "your role may not use this resource")
)

// statusOf is the HTTP status of each kind of refusal of the application
// services (internal/app).
var statusOf = map[app.Kind]int{
	app.Internal:        http.StatusInternalServerError,
	app.Invalid:         http.StatusUnprocessableEntity,
	app.NotFound:        http.StatusNotFound,
	app.Conflict:        http.StatusConflict,
	app.Forbidden:       http.StatusForbidden,
	app.Unauthenticated: http.StatusUnauthorized,
	app.Unavailable:     http.StatusServiceUnavailable,
	app.TooMany:         http.StatusTooManyRequests,
}

// From maps any error to the response it deserves. This is the one place
// where domain, database and Temporal errors become HTTP statuses, for the
// JSON API and the pages alike.
func From(err error) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: fmt.Sprintf("the request body exceeds %d bytes", tooBig.Limit), Cause: err}
	}
	if errors.Is(err, auth.ErrBusy) {
		return Busy(err)
	}
	// Refusals of the application services, of the store and of the
	// workflows: classified once (app.Classify), given their status here.
	ae := app.Classify(err)
	return &Error{Status: statusOf[ae.Kind], Code: ae.Code, Message: ae.Message, Fields: ae.Fields,
		CaseID: ae.CaseID, RetryAfter: ae.RetryAfter, Cause: err}
}

// RetryAfterSeconds is d as a Retry-After value: whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

// busyRetryAfter is what a caller refused for lack of password-check
// capacity is told to wait.
const busyRetryAfter = 2 * time.Second

// Busy: too many password checks at once (auth.ErrBusy); try again soon.
func Busy(cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "busy",
		Message: "too many logins at this moment; try again in a few seconds", Cause: cause, RetryAfter: busyRetryAfter}
}

// MaxBody is the largest request body either adapter reads.
const MaxBody = 1 << 20

// Uploads of a population registry extract (api/registry.go,
// web/registry.go) may be larger: a town's extract is a few megabytes.
const (
	MaxUploadBody    = 33 << 20 // internal/registry.MaxFileBytes and a multipart envelope
	RegistryAPIPath  = "/api/v1/registry/imports"
	RegistryPagePath = "/registry/preview"
)

// BodyLimit is the largest request body read on path.
func BodyLimit(path string) int64 {
	if path == RegistryAPIPath || path == RegistryPagePath {
		return MaxUploadBody
	}
	return MaxBody
}
