package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/accounts"
	"sportello/internal/store"
)

// The door (issue 10): the use cases are the accounts service's
// (internal/app/accounts: throttled logins and activations, sessions, the
// staff idle timeout); these are its JSON adapters, web/auth.go its pages.

// LoginResponse is the body of a successful login.
type LoginResponse struct {
	Token     string         `json:"token"`
	TokenType string         `json:"token_type"`
	ExpiresAt time.Time      `json:"expires_at"`
	User      store.UserView `json:"user"`
}

func (s *server) login(c *gin.Context) error {
	var req accounts.Credentials
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	u, err := s.accounts.Login(ctx, req, c.ClientIP())
	if err != nil {
		return err
	}
	token, expires, err := s.accounts.Start(ctx, u)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "login", "request_id", httpx.RequestID(c), "user_id", u.ID, "role", u.Role)
	c.JSON(http.StatusOK, LoginResponse{Token: token, TokenType: "Bearer", ExpiresAt: expires, User: u})
	return nil
}

func (s *server) logout(c *gin.Context) error {
	if err := s.accounts.End(c.Request.Context(), httpx.SessionHash(c)); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// MeResponse is the body of GET /api/v1/me: the user and how this session
// was opened (issue 16), as the portal's personal area shows it.
type MeResponse struct {
	store.UserView
	SignInMethod string `json:"sign_in_method"` // store.SessionPassword or store.SessionOIDC
	LoA          string `json:"loa,omitempty"`  // the level of assurance of an OIDC sign-in
}

func (s *server) me(c *gin.Context) error {
	by, err := s.accounts.SignInOf(c.Request.Context(), httpx.SessionHash(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, MeResponse{UserView: httpx.CurrentUser(c), SignInMethod: by.Method, LoA: by.LoA})
	return nil
}
