package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/app"
	"sportello/internal/auth"
)

// FieldError is one problem with one field of a request (app.FieldError).
type FieldError = app.FieldError

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error.
type ErrorDetail struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Fields    []FieldError `json:"fields,omitempty"`
	CaseID    string       `json:"case_id,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

// httpError is an error that already knows its HTTP status and body.
type httpError struct {
	status  int
	code    string
	message string
	fields  []FieldError
	caseID  string
	cause   error
	// retryAfter, when positive, is sent as Retry-After (whole seconds).
	retryAfter time.Duration
}

func (e *httpError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.status, e.code, e.message, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

func (e *httpError) Unwrap() error { return e.cause }

func newError(status int, code, message string) *httpError {
	return &httpError{status: status, code: code, message: message}
}

// invalid is a 422 with field-level problems (app.InvalidInput).
func invalid(fields ...FieldError) *httpError { return toHTTP(app.InvalidInput(fields...)) }

func field(pointer, code, en, it string) FieldError { return app.Field(pointer, code, en, it) }

func param(name, code, en, it string) FieldError { return app.Param(name, code, en, it) }

var (
	errUnauthenticated = newError(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
	errForbiddenRole   = newError(http.StatusForbidden, "forbidden", "your role may not use this resource")
)

func notFound(what string) *httpError {
	return newError(http.StatusNotFound, "not_found", what+" not found")
}

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

// toHTTP maps any error to the response it deserves. This is the one place
// where domain, database and Temporal errors become HTTP statuses.
func toHTTP(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &httpError{status: http.StatusRequestEntityTooLarge, code: "body_too_large",
			message: fmt.Sprintf("the request body exceeds %d bytes", tooBig.Limit), cause: err}
	}
	if errors.Is(err, auth.ErrBusy) {
		return errBusy(err)
	}
	// Refusals of the application services, of the store and of the
	// workflows: classified once (app.Classify), given their status here.
	ae := app.Classify(err)
	return &httpError{status: statusOf[ae.Kind], code: ae.Code, message: ae.Message, fields: ae.Fields,
		caseID: ae.CaseID, retryAfter: ae.RetryAfter, cause: err}
}

// fail writes err as a JSON error response.
func (s *server) fail(c *gin.Context, err error) {
	he := toHTTP(err)
	if he.status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c),
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", he.status, "err", err)
	} else if he.cause != nil {
		s.log.DebugContext(c.Request.Context(), "request refused", "request_id", requestID(c),
			"status", he.status, "code", he.code, "err", he.cause)
	}
	if he.status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="sportello"`)
	}
	if he.retryAfter > 0 {
		c.Header("Retry-After", retryAfterSeconds(he.retryAfter))
	}
	c.AbortWithStatusJSON(he.status, ErrorBody{Error: ErrorDetail{
		Code: he.code, Message: he.message, Fields: he.fields, CaseID: he.caseID, RequestID: requestID(c),
	}})
}

// handle adapts a handler that returns an error to gin, mapping the error in
// one place.
func (s *server) handle(f func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := f(c); err != nil {
			s.fail(c, err)
		}
	}
}

// retryAfterSeconds is d as a Retry-After value: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

// busyRetryAfter is what a caller refused for lack of password-check
// capacity is told to wait.
const busyRetryAfter = 2 * time.Second

// errBusy: too many password checks at once (auth.ErrBusy); try again soon.
func errBusy(cause error) *httpError {
	return &httpError{status: http.StatusServiceUnavailable, code: "busy",
		message: "too many logins at this moment; try again in a few seconds", cause: cause, retryAfter: busyRetryAfter}
}
