package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// The audit trail (issue 4): every staff read of a case and every staff or
// merchant action is one row of audit_log, written through s.audit from the
// domain methods the JSON handlers and the pages share. Reads are recorded
// after the data is read and before it is sent: a read row that cannot be
// written stops the request with 503 audit_unavailable, so personal data is
// never shown without its row. Actions are recorded once, after they
// happen, with their outcome (s.audited, which first checks with a
// rolled-back insert that the row can be written): "<action>" when done,
// "<action>_refused" with the refusal's code (a 422's field codes too) when
// refused. A done action whose row cannot be written is logged as an error
// with the row's content (the action cannot be undone, and answering 503
// would invite a second one). Citizens reading their own cases are not
// audited.

type requestIDKey struct{}

// withRequestID puts the request id into ctx, for the audit rows written
// by methods that only see the request's context.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// audited tells whether user's reads and actions are recorded.
func audited(user store.UserView) bool {
	return user.ID != 0 && (isStaff(user.Role) || user.Role == roleMerchant || user.Role == roleCooperative)
}

// audit records e for user (actor, request id filled in here). It does
// nothing for citizens. A failure is a 503 "audit_unavailable".
func (s *server) audit(ctx context.Context, user store.UserView, e store.AuditEntry) error {
	if !audited(user) {
		return nil
	}
	e.ActorID, e.ActorUsername, e.ActorRole = user.ID, user.Username, user.Role
	e.RequestID = requestIDFrom(ctx)
	if err := s.api.Audit(ctx, user.Scope(), e); err != nil {
		return &httpError{status: http.StatusServiceUnavailable, code: "audit_unavailable",
			message: "the audit trail cannot be written now, so nothing was shown or changed; try again", cause: err}
	}
	return nil
}

// auditWritable checks, writing nothing, that user's row e could be
// written now (a failure is a 503 "audit_unavailable"); nothing for citizens.
func (s *server) auditWritable(ctx context.Context, user store.UserView, e store.AuditEntry) error {
	if !audited(user) {
		return nil
	}
	e.ActorID, e.ActorUsername, e.ActorRole = user.ID, user.Username, user.Role
	e.RequestID = requestIDFrom(ctx)
	if err := s.api.AuditWritable(ctx, user.Scope(), e); err != nil {
		return &httpError{status: http.StatusServiceUnavailable, code: "audit_unavailable",
			message: "the audit trail cannot be written now, so nothing was changed; try again", cause: err}
	}
	return nil
}

// auditRead records a staff read of personal data of case caseID.
func (s *server) auditRead(ctx context.Context, user store.UserView, action, caseID, municipality string, detail any) error {
	if !isStaff(user.Role) {
		return nil
	}
	return s.audit(ctx, user, store.AuditEntry{Action: action, CaseID: caseID, Municipality: municipality,
		Detail: auditDetail(detail)})
}

// auditRefused records, on a best-effort basis, that an action was
// refused, with the refusal's code (and the codes of a 422's fields): the
// refusal changed nothing, so a failure here is only logged.
func (s *server) auditRefused(ctx context.Context, user store.UserView, e store.AuditEntry, cause error) {
	if cause == nil || !audited(user) {
		return
	}
	var d map[string]any
	if len(e.Detail) > 0 {
		_ = json.Unmarshal(e.Detail, &d)
	}
	if d == nil {
		d = map[string]any{}
	}
	he := toHTTP(cause)
	d["error"] = he.code
	if len(he.fields) > 0 {
		codes := make([]string, len(he.fields))
		for i, f := range he.fields {
			codes[i] = f.Code
		}
		d["fields"] = strings.Join(codes, ", ")
	}
	e.Action += store.AuditRefusedSuffix
	e.Detail = auditDetail(d)
	if err := s.audit(ctx, user, e); err != nil {
		s.log.WarnContext(ctx, "audit refusal", "action", e.Action, "case_id", e.CaseID, "err", err)
	}
}

// auditOutcome records an action that has been tried: e when it was done
// (err nil), its refusal otherwise. A done action's row that cannot be
// written is logged with its content, as an error.
func (s *server) auditOutcome(ctx context.Context, user store.UserView, e store.AuditEntry, err error) {
	if err != nil {
		s.auditRefused(ctx, user, e, err)
		return
	}
	if aerr := s.audit(ctx, user, e); aerr != nil {
		s.log.ErrorContext(ctx, "audit row of a done action lost", "request_id", requestIDFrom(ctx),
			"actor", user.Username, "action", e.Action, "case_id", e.CaseID, "acting_for", e.ActingFor,
			"reason", e.Reason, "detail", string(e.Detail), "err", aerr)
	}
}

// auditDetail encodes the detail of an audit row (nil: {}).
func auditDetail(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return raw
}

// ---- the supervisors' JSON view ----

func (s *server) auditLog(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f, fields := parseAuditFilter(c.Query("case_id"), c.Query("actor"))
	if len(fields) > 0 {
		return invalid(fields...)
	}
	f.Limit, f.Offset = limit, offset
	items, total, err := s.api.AuditLog(c.Request.Context(), currentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.AuditEntry]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

// parseAuditFilter checks the filters of the audit views (JSON and page).
func parseAuditFilter(caseID, actor string) (store.AuditFilter, []FieldError) {
	f := store.AuditFilter{CaseID: strings.ToUpper(strings.TrimSpace(caseID)), Actor: strings.TrimSpace(actor)}
	var fields []FieldError
	if len(f.CaseID) > 64 {
		fields = append(fields, param("case_id", "too_long", "case_id may be at most 64 characters",
			"case_id può avere al massimo 64 caratteri"))
	}
	if len(f.Actor) > 128 {
		fields = append(fields, param("actor", "too_long", "actor may be at most 128 characters",
			"actor può avere al massimo 128 caratteri"))
	}
	return f, fields
}

// audited does the action e, then records it with its outcome (done or
// refused, with the refusal's code). The action is attempted only when its
// row can be written (a rolled-back trial insert; 503 audit_unavailable
// otherwise, nothing done).
func (s *server) audited(ctx context.Context, user store.UserView, e store.AuditEntry, do func() error) error {
	if err := s.auditWritable(ctx, user, e); err != nil {
		return err
	}
	err := do()
	s.auditOutcome(ctx, user, e, err)
	return err
}

// taskAudit is the audit row of an action on task t.
func taskAudit(action string, t store.TaskView, reason string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["task_id"] = t.ID
	return store.AuditEntry{Action: action, CaseID: t.CaseID, Municipality: t.Municipality, Reason: reason,
		Detail: auditDetail(detail)}
}
