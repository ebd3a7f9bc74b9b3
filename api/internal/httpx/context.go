package httpx

import (
	"net"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// Keys of the gin context.
const (
	ctxRequestID = "sportello.request_id"
	ctxUser      = "sportello.user"
	ctxToken     = "sportello.token_hash"
)

// SetRequestID records the request's id.
func SetRequestID(c *gin.Context, id string) { c.Set(ctxRequestID, id) }

// RequestID is the request's id (the middleware sets it first).
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// SetSession records the logged-in user and the hash of the session's token.
func SetSession(c *gin.Context, u store.UserView, tokenHash []byte) {
	c.Set(ctxUser, u)
	c.Set(ctxToken, tokenHash)
}

// CurrentUser is the logged-in user (zero when anonymous).
func CurrentUser(c *gin.Context) store.UserView {
	u, _ := c.Get(ctxUser)
	v, _ := u.(store.UserView)
	return v
}

// LoggedIn reports whether the request carries a live session.
func LoggedIn(c *gin.Context) bool {
	_, ok := c.Get(ctxUser)
	return ok
}

// SessionHash is the hash of the session's token (nil when anonymous).
func SessionHash(c *gin.Context) []byte {
	h, _ := c.Get(ctxToken)
	b, _ := h.([]byte)
	return b
}

// IsPagePath tells HTML pages from the JSON API and health endpoints.
func IsPagePath(p string) bool {
	return !strings.HasPrefix(p, "/api/") && p != "/healthz" && p != "/readyz"
}

// PortalOrigin is the portal's origin for links: the configured public URL,
// or the request's.
func PortalOrigin(c *gin.Context, portalURL string) string {
	if portalURL != "" {
		return strings.TrimRight(portalURL, "/")
	}
	scheme := "https"
	if c.Request.TLS == nil && strings.HasPrefix(c.Request.Host, "127.0.0.1") {
		scheme = "http"
	}
	return scheme + "://" + c.Request.Host
}

// Host is the request's host name, without its port.
func Host(c *gin.Context) string {
	host := c.Request.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return host
}
