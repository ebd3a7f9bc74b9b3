package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/app"
	"sportello/internal/app/applications"
	"sportello/internal/app/desk"
	"sportello/internal/auth"
	"sportello/internal/store"
)

// The Social Point's desk (issue 4): an operator registers a citizen who
// cannot do it alone and hands over a one-time activation code, files
// applications on the citizen's behalf, and reaches citizens without e-mail
// through contact tasks. The use cases are the desk service's
// (internal/app/desk); these are its JSON adapters, web_desk.go its pages.

// Audit actions of a filing on behalf (the applications record them).
const (
	auditFileOnBehalf  = applications.AuditFileOnBehalf
	auditFiledOnBehalf = applications.AuditFiledOnBehalf
)

// onBehalfAudit is the audit row of something user does for citizen d
// (app.OnBehalfAudit).
func onBehalfAudit(action string, user store.UserView, d *store.DeskCitizen, caseID string, detail map[string]any) store.AuditEntry {
	return app.OnBehalfAudit(action, user, d, caseID, detail)
}

// deskCitizen reads, by their public id, a citizen user serves at the desk,
// audited (desk.Service.Citizen).
func (s *server) deskCitizen(ctx context.Context, user store.UserView, rawID string) (store.DeskCitizen, error) {
	return s.desk.Citizen(ctx, user, rawID)
}

// activationRequest is the body of POST /api/v1/activation and the /attiva page.
type activationRequest struct {
	Username string `json:"username"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

// activate checks an activation request from addr and activates the
// account. Problems are a 422 with pointers /username, /code, /password.
// A code that does not work gets one answer whatever the reason (unknown
// username, wrong, used or expired code), so the answer tells nobody which
// usernames wait for activation; wrong attempts are throttled per username
// and per client address (429 with Retry-After) instead of locking the
// code, so a stranger cannot lock the citizen out.
func (s *server) activate(ctx context.Context, req activationRequest, addr string) (store.UserView, error) {
	req.Username = strings.ToLower(strings.TrimSpace(req.Username))
	var fields []FieldError
	if req.Username == "" || len(req.Username) > 200 {
		fields = append(fields, field("/username", "required", "the username is required", "il nome utente è obbligatorio"))
	}
	if strings.TrimSpace(req.Code) == "" || len(req.Code) > 64 {
		fields = append(fields, field("/code", "required", "the activation code is required", "il codice di attivazione è obbligatorio"))
	}
	if code, en, it, ok := auth.PasswordProblem(req.Password, req.Username); !ok {
		fields = append(fields, field("/password", code, en, it))
	}
	if len(fields) > 0 {
		return store.UserView{}, invalid(fields...)
	}
	account, address := throttleKeys(store.ThrottleActivationAccount, store.ThrottleActivationAddress, req.Username, addr)
	if err := s.throttled(ctx, auditActivationThrottled, req.Username, addr, account, address); err != nil {
		return store.UserView{}, err
	}
	hash, err := s.hashing.HashPassword(ctx, req.Password)
	if err != nil {
		// Not an attempt at all (busy, gone): its charge is taken back.
		if rerr := s.api.ThrottleSucceeded(context.WithoutCancel(ctx), nil, []store.ThrottleKey{account, address}); rerr != nil {
			s.log.WarnContext(ctx, "throttle refund", "err", rerr)
		}
		return store.UserView{}, err
	}
	u, err := s.api.Activate(ctx, req.Username, req.Code, hash, s.Now())
	if err == nil {
		s.tellPasswordChanged(ctx, u)
	}
	if errors.Is(err, store.ErrActivationInvalid) || errors.Is(err, store.ErrActivationUsed) ||
		errors.Is(err, store.ErrActivationExpired) {
		return u, invalid(field("/code", "invalid_code",
			"wrong username or activation code, or the code is no longer valid: check them, or ask your Social Point for a new code",
			"nome utente o codice di attivazione errati, oppure il codice non è più valido: controllali, o chiedi un nuovo codice al Social Point"))
	}
	if err != nil {
		return u, err
	}
	return u, s.api.ThrottleSucceeded(ctx, []store.ThrottleKey{account}, []store.ThrottleKey{address})
}

// ---- JSON handlers ----

func (s *server) createCitizen(c *gin.Context) error {
	var req desk.NewCitizen
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := s.desk.Register(c.Request.Context(), currentUser(c), req)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/citizens/"+out.Citizen.PublicID)
	c.JSON(http.StatusCreated, out)
	return nil
}

func (s *server) getCitizen(c *gin.Context) error {
	d, err := s.desk.Citizen(c.Request.Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, d)
	return nil
}

func (s *server) reissueCitizenCode(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	ctx, user := c.Request.Context(), currentUser(c)
	d, err := s.desk.Citizen(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	out, err := s.desk.ReissueCode(ctx, user, &d, s.portalOrigin(c))
	if err != nil {
		return err
	}
	if out.Recovery != nil {
		// An active account: the code went to the citizen (or waits for a
		// supervisor); the desk gets the recovery, never the code.
		c.JSON(http.StatusAccepted, out.Recovery)
		return nil
	}
	c.JSON(http.StatusCreated, out.Code)
	return nil
}

// onBehalfRequest is the body of POST /api/v1/citizens/{id}/applications.
type onBehalfRequest struct {
	Form                 string          `json:"form"`
	Data                 json.RawMessage `json:"data"`
	PrivacyConsentSigned bool            `json:"privacy_consent_signed"`
}

func (s *server) createApplicationOnBehalf(c *gin.Context) error {
	ctx, user := c.Request.Context(), currentUser(c)
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req onBehalfRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Form = strings.TrimSpace(req.Form)
	fields := applicationFields(req.Form, req.Data)
	if !req.PrivacyConsentSigned {
		fields = append(fields, field("/privacy_consent_signed", "required",
			"confirm that the citizen signed the privacy consent", "conferma che il cittadino ha firmato il consenso privacy"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	d, err := s.deskCitizen(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	if key != "" {
		key = "desk:" + strconv.FormatInt(user.ID, 10) + ":" + key
	}
	v, replayed, err := s.submitApplication(ctx, user, req.Form, req.Data, key, &d)
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/applications/"+url.PathEscape(v.ID))
	c.JSON(http.StatusCreated, s.caseJSON(c, v))
	return nil
}

func (s *server) activateAccount(c *gin.Context) error {
	var req activationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.activate(c.Request.Context(), req, c.ClientIP())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}

func (s *server) listContactTasks(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f := store.ContactFilter{Status: c.DefaultQuery("status", "active"), Limit: limit, Offset: offset}
	// The overdue filter reads as the review inbox's.
	tf, fields := parseTaskFilter("all", c.Query("overdue"))
	f.Overdue = tf.Overdue
	if !slices.Contains(desk.ContactStatuses, f.Status) {
		fields = append(fields, param("status", "invalid", "status must be one of active, done, all",
			"status deve essere uno tra active, done, all"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	items, total, err := s.desk.ContactTasks(c.Request.Context(), currentUser(c), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.ContactTaskView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

func (s *server) recordContactOutcome(c *gin.Context) error {
	var req desk.ContactOutcome
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.desk.RecordContact(c.Request.Context(), currentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}
