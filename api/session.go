package api

import (
	"context"
	"errors"
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
	u, err := s.passwordLogin(ctx, req.Username, req.Password, c.ClientIP())
	if err != nil {
		return err
	}
	token, expires, err := s.newSession(ctx, u)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "login", "request_id", requestID(c), "user_id", u.ID, "role", u.Role)
	c.JSON(http.StatusOK, LoginResponse{Token: token, TokenType: "Bearer", ExpiresAt: expires, User: u})
	return nil
}

// checkCredentials reports whether password is username's, the hash run
// within s.hashing. An unknown user, or one who cannot log in (waiting for
// activation: no usable hash), costs the same hash computation as a known
// one and gets the same answer, so neither the answer nor its timing tells
// which accounts exist.
func (s *server) checkCredentials(ctx context.Context, username, password string) (store.UserView, bool, error) {
	u, hash, err := s.api.UserForLogin(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && hash == "":
		_, err := s.hashing.CheckPassword(ctx, dummyPasswordHash(), password)
		return store.UserView{}, false, err
	case err != nil:
		return store.UserView{}, false, err
	}
	ok, err := s.hashing.CheckPassword(ctx, hash, password)
	if err != nil || !ok {
		return store.UserView{}, false, err
	}
	return u, true, nil
}

// newSession stores a fresh session for u and returns its bearer token.
func (s *server) newSession(ctx context.Context, u store.UserView) (token string, expires time.Time, err error) {
	token, tokenHash, err := auth.NewToken()
	if err != nil {
		return "", time.Time{}, err
	}
	if expires, err = s.api.CreateSession(ctx, u.ID, tokenHash, s.SessionTTL); err != nil {
		return "", time.Time{}, err
	}
	// The idle timeout counts from now on the API's clock.
	return token, expires, s.api.TouchSession(ctx, tokenHash, s.Now())
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
