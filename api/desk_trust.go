package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/desk"
	"sportello/internal/notify"
	"sportello/internal/store"
)

// Trust at the desk (issue 10): the district's shared desk, recoveries of
// active accounts and the notices the citizen gets about their account.
//
//	GET  /api/v1/district/desk-sharing          supervisor: is the desk shared?
//	PUT  /api/v1/district/desk-sharing          supervisor: share it or not (audited)
//	GET  /api/v1/recoveries                     supervisor: recoveries of the district
//	POST /api/v1/recoveries/{id}/decision       supervisor: approve (code shown once) or refuse
//	/desk/recoveries                            the supervisor's page for both
//
// The use cases are the desk service's (internal/app/desk); these are its
// adapters.

// AccountMailer sends the account notices the API owns; *notify.Mailer is one.
type AccountMailer interface {
	Send(ctx context.Context, msg notify.Message) error
}

// ---- JSON handlers ----

func (s *server) getDeskSharing(c *gin.Context) error {
	shared, err := s.desk.DeskShared(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, desk.Sharing{Shared: &shared})
	return nil
}

func (s *server) putDeskSharing(c *gin.Context) error {
	var req desk.Sharing
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.desk.SetSharing(c.Request.Context(), httpx.CurrentUser(c), req); err != nil {
		return err
	}
	c.JSON(http.StatusOK, req)
	return nil
}

func (s *server) listRecoveries(c *gin.Context) error {
	list, err := s.desk.Recoveries(c.Request.Context(), httpx.CurrentUser(c), c.Query("status"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.Recovery]{Items: list, Total: len(list), Limit: desk.RecoveryLimit})
	return nil
}

// decidedRecovery answers a decision: the recovery, and on approval the
// code to hand over (shown once).
type decidedRecovery struct {
	Recovery   store.Recovery    `json:"recovery"`
	Activation *store.IssuedCode `json:"activation,omitempty"`
	Username   string            `json:"username,omitempty"`
}

func (s *server) postRecoveryDecision(c *gin.Context) error {
	var req desk.RecoveryDecision
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, code, err := s.desk.DecideRecovery(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	out := decidedRecovery{Recovery: r}
	if code != nil {
		out.Activation, out.Username = &code.Code, code.Citizen.Username
	}
	c.JSON(http.StatusOK, out)
	return nil
}
