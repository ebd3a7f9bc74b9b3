package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// The audit trail: every staff read of a case and every staff, merchant or
// cooperative action is one row of audit_log, written by the application
// services. Reads are recorded after the data is read and before it is
// sent: a read row that cannot be written stops the request (Unavailable,
// "audit_unavailable"), so personal data is never shown without its row.
// Actions are recorded once, after they happen, with their outcome
// (Audited, which first checks with a rolled-back insert that the row can
// be written): "<action>" when done, "<action>_refused" with the refusal's
// code (and its field codes) when refused. A done action whose row cannot
// be written is logged as an error with the row's content (the action
// cannot be undone, and refusing it would invite a second one). Citizens
// reading their own cases are not audited.

type requestIDKey struct{}

// WithRequestID puts the request id into ctx, for the audit rows.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries ("" when none).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// IsStaff tells operators and supervisors.
func IsStaff(role string) bool {
	return role == string(contract.RoleOperator) || role == string(contract.RoleSupervisor)
}

// Recorded tells whether user's reads and actions are recorded.
func Recorded(user store.UserView) bool {
	return user.ID != 0 && (IsStaff(user.Role) || user.Role == string(contract.RoleMerchant) ||
		user.Role == string(contract.RoleCooperative) || user.Role == string(contract.RoleCommerceManager) ||
		user.Role == string(contract.RoleWelfareManager))
}

// Audit records e for user (actor and request id filled in here); nothing
// for citizens. A failure is Unavailable "audit_unavailable".
func (c *Core) Audit(ctx context.Context, user store.UserView, e store.AuditEntry) error {
	return auditCall(ctx, user, e, c.API.Audit, "nothing was shown or changed")
}

// AuditWritable checks, writing nothing, that user's row e could be
// written now (Unavailable "audit_unavailable" otherwise); nothing for
// citizens.
func (c *Core) AuditWritable(ctx context.Context, user store.UserView, e store.AuditEntry) error {
	return auditCall(ctx, user, e, c.API.AuditWritable, "nothing was changed")
}

// auditCall fills in e's actor and request id and hands it to call, in
// user's scope; nothing for citizens. A failure is Unavailable
// "audit_unavailable", its message saying what was therefore not done.
func auditCall(ctx context.Context, user store.UserView, e store.AuditEntry,
	call func(context.Context, store.Scope, store.AuditEntry) error, notDone string) error {
	if !Recorded(user) {
		return nil
	}
	e.ActorID, e.ActorUsername, e.ActorRole = user.ID, user.Username, user.Role
	e.RequestID = RequestID(ctx)
	if err := call(ctx, user.Scope(), e); err != nil {
		return &Error{Kind: Unavailable, Code: "audit_unavailable",
			Message: "the audit trail cannot be written now, so " + notDone + "; try again", Cause: err}
	}
	return nil
}

// ReadEntry is the audit row of user's read of case caseID for a store read
// that writes it itself, in its own transaction (store.TimelineAudited):
// nil when the read is not audited (not staff), as with AuditRead. A
// failure of the store's read wrapping store.ErrAuditUnavailable becomes
// Unavailable "audit_unavailable" through AuditFailure.
func ReadEntry(ctx context.Context, user store.UserView, action, caseID string) *store.AuditEntry {
	if !IsStaff(user.Role) || !Recorded(user) {
		return nil
	}
	return &store.AuditEntry{Action: action, CaseID: caseID, Municipality: readDesk(user, ""), ActorID: user.ID,
		ActorUsername: user.Username, ActorRole: user.Role, RequestID: RequestID(ctx), Detail: AuditDetail(nil)}
}

// readDesk is the municipality of the audit row of user's read of a case of
// municipality (empty: the case's own, filled in by the store). An
// operator reads at their own desk: a case of their municipality, or the
// case of a citizen they registered who lives elsewhere in the district
// (migrations 025, 029), whose row is their desk's, as the registration
// and the contacts are.
func readDesk(user store.UserView, municipality string) string {
	if user.Role == string(contract.RoleOperator) {
		return user.Municipality
	}
	return municipality
}

