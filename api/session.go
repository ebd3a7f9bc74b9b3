package api

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/auth"
	"sportello/internal/store"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is the body of a successful login.
type LoginResponse struct {
	Token     string         `json:"token"`
	TokenType string         `json:"token_type"`
	ExpiresAt time.Time      `json:"expires_at"`
	User      store.UserView `json:"user"`
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// dummyPasswordHash is checked against when the username is unknown, so that
// a login takes as long for an unknown user as for a wrong password.
func dummyPasswordHash() string {
	dummyOnce.Do(func() {
		h, err := auth.HashPassword("sportello-dummy-password")
		if err == nil {
			dummyHash = h
		}
	})
	return dummyHash
}

func (s *server) login(c *gin.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Username = strings.TrimSpace(req.Username)
	var fields []FieldError
	if req.Username == "" {
		fields = append(fields, field("/username", "required", "the username is required", "il nome utente è obbligatorio"))
	} else if len(req.Username) > 200 {
		fields = append(fields, field("/username", "too_long", "the username is too long", "il nome utente è troppo lungo"))
	}
	if req.Password == "" {
		fields = append(fields, field("/password", "required", "the password is required", "la password è obbligatoria"))
	} else if len(req.Password) > 1024 {
		fields = append(fields, field("/password", "too_long", "the password is too long", "la password è troppo lunga"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	ctx := c.Request.Context()
	u, hash, err := s.api.UserForLogin(ctx, req.Username)
	if err != nil && toHTTP(err).status != http.StatusNotFound {
		return err
	}
	if err != nil {
		auth.CheckPassword(dummyPasswordHash(), req.Password)
		return errBadCredentials
	}
	if !auth.CheckPassword(hash, req.Password) {
		return errBadCredentials
	}
	token, tokenHash, err := auth.NewToken()
	if err != nil {
		return err
	}
	expires, err := s.api.CreateSession(ctx, u.ID, tokenHash, s.SessionTTL)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "login", "request_id", requestID(c), "user_id", u.ID, "role", u.Role)
	c.JSON(http.StatusOK, LoginResponse{Token: token, TokenType: "Bearer", ExpiresAt: expires, User: u})
	return nil
}

var errBadCredentials = newError(http.StatusUnauthorized, "invalid_credentials", "wrong username or password")

func (s *server) logout(c *gin.Context) error {
	hash, _ := c.Get(ctxToken)
	b, _ := hash.([]byte)
	if err := s.api.DeleteSession(c.Request.Context(), b); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (s *server) me(c *gin.Context) error {
	c.JSON(http.StatusOK, currentUser(c))
	return nil
}
