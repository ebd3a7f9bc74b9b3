package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/auth"
	"sportello/internal/store"
)

const (
	ctxRequestID = "sportello.request_id"
	ctxUser      = "sportello.user"
	ctxToken     = "sportello.token_hash"
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
	c.Set(ctxRequestID, id)
	c.Request = c.Request.WithContext(withRequestID(c.Request.Context(), id))
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// accessLog writes one structured line per request.
func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []any{
		"request_id", requestID(c),
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"route", c.FullPath(),
		"status", c.Writer.Status(),
		"bytes", c.Writer.Size(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"remote", c.ClientIP(),
	}
	if u, ok := c.Get(ctxUser); ok {
		attrs = append(attrs, "user_id", u.(store.UserView).ID)
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
			if isPagePath(c.Request.URL.Path) {
				s.pageFail(c, fmt.Errorf("panic: %v", rec))
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
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	}
	c.Next()
}

// authenticate resolves the bearer token to a user, or answers 401.
func (s *server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 256 {
		s.fail(c, errUnauthenticated)
		return
	}
	hash := auth.TokenHash(token)
	u, times, err := s.api.SessionUser(c.Request.Context(), hash)
	if err == nil {
		var ended bool
		if ended, err = s.sessionIdle(c, u, hash, times); err == nil && ended {
			s.fail(c, errSessionIdle)
			return
		}
	}
	if err != nil {
		if he := toHTTP(err); he.status == http.StatusNotFound {
			s.fail(c, newError(http.StatusUnauthorized, "unauthenticated", "the session is unknown or has expired; log in again"))
			return
		}
		s.fail(c, err)
		return
	}
	c.Set(ctxUser, u)
	c.Set(ctxToken, hash)
	c.Next()
}

// roles lets only the listed roles through (403 otherwise).
func (s *server) roles(allowed ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(allowed, currentUser(c).Role) {
			s.fail(c, errForbiddenRole)
			return
		}
		c.Next()
	}
}

// currentUser is the authenticated user (zero outside authenticated routes).
func currentUser(c *gin.Context) store.UserView {
	u, _ := c.Get(ctxUser)
	v, _ := u.(store.UserView)
	return v
}
