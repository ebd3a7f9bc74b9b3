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

// deskTrustMsgs are the page texts of desk_trust.go.
var deskTrustMsgs = map[string]msg{
	"nav.recoveries":           {"Recuperi account", "Account recoveries"},
	"rec.title":                {"Recuperi di account e sportello condiviso", "Account recoveries and shared desk"},
	"rec.intro":                {"Un nuovo codice per un account già attivo è un recupero: il codice va all'e-mail del cittadino; per chi non ha e-mail serve la tua approvazione. Il codice approvato è mostrato una sola volta, da stampare e consegnare al cittadino.", "A new code for an account that is already active is a recovery: the code goes to the citizen's e-mail; a citizen without e-mail needs your approval. An approved code is shown only once, to print and hand to the citizen."},
	"rec.waiting":              {"In attesa di approvazione", "Waiting for approval"},
	"rec.none":                 {"Nessun recupero in attesa.", "No recovery waiting."},
	"rec.col.citizen":          {"Cittadino", "Citizen"},
	"rec.col.municipality":     {"Comune", "Municipality"},
	"rec.col.requested":        {"Chiesto da", "Requested by"},
	"rec.col.when":             {"Quando", "When"},
	"rec.approve":              {"Approva e mostra il codice", "Approve and show the code"},
	"rec.refuse":               {"Rifiuta", "Refuse"},
	"rec.sharing_title":        {"Sportello condiviso dell'ambito", "The district's shared desk"},
	"rec.sharing_on":           {"Lo sportello è condiviso: gli operatori di ogni comune possono agire per i cittadini di tutto l'ambito (ogni azione fuori dal proprio comune è registrata nel registro delle attività).", "The desk is shared: operators of every municipality may act for citizens of the whole district (every action outside their own municipality is recorded in the audit trail)."},
	"rec.sharing_off":          {"Lo sportello non è condiviso: ogni operatore agisce solo per i cittadini del proprio comune.", "The desk is not shared: each operator acts only for citizens of their own municipality."},
	"rec.share":                {"Condividi lo sportello", "Share the desk"},
	"rec.unshare":              {"Smetti di condividere lo sportello", "Stop sharing the desk"},
	"desk.recovery_sent":       {"L'account è già attivo: il nuovo codice è stato inviato all'e-mail del cittadino, che lo userà per scegliere una nuova password. Finché non lo usa, la password attuale resta valida.", "The account is already active: the new code was sent to the citizen's e-mail, who will use it to choose a new password. Until then the current password keeps working."},
	"desk.recovery_waiting":    {"L'account è già attivo e il cittadino non ha un'e-mail: la richiesta attende l'approvazione di un supervisore dell'ambito, che consegnerà il codice.", "The account is already active and the citizen has no e-mail: the request waits for the approval of a supervisor of the district, who will hand over the code."},
	"desk.recovery_title":      {"Recupero dell'account richiesto", "Account recovery requested"},
	"desk.recovery_for_active": {"Per un account già attivo il nuovo codice non è mostrato qui: va all'e-mail del cittadino o, senza e-mail, all'approvazione di un supervisore.", "For an account that is already active the new code is not shown here: it goes to the citizen's e-mail or, without e-mail, to a supervisor's approval."},
}

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