// AuditFailure is err, or Unavailable "audit_unavailable" when err says
// that a read's audit row could not be written (store.ErrAuditUnavailable):
// nothing was shown.
func AuditFailure(err error) error {
	if errors.Is(err, store.ErrAuditUnavailable) {
		return &Error{Kind: Unavailable, Code: "audit_unavailable",
			Message: "the audit trail cannot be written now, so nothing was shown or changed; try again", Cause: err}
	}
	return err
}

// AuditRead records a staff read of personal data of case caseID.
func (c *Core) AuditRead(ctx context.Context, user store.UserView, action, caseID, municipality string, detail any) error {
	if !IsStaff(user.Role) {
		return nil
	}
	return c.Audit(ctx, user, store.AuditEntry{Action: action, CaseID: caseID, Municipality: readDesk(user, municipality),
		Detail: AuditDetail(detail)})
}

// Audited does an action of user and records it once, with its outcome:
// the row is first checked to be writable (nothing is done otherwise).
func (c *Core) Audited(ctx context.Context, user store.UserView, e store.AuditEntry, do func() error) error {
	if err := c.AuditWritable(ctx, user, e); err != nil {
		return err
	}
	err := do()
	c.AuditOutcome(ctx, user, e, err)
	return err
}

// AuditOutcome records an action that has been tried: e when it was done
// (err nil), its refusal otherwise. A done action's row that cannot be
// written is logged with its content, as an error.
func (c *Core) AuditOutcome(ctx context.Context, user store.UserView, e store.AuditEntry, err error) {
	if err != nil {
		c.auditRefused(ctx, user, e, err)
		return
	}
	if aerr := c.Audit(ctx, user, e); aerr != nil {
		c.Log.ErrorContext(ctx, "audit row of a done action lost", "request_id", RequestID(ctx),
			"actor", user.Username, "action", e.Action, "case_id", e.CaseID, "acting_for", e.ActingFor,
			"reason", e.Reason, "detail", string(e.Detail), "err", aerr)
	}
}

// auditRefused records, on a best-effort basis, that an action was
// refused, with the refusal's code (and the codes of its field problems):
// the refusal changed nothing, so a failure here is only logged.
func (c *Core) auditRefused(ctx context.Context, user store.UserView, e store.AuditEntry, cause error) {
	if cause == nil || !Recorded(user) {
		return
	}
	var d map[string]any
	if len(e.Detail) > 0 {
		_ = json.Unmarshal(e.Detail, &d)
	}
	if d == nil {
		d = map[string]any{}
	}
	code, fields := c.describe(cause)
	d["error"] = code
	if len(fields) > 0 {
		codes := make([]string, len(fields))
		for i, f := range fields {
			codes[i] = f.Code
		}
		d["fields"] = strings.Join(codes, ", ")
	}
	e.Action += store.AuditRefusedSuffix
	e.Detail = AuditDetail(d)
	if err := c.Audit(ctx, user, e); err != nil {
		c.Log.WarnContext(ctx, "audit refusal", "action", e.Action, "case_id", e.CaseID, "err", err)
	}
}

func (c *Core) describe(err error) (string, []FieldError) {
	if c.Describe != nil {
		return c.Describe(err)
	}
	e := Classify(err)
	return e.Code, e.Fields
}

// AuditDetail encodes the detail of an audit row (nil for none).
func AuditDetail(v any) json.RawMessage {
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

// TaskAudit is the audit row of an action on task t.
func TaskAudit(action string, t store.TaskView, reason string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["task_id"] = t.ID
	return store.AuditEntry{Action: action, CaseID: t.CaseID, Municipality: t.Municipality, Reason: reason,
		Detail: AuditDetail(detail)}
}

// OnBehalfAudit is the audit row of something user does at the desk for
// citizen d: it names the citizen (public id, tax code as acting_for) and,
// when the district's shared desk lets user act beyond their municipality,
// says so.
func OnBehalfAudit(action string, user store.UserView, d *store.DeskCitizen, caseID string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["citizen_id"] = d.PublicID
	if d.Municipality != user.Municipality {
		detail["shared_desk"] = true
		detail["citizen_municipality"] = d.Municipality
	}
	return store.AuditEntry{Action: action, CaseID: caseID, Municipality: user.Municipality, ActingFor: d.TaxCode,
		Detail: AuditDetail(detail)}
}
