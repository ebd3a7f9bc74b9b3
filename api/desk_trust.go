package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

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

// AccountMailer sends the account notices the API owns; *notify.Mailer is one.
type AccountMailer interface {
	Send(ctx context.Context, msg notify.Message) error
}

var errMailUnavailable = newError(http.StatusServiceUnavailable, "mail_unavailable",
	"the e-mail with the citizen's code cannot be sent now, so nothing was changed; try again later")

// portalOrigin is the portal's origin for links: the configured public URL,
// or the request's.
func (s *server) portalOrigin(c *gin.Context) string {
	if s.PortalURL != "" {
		return strings.TrimRight(s.PortalURL, "/")
	}
	scheme := "https"
	if c.Request.TLS == nil && strings.HasPrefix(c.Request.Host, "127.0.0.1") {
		scheme = "http"
	}
	return scheme + "://" + c.Request.Host
}

// sendRecoveryCode e-mails a recovery code to its citizen. Any failure is an
// error: the recovery is then not recorded and no code is live.
func (s *server) sendRecoveryCode(ctx context.Context, rc store.RecoveryCode, origin string) error {
	if s.AccountMailer == nil || rc.Citizen.Email == "" {
		return errMailUnavailable
	}
	msg, err := notify.Render(notify.KindAccountRecovery, "it", map[string]any{
		"name": rc.Citizen.DisplayName, "portal_url": origin, "path": "/attiva", "activate_url": origin + "/attiva",
		"username": rc.Citizen.Username, "code": rc.Code.Code, "expires_at": rc.Code.ExpiresAt, "requested_at": s.Now()})
	if err != nil {
		return err
	}
	msg.To, msg.ToName, msg.Key = rc.Citizen.Email, rc.Citizen.DisplayName, "recovery:"+rc.Citizen.PublicID+":"+rc.Code.ExpiresAt.Format("20060102T150405.000")
	if err := s.AccountMailer.Send(ctx, msg); err != nil {
		s.log.WarnContext(ctx, "recovery e-mail not sent", "citizen", rc.Citizen.PublicID, "err", err)
		return errMailUnavailable
	}
	return nil
}

// tellPasswordChanged e-mails the citizen that their password was chosen
// (activation or recovery). The change is made already: a failure is logged.
func (s *server) tellPasswordChanged(ctx context.Context, u store.UserView) {
	if u.Email == "" || s.AccountMailer == nil {
		return
	}
	origin := strings.TrimRight(s.PortalURL, "/")
	if origin == "" {
		origin = "/"
	}
	now := s.Now()
	msg, err := notify.Render(notify.KindPasswordChanged, "it", map[string]any{"name": u.DisplayName,
		"portal_url": origin, "path": "/login", "username": u.Username, "changed_at": now})
	if err == nil {
		msg.To, msg.ToName, msg.Key = u.Email, u.DisplayName, "password:"+u.Username+":"+now.Format("20060102T150405.000")
		err = s.AccountMailer.Send(ctx, msg)
	}
	if err != nil {
		s.log.WarnContext(ctx, "password-changed e-mail not sent", "user", u.Username, "err", err)
	}
}

// deskSharing is the body and answer of /api/v1/district/desk-sharing.
type deskSharing struct {
	Shared *bool `json:"shared"`
}

// setDeskSharing turns the sharing of user's district desk on or off,
// audited with the previous and the new value.
func (s *server) setDeskSharing(ctx context.Context, user store.UserView, shared bool) error {
	e := store.AuditEntry{Action: auditDeskSharing, Detail: auditDetail(map[string]any{"shared": shared})}
	return s.audited(ctx, user, e, func() error {
		_, err := s.api.SetDeskShared(ctx, user.Scope(), shared)
		return err
	})
}

// decideRecovery approves or refuses a recovery of user's district, audited
// with acting_for; an approval returns the code, shown once.
func (s *server) decideRecovery(ctx context.Context, user store.UserView, id string, approve bool) (store.Recovery, *store.RecoveryCode, error) {
	r, err := s.api.Recovery(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, notFound("recovery")
	}
	if err != nil {
		return r, nil, err
	}
	e := store.AuditEntry{Action: auditDecideRecovery, Municipality: r.Municipality, ActingFor: r.TaxCode,
		Detail: auditDetail(map[string]any{"recovery_id": r.ID, "citizen_id": r.CitizenID, "approve": approve})}
	var code *store.RecoveryCode
	err = s.audited(ctx, user, e, func() error {
		var err error
		r, code, err = s.api.DecideRecovery(ctx, user.Scope(), id, approve, s.Now())
		return err
	})
	return r, code, err
}

