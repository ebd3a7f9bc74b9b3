package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/store"
)

// The Social Point's desk (issue 4): an operator registers a citizen who
// cannot do it alone and hands over a one-time activation code, files
// applications on the citizen's behalf, and reaches citizens without e-mail
// through contact tasks. Shared by the JSON handlers here and the pages of
// web_desk.go.

// Audit actions of the desk.
const (
	auditRegisterCitizen = "register_citizen"
	auditReissueCode     = "reissue_activation_code"
	auditReadCitizen     = "read_citizen"
	auditFileOnBehalf    = "file_on_behalf"
	auditFiledOnBehalf   = "filed_on_behalf"
	auditRecordContact   = "record_contact"
	auditRequestRecovery = "request_account_recovery"
	auditDecideRecovery  = "decide_account_recovery"
	auditDeskSharing     = "set_desk_sharing"
)

// onBehalfAudit is the audit row of something user does for citizen d. The
// row belongs to the operator's own municipality (the desk where it
// happened), which is also what the audit policy lets an operator write.
func onBehalfAudit(action string, user store.UserView, d *store.DeskCitizen, caseID string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["citizen_id"] = d.PublicID
	if d.Municipality != user.Municipality {
		// Only the district's shared desk lets this happen: say so.
		detail["shared_desk"] = true
		detail["citizen_municipality"] = d.Municipality
	}
	return store.AuditEntry{Action: action, CaseID: caseID, Municipality: user.Municipality, ActingFor: d.TaxCode,
		Detail: auditDetail(detail)}
}

