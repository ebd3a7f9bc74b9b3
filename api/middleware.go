package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/api/web"
	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/observe"
	"sportello/internal/textcheck"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID takes the caller's X-Request-ID when it is sane, or mints one,
// and echoes it on the response.
func (s *server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	httpx.SetRequestID(c, id)
	c.Request = c.Request.WithContext(app.WithRequestID(c.Request.Context(), id))
	c.Header("X-Request-ID", id)
	c.Next()
}

// accessLog writes one structured line per request.
func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []any{
		"request_id", httpx.RequestID(c),
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"route", c.FullPath(),
		"status", c.Writer.Status(),
		"bytes", c.Writer.Size(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"remote", c.ClientIP(),
	}
	if httpx.LoggedIn(c) {
		attrs = append(attrs, "user_id", httpx.CurrentUser(c).ID)
	}
	s.log.InfoContext(c.Request.Context(), "http request", attrs...)
}

// recoverPanic turns a panic into a logged 500 with the standard error body.
func (s *server) recoverPanic(c *gin.Context) {
	defer func() {
		if rec := recover(); rec != nil {
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			if httpx.IsPagePath(c.Request.URL.Path) {
				s.site.Fail(c, fmt.Errorf("panic: %v", rec))
				return
			}
			s.fail(c, fmt.Errorf("panic: %v", rec))
		}
	}()
	c.Next()
}

// hstsValue keeps browsers on https for a year once they have seen it.
const hstsValue = "max-age=31536000; includeSubDomains"

// securityHeaders sets the headers every response carries; over TLS (the
// request's own, or the configured https public address behind a proxy
// that ends TLS) Strict-Transport-Security too.
func (s *server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	if s.hsts || c.Request.TLS != nil {
		h.Set("Strict-Transport-Security", hstsValue)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	c.Next()
}

// limitBody caps what a handler can read from the request body.
func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, httpx.BodyLimit(c.Request.URL.Path))
	}
	c.Next()
}

// authenticate resolves the bearer token to a user, or answers 401.
func (s *server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 256 {
		s.fail(c, httpx.ErrUnauthenticated)
		return
	}
	sess, err := s.accounts.Resolve(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	httpx.SetSession(c, sess.User, sess.Hash)
	c.Next()
}

// roles lets only the listed roles through (403 otherwise).
func (s *server) roles(allowed ...contract.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(allowed, contract.Role(httpx.CurrentUser(c).Role)) {
			s.fail(c, httpx.ErrForbiddenRole)
			return
		}
		c.Next()
	}
}

// inputHygiene refuses, before any handler runs, a path or query string that
// is not clean text (textcheck): NUL, other control characters (tab and line
// breaks too), bidirectional controls, invalid UTF-8. A bad path segment is
// a 404 (no such resource can exist); a bad or malformed query is a 422
// naming the parameter. JSON bodies are checked by the one JSON decoder
// (checkJSONText) and web form posts by formHygiene.
func (s *server) inputHygiene(c *gin.Context) {
	if textcheck.Check(c.Request.URL.Path, false) != "" {
		if httpx.IsPagePath(c.Request.URL.Path) {
			web.SetHeaders(c.Writer.Header())
			s.site.Error(c, http.StatusNotFound)
			return
		}
		s.fail(c, httpx.NotFound("resource"))
		return
	}
	if fields := queryProblems(c.Request.URL.RawQuery); len(fields) > 0 {
		if httpx.IsPagePath(c.Request.URL.Path) {
			web.SetHeaders(c.Writer.Header())
			s.site.Invalid(c, fields)
			return
		}
		s.fail(c, invalid(fields...))
		return
	}
	c.Next()
}

// queryProblems checks every name and value of a raw query string.
func queryProblems(raw string) []FieldError {
	if raw == "" {
		return nil
	}
	var fields []FieldError
	for raw != "" && len(fields) < maxJSONProblems {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(k)
		val, verr := url.QueryUnescape(v)
		name := key
		if kerr != nil || textcheck.Check(key, false) != "" {
			name = "?"
		}
		switch {
		case kerr != nil || verr != nil || strings.Contains(pair, ";"):
			fields = append(fields, app.Param(name, "malformed", "api.err.query_malformed", "%"))
		case textcheck.Check(key, false) != "":
			code := textcheck.Check(key, false)
			fields = append(fields, app.Param(name, code, "api.err.parameter_name", textcheck.Text(code)))
		case textcheck.Check(val, false) != "":
			code := textcheck.Check(val, false)
			fields = append(fields, FieldError{Parameter: name, Code: code, Text: textcheck.Text(code)})
		}
	}
	return fields
}

// observeRequest times every request and counts it by method, route (gin's
// pattern, never the raw path) and status on /metrics
// (sportello_http_request_duration_seconds). It comes first in the chain,
// so that it also times the other middleware.
func observeRequest(c *gin.Context) {
	start := time.Now()
	c.Next()
	observe.Request(c.Request.Context(), c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
}