// ---- JSON handlers ----

func (s *server) getDeskSharing(c *gin.Context) error {
	shared, err := s.api.DeskShared(c.Request.Context(), currentUser(c).Scope())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, deskSharing{Shared: &shared})
	return nil
}

func (s *server) putDeskSharing(c *gin.Context) error {
	var req deskSharing
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Shared == nil {
		return invalid(field("/shared", "required", "shared (true or false) is required", "shared (true o false) è obbligatorio"))
	}
	if err := s.setDeskSharing(c.Request.Context(), currentUser(c), *req.Shared); err != nil {
		return err
	}
	c.JSON(http.StatusOK, req)
	return nil
}

var recoveryStatuses = []string{"", store.RecoverySent, store.RecoveryAwaitingApproval, store.RecoveryApproved, store.RecoveryRefused}

func (s *server) listRecoveries(c *gin.Context) error {
	status := c.Query("status")
	if !slices.Contains(recoveryStatuses, status) {
		return invalid(param("status", "invalid", "status must be one of sent, awaiting_approval, approved, refused",
			"status deve essere uno tra sent, awaiting_approval, approved, refused"))
	}
	list, err := s.api.Recoveries(c.Request.Context(), currentUser(c).Scope(), status, 200)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.Recovery]{Items: list, Total: len(list), Limit: 200})
	return nil
}

// recoveryDecision is the body of POST /api/v1/recoveries/{id}/decision.
type recoveryDecision struct {
	Approve *bool `json:"approve"`
}

// decidedRecovery answers a decision: the recovery, and on approval the
// code to hand over (shown once).
type decidedRecovery struct {
	Recovery   store.Recovery    `json:"recovery"`
	Activation *store.IssuedCode `json:"activation,omitempty"`
	Username   string            `json:"username,omitempty"`
}

func (s *server) postRecoveryDecision(c *gin.Context) error {
	var req recoveryDecision
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Approve == nil {
		return invalid(field("/approve", "required", "approve (true or false) is required", "approve (true o false) è obbligatorio"))
	}
	r, code, err := s.decideRecovery(c.Request.Context(), currentUser(c), c.Param("id"), *req.Approve)
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

// ---- pages ----

type recoveriesData struct {
	Waiting []recoveryView
	Shared  bool
}

type recoveryView struct {
	store.Recovery
	When string
}

func (s *server) recoveriesPage(c *gin.Context) error {
	ctx, user := c.Request.Context(), currentUser(c)
	list, err := s.api.Recoveries(ctx, user.Scope(), store.RecoveryAwaitingApproval, 200)
	if err != nil {
		return err
	}
	shared, err := s.api.DeskShared(ctx, user.Scope())
	if err != nil {
		return err
	}
	d := recoveriesData{Shared: shared}
	for _, r := range list {
		d.Waiting = append(d.Waiting, recoveryView{Recovery: r, When: romeDateTime(r.RequestedAt)})
	}
	s.render(c, http.StatusOK, "desk_recoveries", view{Title: s.t(c, "rec.title"), Nav: "recoveries", Data: d})
	return nil
}

func (s *server) recoveryDecisionSubmit(c *gin.Context) error {
	approve := c.PostForm("decision") == "approve"
	_, code, err := s.decideRecovery(c.Request.Context(), currentUser(c), c.Param("id"), approve)
	if err != nil {
		return err
	}
	if code == nil {
		redirect(c, "/desk/recoveries")
		return nil
	}
	s.renderSheet(c, code.Citizen, code.Code)
	return nil
}

func (s *server) deskSharingSubmit(c *gin.Context) error {
	if err := s.setDeskSharing(c.Request.Context(), currentUser(c), c.PostForm("shared") == "true"); err != nil {
		return err
	}
	redirect(c, "/desk/recoveries")
	return nil
}