// citizenRequest is the body of POST /api/v1/citizens and the registration page.
type citizenRequest struct {
	TaxCode      string `json:"tax_code"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Address      string `json:"address"`
	HomeDelivery bool   `json:"home_delivery"`
}

var validPhone = regexp.MustCompile(`^\+?[0-9][0-9 ]*[0-9]$`)

// validate trims the request and lists its problems (pointers /tax_code, ...).
func (r *citizenRequest) validate() []FieldError {
	r.TaxCode = strings.ToUpper(strings.TrimSpace(r.TaxCode))
	r.FirstName, r.LastName = strings.TrimSpace(r.FirstName), strings.TrimSpace(r.LastName)
	r.Email, r.Phone, r.Address = strings.TrimSpace(r.Email), strings.TrimSpace(r.Phone), strings.TrimSpace(r.Address)
	var fields []FieldError
	switch {
	case r.TaxCode == "":
		fields = append(fields, field("/tax_code", "required", "the tax code is required", "il codice fiscale è obbligatorio"))
	case !forms.ValidTaxCode(r.TaxCode):
		fields = append(fields, field("/tax_code", "invalid", "this is not a valid Italian tax code",
			"il codice fiscale non è valido"))
	}
	for _, n := range []struct{ ptr, v, en, it string }{
		{"/first_name", r.FirstName, "the first name is required", "il nome è obbligatorio"},
		{"/last_name", r.LastName, "the last name is required", "il cognome è obbligatorio"},
	} {
		switch {
		case n.v == "":
			fields = append(fields, field(n.ptr, "required", n.en, n.it))
		case utf8.RuneCountInString(n.v) > 80:
			fields = append(fields, field(n.ptr, "too_long", "at most 80 characters", "al massimo 80 caratteri"))
		}
	}
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
			fields = append(fields, field("/email", "invalid", "this is not a valid e-mail address",
				"l'indirizzo e-mail non è valido"))
		}
	}
	if r.Phone != "" && (len(r.Phone) < 6 || len(r.Phone) > 20 || !validPhone.MatchString(r.Phone)) {
		fields = append(fields, field("/phone", "invalid", "not a valid phone number: use digits, an optional leading + and spaces",
			"numero di telefono non valido: usa cifre, un + iniziale facoltativo e spazi"))
	}
	switch {
	case utf8.RuneCountInString(r.Address) < 3:
		fields = append(fields, field("/address", "required", "the postal address is required (street, number, town)",
			"l'indirizzo postale è obbligatorio (via, numero civico, comune)"))
	case utf8.RuneCountInString(r.Address) > 200:
		fields = append(fields, field("/address", "too_long", "at most 200 characters", "al massimo 200 caratteri"))
	}
	return fields
}

// registration is what a registration returns: the citizen and the
// activation code, shown once.
type registration struct {
	Citizen    store.DeskCitizen `json:"citizen"`
	Activation store.IssuedCode  `json:"activation"`
}

// registerCitizen registers a resident of the district for user (an
// operator), audited with acting_for. Problems are a 422 with pointers
// /tax_code, ...; a tax code already registered is a 409 citizen_exists.
func (s *server) registerCitizen(ctx context.Context, user store.UserView, req citizenRequest) (registration, error) {
	var out registration
	if fields := req.validate(); len(fields) > 0 {
		return out, invalid(fields...)
	}
	e := store.AuditEntry{Action: auditRegisterCitizen, Municipality: user.Municipality, ActingFor: req.TaxCode,
		Detail: auditDetail(map[string]any{"has_email": req.Email != "", "has_phone": req.Phone != "",
			"home_delivery": req.HomeDelivery})}
	err := s.audited(ctx, user, e, func() error {
		var err error
		out.Citizen, out.Activation, err = s.api.RegisterCitizen(ctx, user.Scope(), store.NewCitizen{
			TaxCode: req.TaxCode, FirstName: req.FirstName, LastName: req.LastName, Email: req.Email, Phone: req.Phone,
			Address: req.Address, HomeDelivery: req.HomeDelivery, Now: s.Now()})
		if errors.Is(err, store.ErrNotResident) {
			return invalid(field("/tax_code", "not_resident",
				"this tax code is not in the population registry of a municipality of your district",
				"questo codice fiscale non risulta nell'anagrafe di un comune del tuo ambito"))
		}
		if errors.Is(err, store.ErrNotServed) {
			return invalid(field("/tax_code", "not_served",
				"this person lives in a municipality your Social Point does not serve: they register at the Social Point of their municipality",
				"questa persona risiede in un comune che il tuo Social Point non serve: si registra al Social Point del suo comune"))
		}
		return err
	})
	return out, err
}

// deskCitizen reads, by their public id, a citizen user serves at the desk
// (of the operator's municipality, or of the district when the district
// shares its desk), audited as a read with acting_for (404 when there is
// none, and for anything that is not a public id).
func (s *server) deskCitizen(ctx context.Context, user store.UserView, rawID string) (store.DeskCitizen, error) {
	d, err := s.api.DeskCitizenByPublicID(ctx, user.Scope(), rawID)
	if errors.Is(err, store.ErrNotFound) {
		return d, notFound("citizen")
	}
	if err != nil {
		return d, err
	}
	return d, s.audit(ctx, user, onBehalfAudit(auditReadCitizen, user, &d, "", nil))
}

// deskCode is what a request for a new code gives the desk: the code of an
// account waiting for activation, or the recovery of an active account,
// whose code goes to the citizen's e-mail or waits for a supervisor, never
// to the desk.
type deskCode struct {
	Code     *store.IssuedCode
	Recovery *store.Recovery
}

// reissueCode issues a new activation code for a citizen waiting for
// activation, or asks the recovery of an active account (see deskCode).
func (s *server) reissueCode(ctx context.Context, user store.UserView, d *store.DeskCitizen, origin string) (deskCode, error) {
	var out deskCode
	if d.Status != store.UserActive {
		err := s.audited(ctx, user, onBehalfAudit(auditReissueCode, user, d, "", nil), func() error {
			code, err := s.api.ReissueActivationCode(ctx, user.Scope(), d.ID, s.Now())
			out.Code = &code
			return err
		})
		return out, err
	}
	channel := store.RecoveryChannelEmail
	if d.Email == "" {
		channel = store.RecoveryChannelApproval
	}
	e := onBehalfAudit(auditRequestRecovery, user, d, "", map[string]any{"channel": channel})
	err := s.audited(ctx, user, e, func() error {
		r, err := s.api.RequestRecovery(ctx, user.Scope(), d.ID, s.Now(), func(rc store.RecoveryCode) error {
			return s.sendRecoveryCode(ctx, rc, origin)
		})
		out.Recovery = &r
		return err
	})
	return out, err
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

// contactOutcomeRequest is the body of POST /api/v1/contact-tasks/{id}/outcome.
type contactOutcomeRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// recordContact records the outcome of a contact task visible to user,
// audited with acting_for; it goes on the case timeline.
func (s *server) recordContact(ctx context.Context, user store.UserView, taskID string, req contactOutcomeRequest) (store.ContactTaskView, error) {
	req.Note = strings.TrimSpace(req.Note)
	var fields []FieldError
	if !slices.Contains(store.ContactOutcomes, req.Outcome) {
		fields = append(fields, field("/outcome", "enum", "outcome must be one of "+strings.Join(store.ContactOutcomes, ", "),
			"outcome deve essere uno tra "+strings.Join(store.ContactOutcomes, ", ")))
	}
	if utf8.RuneCountInString(req.Note) > 1000 {
		fields = append(fields, field("/note", "too_long", "the note may be at most 1000 characters",
			"la nota può avere al massimo 1000 caratteri"))
	}
	if len(fields) > 0 {
		return store.ContactTaskView{}, invalid(fields...)
	}
	t, err := s.api.ContactTask(ctx, user.Scope(), taskID)
	if errors.Is(err, store.ErrNotFound) {
		return t, notFound("contact task")
	}
	if err != nil {
		return t, err
	}
	e := store.AuditEntry{Action: auditRecordContact, CaseID: t.CaseID, Municipality: t.Municipality,
		ActingFor: t.CitizenTaxCode, Reason: req.Note,
		Detail: auditDetail(map[string]any{"task_id": t.ID, "outcome": req.Outcome, "notification": t.NotificationKind})}
	var out store.ContactTaskView
	err = s.audited(ctx, user, e, func() error {
		var err error
		out, err = s.api.RecordContact(ctx, user.Scope(), store.ContactOutcomeInput{TaskID: t.ID, Outcome: req.Outcome,
			Note: req.Note, Actor: user.Username, At: s.Now()})
		if errors.Is(err, store.ErrContactNoHomeDeliver) {
			return invalid(field("/outcome", "no_home_delivery", "this contact has no home delivery of a voucher",
				"questo contatto non prevede la consegna a domicilio di un buono"))
		}
		return err
	})
	return out, err
}

// ---- JSON handlers ----

func (s *server) createCitizen(c *gin.Context) error {
	var req citizenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := s.registerCitizen(c.Request.Context(), currentUser(c), req)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/citizens/"+out.Citizen.PublicID)
	c.JSON(http.StatusCreated, out)
	return nil
}

func (s *server) getCitizen(c *gin.Context) error {
	d, err := s.deskCitizen(c.Request.Context(), currentUser(c), c.Param("id"))
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
	d, err := s.deskCitizen(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	out, err := s.reissueCode(ctx, user, &d, s.portalOrigin(c))
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

var contactStatuses = []string{"active", "done", "all"}

func (s *server) listContactTasks(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f := store.ContactFilter{Status: c.DefaultQuery("status", "active"), Limit: limit, Offset: offset}
	// The overdue filter reads as the review inbox's.
	tf, fields := parseTaskFilter("all", c.Query("overdue"))
	f.Overdue = tf.Overdue
	if !slices.Contains(contactStatuses, f.Status) {
		fields = append(fields, param("status", "invalid", "status must be one of active, done, all",
			"status deve essere uno tra active, done, all"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	items, total, err := s.api.ContactTasks(c.Request.Context(), currentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.ContactTaskView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

func (s *server) recordContactOutcome(c *gin.Context) error {
	var req contactOutcomeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.recordContact(c.Request.Context(), currentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}
