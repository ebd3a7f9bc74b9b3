package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/i18n"
)

// FieldError is one problem with one field of a request (app.FieldError).
type FieldError = httpx.FieldError

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error.
type ErrorDetail struct {
	Code      string      `json:"code"`
	Message   string      `json:"message"`
	Fields    []FieldBody `json:"fields,omitempty"`
	CaseID    string      `json:"case_id,omitempty"`
	RequestID string      `json:"request_id,omitempty"`
}

// FieldBody is a field problem as the JSON API writes it: what is wrong in
// English and in Italian (fieldBodies).
type FieldBody struct {
	Pointer   string `json:"pointer"`             // JSON pointer into the request body
	Parameter string `json:"parameter,omitempty"` // query parameter or header, when not in the body
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageIT string `json:"message_it"`
}

// fieldBodies writes field problems for the JSON API: the one place where
// their messages (ids of internal/i18n) become the English and Italian
// texts of a response.
func fieldBodies(fields []FieldError) []FieldBody {
	if len(fields) == 0 {
		return nil
	}
	out := make([]FieldBody, len(fields))
	for i, f := range fields {
		out[i] = FieldBody{Pointer: f.Pointer, Parameter: f.Parameter, Code: f.Code,
			Message: f.In(i18n.EN), MessageIT: f.In(i18n.IT)}
	}
	return out
}

// invalid is a 422 with field-level problems (app.InvalidInput).
func invalid(fields ...FieldError) *httpx.Error { return httpx.Invalid(fields...) }

// fail writes err as a JSON error response.
func (s *server) fail(c *gin.Context, err error) {
	he := httpx.From(err)
	if he.Status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", httpx.RequestID(c),
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", he.Status, "err", err)
	} else if he.Cause != nil {
		s.log.DebugContext(c.Request.Context(), "request refused", "request_id", httpx.RequestID(c),
			"status", he.Status, "code", he.Code, "err", he.Cause)
	}
	if he.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="sportello"`)
	}
	if he.RetryAfter > 0 {
		c.Header("Retry-After", httpx.RetryAfterSeconds(he.RetryAfter))
	}
	c.AbortWithStatusJSON(he.Status, ErrorBody{Error: ErrorDetail{
		Code: he.Code, Message: he.Message, Fields: fieldBodies(he.Fields), CaseID: he.CaseID, RequestID: httpx.RequestID(c),
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
