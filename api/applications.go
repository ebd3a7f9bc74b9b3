package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sportello/internal/app"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/forms"
	"sportello/internal/store"
	"sportello/workflows"
)

type applicationRequest struct {
	Form string          `json:"form"`
	Data json.RawMessage `json:"data"`
}

var validIdempotencyKey = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`)

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(c *gin.Context) (string, error) {
	key := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if key == "" {
		return "", nil
	}
	if !validIdempotencyKey.MatchString(key) {
		return "", invalid(FieldError{Parameter: "Idempotency-Key", Code: "invalid",
			Message:   "the Idempotency-Key header must be 1 to 200 printable ASCII characters without spaces",
			MessageIT: "l'intestazione Idempotency-Key deve avere da 1 a 200 caratteri ASCII stampabili senza spazi"})
	}
	return key, nil
}

// dataPointer turns a pointer into the application data into a pointer into
// the request body.
func dataPointer(prefix string, problems []forms.FieldError) []FieldError {
	out := make([]FieldError, 0, len(problems))
	for _, p := range problems {
		out = append(out, FieldError{Pointer: prefix + p.Pointer, Code: p.Code, Message: p.Message, MessageIT: p.MessageIT})
	}
	return out
}

// applicationFields checks the form id and the data of an application request.
func applicationFields(form string, data json.RawMessage) []FieldError {
	var fields []FieldError
	if form == "" {
		fields = append(fields, field("/form", "required", "the form id is required", "l'identificativo del modulo è obbligatorio"))
	}
	if len(data) == 0 || string(data) == "null" {
		fields = append(fields, field("/data", "required", "the application data is required", "i dati della domanda sono obbligatori"))
	} else if !isJSONObject(data) {
		fields = append(fields, field("/data", "type", "the application data must be a JSON object", "i dati della domanda devono essere un oggetto JSON"))
	}
	return fields
}

func (s *server) createApplication(c *gin.Context) error {
	ctx := c.Request.Context()
	user := currentUser(c)
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req applicationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Form = strings.TrimSpace(req.Form)
	if fields := applicationFields(req.Form, req.Data); len(fields) > 0 {
		return invalid(fields...)
	}
	v, replayed, err := s.submitApplication(ctx, user, req.Form, req.Data, key, nil)
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

// submitApplication validates application data against the form and the
// district's rules and files it for user: the case row first (idemKey, when
// not empty, makes a retry return the same case: replayed is then true),
// then its workflow. Problems are a 422 *httpError whose field pointers
// start with "/data" (or "/form"); a case already in progress is a 409
// carrying its id. The JSON handler and the application pages share it.
//
// onBehalf, when not nil, is the citizen a Social Point operator (user)
// files for: the case is the citizen's (filed under their scope, so they see
// it in their area), the timeline names the operator, and the filing is in
// the audit trail with acting_for set to the citizen's tax code.
func (s *server) submitApplication(ctx context.Context, user store.UserView, formID string, data json.RawMessage,
	idemKey string, onBehalf *store.DeskCitizen) (v store.CaseView, replayed bool, err error) {
	applicant := user
	if onBehalf != nil {
		applicant = onBehalf.UserView()
	}
	form, ok := s.Forms.Get(formID)
	if !ok {
		return store.CaseView{}, false, invalid(field("/form", "unknown_form", fmt.Sprintf("there is no form %q", formID),
			fmt.Sprintf("il modulo %q non esiste", formID)))
	}
	now := s.Now()
	version, problems, err := s.Forms.Validate(form.ID, data, now)
	if errors.Is(err, forms.ErrUnknownForm) {
		return store.CaseView{}, false, invalid(field("/form", "unknown_form", fmt.Sprintf("there is no form %q", formID),
			fmt.Sprintf("il modulo %q non esiste", formID)))
	}
	if err != nil {
		return store.CaseView{}, false, err
	}
	if len(problems) > 0 {
		return store.CaseView{}, false, invalid(dataPointer("/data", problems)...)
	}
	canon, err := canonicalJSON(data)
	if err != nil {
		return store.CaseView{}, false, err
	}
	hash, err := requestHash(map[string]any{"form": form.ID, "data": json.RawMessage(canon)})
	if err != nil {
		return store.CaseView{}, false, err
	}
	taxCode := strings.ToUpper(strings.TrimSpace(stringAt(data, "applicant", "tax_code")))
	var violations []FieldError
	if applicant.TaxCode != "" && !strings.EqualFold(taxCode, applicant.TaxCode) {
		violations = append(violations, field("/data/applicant/tax_code", "tax_code_mismatch",
			"the tax code must be the one of the logged-in citizen",
			"il codice fiscale deve essere quello del cittadino che ha effettuato l'accesso"))
	}
	var filedBy *store.FiledBy
	if onBehalf != nil && len(violations) == 0 {
		filedBy = &store.FiledBy{Username: user.Username, Name: user.DisplayName, ForTaxCode: onBehalf.TaxCode,
			ForName: onBehalf.DisplayName}
		// A filing is recorded once done (auditFiledOnBehalf below), and
		// attempted only when that row can be written; a refusal is
		// recorded with the code of the answer it got.
		if err := s.auditWritable(ctx, user, onBehalfAudit(auditFiledOnBehalf, user, onBehalf, "", nil)); err != nil {
			return store.CaseView{}, false, err
		}
		defer func() {
			s.auditRefused(ctx, user, onBehalfAudit(auditFileOnBehalf, user, onBehalf, "", map[string]any{"form": form.ID}), err)
		}()
	}
	created, err := s.api.CreateCase(ctx, applicant.Scope(), store.NewCase{
		Prefix:         form.CasePrefix,
		FormID:         form.ID,
		FormVersion:    version,
		Data:           canon,
		Municipality:   stringAt(data, "residence", "municipality"),
		TaxCode:        taxCode,
		IdempotencyKey: idemKey,
		RequestHash:    hash,
		Actor:          user.Username,
		FiledBy:        filedBy,
		Now:            now,
		Rejected:       len(violations) > 0,
	})
	var rules *store.CaseRuleError
	if errors.As(err, &rules) {
		for _, r := range rules.Rules {
			switch r {
			case store.RuleMunicipalityOutsideDistrict:
				violations = append(violations, field("/data/residence/municipality", "outside_district",
					"the municipality is not part of your district",
					"il comune non fa parte del tuo ambito territoriale"))
			case store.RuleResidenceNotRegistry:
				violations = append(violations, field("/data/residence/municipality", "residence_not_registry",
					fmt.Sprintf("the population registry records the applicant as resident in %s: an application goes to the municipality of residence; choose %s or, if the registry is wrong, contact the municipal registry office",
						rules.RegistryMunicipality, rules.RegistryMunicipality),
					fmt.Sprintf("secondo l'anagrafe il richiedente risiede a %s: la domanda va presentata al comune di residenza; scegli %s o, se l'anagrafe è sbagliata, rivolgiti all'ufficio anagrafe del comune",
						rules.RegistryMunicipality, rules.RegistryMunicipality)))
			case store.RuleNoOpenCall:
				violations = append(violations, field("/data/residence/municipality", "no_open_call",
					"no open call: this municipality is not accepting applications for this form now",
					"nessun bando aperto: questo comune non accetta ora domande per questo modulo"))
			}
		}
		return store.CaseView{}, false, invalid(violations...)
	}
	if created.InProgress != "" {
		// Make sure the case in progress is being processed: this heals a
		// case whose workflow failed to start when no Idempotency-Key was sent.
		if serr := s.startCase(ctx, created.InProgress); serr != nil {
			s.log.WarnContext(ctx, "start case workflow", "case_id", created.InProgress, "err", serr)
		}
		he := toHTTP(err)
		he.caseID = created.InProgress
		return store.CaseView{}, false, he
	}
	if err != nil {
		return store.CaseView{}, false, err
	}
	if filedBy != nil {
		if err := s.audit(ctx, user, onBehalfAudit(auditFiledOnBehalf, user, onBehalf, created.ID,
			map[string]any{"form": form.ID, "replayed": created.Replayed})); err != nil {
			return store.CaseView{}, false, err
		}
	}
	// Start (or find) the case workflow after the commit. On a replay this
	// heals a crash between the commit and the first start.
	if err := s.startCase(ctx, created.ID); err != nil {
		return store.CaseView{}, false, &httpError{status: http.StatusServiceUnavailable, code: "workflow_start_failed",
			message: "the application " + created.ID + " is stored but its processing could not start; " +
				"resend the same request with the same Idempotency-Key to retry",
			caseID: created.ID, cause: err}
	}
	v, err = s.api.Case(ctx, applicant.Scope(), created.ID)
	if err != nil {
		return store.CaseView{}, false, err
	}
	return v, created.Replayed, nil
}

// startTimeout bounds the start of a case workflow.
const startTimeout = 15 * time.Second

// startCase starts the workflow of a stored case; a workflow already
// running or finished counts as started.
func (s *server) startCase(ctx context.Context, caseID string) error {
	return s.startOnce(ctx, workflows.CaseWorkflowID(caseID), workflows.FoodVoucher, workflows.FoodVoucherInput{CaseID: caseID})
}

// startOnce starts workflow wf with id, once whatever the retries: a
// workflow already running or finished under that id counts as started.
func (s *server) startOnce(ctx context.Context, id string, wf, input any) error {
	if s.Temporal == nil {
		return errors.New("no Temporal client")
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, wf, input)
	if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return err
	}
	return nil
}

func isStaff(role string) bool { return role == "operator" || role == "supervisor" }

// caseJSON decorates a case for the caller: staff get a link to the workflow
// in the Temporal Web UI.
func (s *server) caseJSON(c *gin.Context, v store.CaseView) store.CaseView {
	if isStaff(currentUser(c).Role) && s.TemporalUIURL != "" {
		v.TemporalUIURL = strings.TrimRight(s.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(s.Namespace) +
			"/workflows/" + url.PathEscape(v.WorkflowID)
	}
	return v
}

var caseStatuses = []string{
	workflows.StatusSubmitted, workflows.StatusInReview, workflows.StatusInfoRequested,
	workflows.StatusApproved, workflows.StatusRejected, workflows.StatusClosed,
}

// page reads limit and offset (default 50, at most 200; pageWindow).
func page(c *gin.Context) (limit, offset int, err error) {
	limit, offset, fields := pageWindow(c, 50, 200, true)
	if len(fields) > 0 {
		return 0, 0, invalid(fields...)
	}
	return limit, offset, nil
}

// List is the envelope of every paginated list.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
	// TotalCapped says that Total is a lower bound: there are more items
	// than that (case lists count up to a cap).
	TotalCapped bool `json:"total_capped,omitempty"`
	Limit       int  `json:"limit"`
	Offset      int  `json:"offset"`
}

func (s *server) listApplications(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f := store.CaseFilter{Limit: limit, Offset: offset,
		TaxCode: strings.ToUpper(strings.TrimSpace(c.Query("tax_code"))), Status: c.Query("status")}
	if f.Status != "" && !slices.Contains(caseStatuses, f.Status) {
		return invalid(param("status", "invalid", "status must be one of "+strings.Join(caseStatuses, ", "),
			"status deve essere uno tra "+strings.Join(caseStatuses, ", ")))
	}
	items, total, err := s.api.Cases(c.Request.Context(), currentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	if f.TaxCode != "" {
		if err := s.auditRead(c.Request.Context(), currentUser(c), store.AuditSearch, "", "",
			map[string]any{"tax_code": f.TaxCode, "status": f.Status, "results": total.N, "more": total.More}); err != nil {
			return err
		}
	}
	c.JSON(http.StatusOK, List[store.CaseSummary]{Items: items, Total: total.N, TotalCapped: total.More, Limit: limit, Offset: offset})
	return nil
}

func (s *server) getApplication(c *gin.Context) error {
	v, err := s.api.Case(c.Request.Context(), currentUser(c).Scope(), c.Param("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("application")
		}
		return err
	}
	if err := s.auditRead(c.Request.Context(), currentUser(c), store.AuditReadCase, v.ID, v.Municipality, nil); err != nil {
		return err
	}
	c.JSON(http.StatusOK, s.caseJSON(c, v))
	return nil
}

func (s *server) timeline(c *gin.Context) error {
	events, err := s.api.Timeline(c.Request.Context(), currentUser(c).Scope(), c.Param("id"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("application")
		}
		return err
	}
	if err := s.auditRead(c.Request.Context(), currentUser(c), store.AuditReadTimeline, c.Param("id"), "", nil); err != nil {
		return err
	}
	c.JSON(http.StatusOK, events)
	return nil
}

type informationRequest struct {
	Data *struct {
		Message string          `json:"message"`
		Changes json.RawMessage `json:"changes"`
	} `json:"data"`
}

// immutablePaths may not be changed in a reply: they decide who the case
// belongs to and where it is handled.
var immutablePaths = [][]string{{"applicant", "tax_code"}, {"residence", "municipality"}}

func (s *server) provideInformation(c *gin.Context) error {
	ctx := c.Request.Context()
	user := currentUser(c)
	var req informationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Data == nil {
		return invalid(field("/data", "required", "data with a message is required", "è richiesto data con un messaggio"))
	}
	var fields []FieldError
	msg := strings.TrimSpace(req.Data.Message)
	switch {
	case msg == "":
		fields = append(fields, field("/data/message", "required", "a message is required", "il messaggio è obbligatorio"))
	case utf8.RuneCountInString(msg) > 4000:
		fields = append(fields, field("/data/message", "too_long", "the message may be at most 4000 characters",
			"il messaggio può avere al massimo 4000 caratteri"))
	}
	changes := req.Data.Changes
	if len(changes) > 0 && string(changes) != "null" {
		if !isJSONObject(changes) {
			fields = append(fields, field("/data/changes", "type", "changes must be a JSON object", "changes deve essere un oggetto JSON"))
		} else {
			for _, p := range immutablePaths {
				if hasPath(changes, p...) {
					ptr := "/data/changes/" + strings.Join(p, "/")
					fields = append(fields, field(ptr, "immutable", "this field cannot be changed in a reply",
						"questo campo non può essere modificato nella risposta"))
				}
			}
		}
	} else {
		changes = nil
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	res, err := s.provideInfo(ctx, user, c.Param("id"), msg, changes, updateID(c, "info"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// provideInfo sends the applicant's reply to a request for information:
// msg (already checked), and changes, an optional JSON merge patch of the
// application data (checked against the form; nil for none). updID makes a
// retried reply apply once ("" lets Temporal pick an id). Problems with the
// changes carry pointers under "/data/changes".
func (s *server) provideInfo(ctx context.Context, user store.UserView, caseID, msg string, changes json.RawMessage,
	updID string) (res workflows.ProvideInfoResult, err error) {
	v, err := s.api.Case(ctx, user.Scope(), caseID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return res, notFound("application")
		}
		return res, err
	}
	if v.ApplicantID != user.ID {
		return res, notFound("application")
	}
	var merged json.RawMessage
	if changes != nil {
		merged, err = mergePatch(v.Data, changes)
		if err != nil {
			return res, err
		}
		_, problems, err := s.Forms.Validate(v.Form, merged, s.Now())
		if err != nil {
			return res, err
		}
		if len(problems) > 0 {
			return res, invalid(dataPointer("/data/changes", problems)...)
		}
	}
	if err := s.update(ctx, v.ID, workflows.UpdateProvideInfo, updID, &res,
		workflows.ProvideInfoInput{Actor: actor(user), Message: msg, Data: merged}); err != nil {
		return res, err
	}
	return res, nil
}

// actor is the workflow's view of the caller.
func actor(u store.UserView) workflows.Actor { return app.Actor(u) }

// updateID derives a Temporal update id from the Idempotency-Key header, so
// that a retried request is applied once ("" lets Temporal pick one).
func updateID(c *gin.Context, op string) string {
	key, err := idempotencyKey(c)
	if err != nil || key == "" {
		return ""
	}
	return op + ":" + strconv.FormatInt(currentUser(c).ID, 10) + ":" + key
}

// update sends a Temporal Update to a case workflow and waits for its result.
func (s *server) update(ctx context.Context, caseID, name, id string, result any, arg any) error {
	return s.core.Update(ctx, caseID, name, id, result, arg)
}
