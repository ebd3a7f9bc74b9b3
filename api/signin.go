package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/internal/app/accounts"
)

// Password reset by e-mail (issue 16): the JSON doors of the use cases of
// internal/app/accounts (reset.go); the portal's pages are api/web/signin.go.

// requestPasswordReset sends a reset link to the account's e-mail, if
// there is such an account: 202 alike whether or not it exists.
func (s *server) requestPasswordReset(c *gin.Context) error {
	var req accounts.ResetRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.accounts.RequestReset(c.Request.Context(), req, c.ClientIP()); err != nil {
		return err
	}
	c.Status(http.StatusAccepted)
	return nil
}

// resetPassword chooses a new password with the token of a reset link.
func (s *server) resetPassword(c *gin.Context) error {
	var req accounts.NewPassword
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.accounts.ResetPassword(c.Request.Context(), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}
