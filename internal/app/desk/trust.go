package desk

import (
	"context"
	"errors"
	"slices"

	"sportello/internal/app"
	"sportello/internal/notify"
	"sportello/internal/store"
)

// Trust at the desk: the district's shared desk, and the recoveries of
// active accounts (their code goes to the citizen's e-mail, or, without
// one, waits for a supervisor's approval and is handed over at the desk).

var errMailUnavailable = app.Refuse(app.Unavailable, "mail_unavailable",
	"the e-mail with the citizen's code cannot be sent now, so nothing was changed; try again later")

// sendRecoveryCode e-mails a recovery code to its citizen. Any failure is an
// error: the recovery is then not recorded and no code is live.
func (s Service) sendRecoveryCode(ctx context.Context, rc store.RecoveryCode, origin string) error {
	if s.Mail == nil || rc.Citizen.Email == "" {
		return errMailUnavailable
	}
	msg, err := notify.Render(notify.KindAccountRecovery, "it", map[string]any{
		"name": rc.Citizen.DisplayName, "portal_url": origin, "path": "/attiva", "activate_url": origin + "/attiva",
		"username": rc.Citizen.Username, "code": rc.Code.Code, "expires_at": rc.Code.ExpiresAt, "requested_at": s.Now()})
	if err != nil {
		return err
	}
	msg.To, msg.ToName, msg.Key = rc.Citizen.Email, rc.Citizen.DisplayName, "recovery:"+rc.Citizen.PublicID+":"+rc.Code.ExpiresAt.Format("20060102T150405.000")
	if err := s.Mail.Send(ctx, msg); err != nil {
		s.Log.WarnContext(ctx, "recovery e-mail not sent", "citizen", rc.Citizen.PublicID, "err", err)
		return errMailUnavailable
	}
	return nil
}

// Sharing is the body and answer of /api/v1/district/desk-sharing: whether
// the district's operators serve the citizens of every municipality of the
// district at their desk.
type Sharing struct {
	Shared *bool `json:"shared"`
}

// Validate checks that the sharing is said (pointer /shared).
func (in *Sharing) Validate() []app.FieldError {
	if in.Shared == nil {
		return []app.FieldError{app.Field("/shared", "required", "desk.err.shared_required")}
	}
	return nil
}

// DeskShared tells whether user's district (a supervisor's) shares its desk.
func (s Service) DeskShared(ctx context.Context, user store.UserView) (bool, error) {
	if err := supervisorsOnly(user); err != nil {
		return false, err
	}
	return s.API.DeskShared(ctx, user.Scope())
}

// SetSharing turns the sharing of user's district desk on or off (a
// supervisor), audited with the new value.
func (s Service) SetSharing(ctx context.Context, user store.UserView, in Sharing) error {
	if err := supervisorsOnly(user); err != nil {
		return err
	}
	if fields := in.Validate(); len(fields) > 0 {
		return app.InvalidInput(fields...)
	}
	e := store.AuditEntry{Action: AuditDeskSharing, Detail: app.AuditDetail(map[string]any{"shared": *in.Shared})}
	return s.Audited(ctx, user, e, func() error {
		_, err := s.API.SetDeskShared(ctx, user.Scope(), *in.Shared)
		return err
	})
}

// RecoveryStatuses are the statuses a list of recoveries may be filtered
// by ("": any).
var RecoveryStatuses = []string{"", store.RecoverySent, store.RecoveryAwaitingApproval, store.RecoveryApproved, store.RecoveryRefused}

// RecoveryLimit is how many recoveries a list shows, newest first.
const RecoveryLimit = 200

// Recoveries lists the recoveries of user's district (a supervisor's) with
// status (any when ""; another value is Invalid, parameter "status").
func (s Service) Recoveries(ctx context.Context, user store.UserView, status string) ([]store.Recovery, error) {
	if err := supervisorsOnly(user); err != nil {
		return nil, err
	}
	if !slices.Contains(RecoveryStatuses, status) {
		return nil, app.InvalidInput(app.Param("status", "invalid", "desk.err.status_invalid"))
	}
	return s.API.Recoveries(ctx, user.Scope(), status, RecoveryLimit)
}

// RecoveryDecision is a supervisor's decision on a recovery: the body of
// POST /api/v1/recoveries/{id}/decision.
type RecoveryDecision struct {
	Approve *bool `json:"approve"`
}

// Validate checks that the decision is said (pointer /approve).
func (in *RecoveryDecision) Validate() []app.FieldError {
	if in.Approve == nil {
		return []app.FieldError{app.Field("/approve", "required", "desk.err.approve_required")}
	}
	return nil
}

// DecideRecovery approves or refuses a recovery of user's district (a
// supervisor's), audited with acting_for; an approval returns the code,
// shown once.
func (s Service) DecideRecovery(ctx context.Context, user store.UserView, id string, in RecoveryDecision) (store.Recovery, *store.RecoveryCode, error) {
	if err := supervisorsOnly(user); err != nil {
		return store.Recovery{}, nil, err
	}
	if fields := in.Validate(); len(fields) > 0 {
		return store.Recovery{}, nil, app.InvalidInput(fields...)
	}
	approve := *in.Approve
	r, err := s.API.Recovery(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, app.Missing("recovery")
	}
	if err != nil {
		return r, nil, err
	}
	e := store.AuditEntry{Action: AuditDecideRecovery, Municipality: r.Municipality, ActingFor: r.TaxCode,
		Detail: app.AuditDetail(map[string]any{"recovery_id": r.ID, "citizen_id": r.CitizenID, "approve": approve})}
	var code *store.RecoveryCode
	err = s.Audited(ctx, user, e, func() error {
		var err error
		r, code, err = s.API.DecideRecovery(ctx, user.Scope(), id, approve, s.Now())
		return err
	})
	return r, code, err
}
