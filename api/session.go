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

func (s *server) me(c *gin.Context) error {
	c.JSON(http.StatusOK, httpx.CurrentUser(c))
	return nil
}
