package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/auth"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// FieldError is one problem with one field of a request.
type FieldError struct {
	Pointer   string `json:"pointer"`             // JSON pointer into the request body
	Parameter string `json:"parameter,omitempty"` // query parameter or header, when not in the body
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageIT string `json:"message_it"`
}

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

// invalid is a 422 with field-level problems.
func invalid(fields ...FieldError) *httpError {
	msg := "the request has a problem"
	if len(fields) > 1 {
		msg = fmt.Sprintf("the request has %d problems", len(fields))
	}
	if len(fields) == 1 {
		msg = fields[0].Message
	}
	return &httpError{status: http.StatusUnprocessableEntity, code: "validation", message: msg, fields: fields}
}

func field(pointer, code, en, it string) FieldError {
	return FieldError{Pointer: pointer, Code: code, Message: en, MessageIT: it}
}

func param(name, code, en, it string) FieldError {
	return FieldError{Parameter: name, Code: code, Message: en, MessageIT: it}
}

var (
	errUnauthenticated = newError(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
	errForbiddenRole   = newError(http.StatusForbidden, "forbidden", "your role may not use this resource")
)

func notFound(what string) *httpError {
	return newError(http.StatusNotFound, "not_found", what+" not found")
}

// temporalErrorStatus maps the application error types of the case workflow.
var temporalErrorStatus = map[string]int{
	workflows.ErrTypeTaskNotOpen:        http.StatusConflict,
	workflows.ErrTypeNotClaimed:         http.StatusConflict,
	workflows.ErrTypeAlreadyClaimed:     http.StatusConflict,
	workflows.ErrTypeInsufficientBudget: http.StatusConflict,
	workflows.ErrTypeNotAwaitingInfo:    http.StatusConflict,
	workflows.ErrTypeInvalidDecision:    http.StatusUnprocessableEntity,
	workflows.ErrTypeForbidden:          http.StatusForbidden,
	contract.ErrTypeOutOfOffice:         http.StatusConflict,
}

// temporalErrorCode is the API code of each workflow error type.
var temporalErrorCode = map[string]string{
	workflows.ErrTypeTaskNotOpen:        "task_not_open",
	workflows.ErrTypeNotClaimed:         "task_not_claimed",
	workflows.ErrTypeAlreadyClaimed:     "task_already_claimed",
	workflows.ErrTypeInsufficientBudget: "insufficient_budget",
	workflows.ErrTypeNotAwaitingInfo:    "not_awaiting_info",
	workflows.ErrTypeInvalidDecision:    "invalid_decision",
	workflows.ErrTypeForbidden:          "forbidden",
	contract.ErrTypeOutOfOffice:         store.CodeOutOfOffice,
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
	if errors.Is(err, store.ErrNotFound) {
		return &httpError{status: http.StatusNotFound, code: "not_found", message: "not found", cause: err}
	}
	var problem *store.FieldProblem
	if errors.As(err, &problem) {
		return invalid(field(problem.Pointer, problem.Code, problem.Message, problem.MessageIT))
	}
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return &httpError{status: http.StatusConflict, code: conflict.Code, message: conflict.Message, cause: err}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if status, ok := temporalErrorStatus[appErr.Type()]; ok {
			he := &httpError{status: status, code: temporalErrorCode[appErr.Type()], message: appErr.Message(), cause: err}
			if appErr.Type() == workflows.ErrTypeInvalidDecision {
				he.fields = []FieldError{decisionField(appErr)}
			}
			return he
		}
	}
	if errors.Is(err, auth.ErrBusy) {
		return errBusy(err)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// An update to a workflow that has finished (or never started).
		return &httpError{status: http.StatusConflict, code: "case_not_active",
			message: "the case is not being processed any more", cause: err}
	}
	var (
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
	)
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.Is(err, context.DeadlineExceeded) {
		return &httpError{status: http.StatusServiceUnavailable, code: "unavailable",
			message: "a backend service did not answer in time; try again", cause: err}
	}
	return &httpError{status: http.StatusInternalServerError, code: "internal",
		message: "internal error; the request id identifies it in the logs", cause: err}
}

// decisionField reads the field problem a workflow validator attached to
// its refusal (workflows.FieldProblem).
func decisionField(appErr *temporal.ApplicationError) FieldError {
	var p workflows.FieldProblem
	if appErr.HasDetails() && appErr.Details(&p) == nil && p.Message != "" {
		return FieldError{Pointer: p.Pointer, Code: "invalid_decision", Message: p.Message, MessageIT: p.MessageIT}
	}
	return FieldError{Code: "invalid_decision", Message: appErr.Message(), MessageIT: appErr.Message()}
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

// errThrottled is the answer to an attempt made while its account or
// client address is blocked after too many failures.
func errThrottled(wait time.Duration) *httpError {
	return &httpError{status: http.StatusTooManyRequests, code: "too_many_attempts",
		message: "too many failed attempts: try again in " + retryAfterSeconds(wait) + " seconds", retryAfter: wait}
}
