// Package casework is the social workers' review of applications: reading
// the tasks of their inbox, claiming and releasing them, deciding them
// (approve, reject, ask for information, four eyes above the threshold),
// assigning them (supervisors) and doing either for a selection at once.
//
// Each use case is here once: the rule, the authorization decision, the
// store reads and the Temporal Update to the case workflow, audited. The
// JSON API (api/tasks.go, assign.go, bulk.go) and the inbox pages
// (api/web/staff*.go, bulk.go) only decode their input and show the
// result. The workflow (workflows/food_voucher.go) applies the same rules
// again in its update validators, against its own state.
package casework

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"sportello/internal/app"
	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// Service does the review use cases.
type Service struct{ *app.Core }

// New returns the review service on core.
func New(core *app.Core) Service { return Service{core} }

// ErrContactTask refuses review actions on a Social Point contact task.
var ErrContactTask = app.Refuse(app.Conflict, "contact_task",
	"this is a Social Point contact task, not a review: record its outcome with POST /api/v1/contact-tasks/{id}/outcome")

// Task reads a task under user's scope: a task of another municipality (or
// district) is simply not found.
func (s Service) Task(ctx context.Context, user store.UserView, id string) (store.TaskView, error) {
	t, err := s.API.Task(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, app.Missing("task")
	}
	return t, err
}

// ReviewTask is Task for the review actions: a contact task is refused.
func (s Service) ReviewTask(ctx context.Context, user store.UserView, id string) (store.TaskView, error) {
	t, err := s.Task(ctx, user, id)
	if err == nil && t.Kind == store.TaskKindContact {
		return t, ErrContactTask
	}
	return t, err
}

// Claim claims a task visible to user for them. key, when not empty, makes
// a retried claim apply once. Someone out of office cannot claim: their
// tasks go to their delegate.
func (s Service) Claim(ctx context.Context, user store.UserView, taskID, key string) (workflows.ClaimResult, error) {
	var res workflows.ClaimResult
	t, err := s.ReviewTask(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	err = s.Audited(ctx, user, app.TaskAudit(store.AuditClaim, t, "", nil), func() error {
		if err := s.refuseOutOfOffice(ctx, user); err != nil {
			return err
		}
		return s.Update(ctx, t.CaseID, workflows.UpdateClaim, app.UpdateID(user, "claim:"+t.ID, key), &res,
			workflows.ClaimInput{TaskID: t.ID, Actor: app.Actor(user)})
	})
	return res, err
}

// Release gives back a task user has claimed.
func (s Service) Release(ctx context.Context, user store.UserView, taskID, key string) (workflows.ReleaseResult, error) {
	var res workflows.ReleaseResult
	t, err := s.ReviewTask(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	err = s.Audited(ctx, user, app.TaskAudit(store.AuditRelease, t, "", nil), func() error {
		return s.Update(ctx, t.CaseID, workflows.UpdateRelease, app.UpdateID(user, "release:"+t.ID, key), &res,
			workflows.ReleaseInput{TaskID: t.ID, Actor: app.Actor(user)})
	})
	return res, err
}

// Decision is a social worker's decision on a review task.
type Decision struct {
	Outcome     string `json:"outcome"`
	AmountCents *int64 `json:"amount_cents"`
	Reason      string `json:"reason"`
}

var outcomes = []string{workflows.OutcomeApprove, workflows.OutcomeReject, workflows.OutcomeRequestInfo}

// MaxAmountCents bounds every amount a decision may award (one million euro).
const MaxAmountCents = 100_000_000

// Validate trims the decision and checks what does not depend on the task
// (field pointers /outcome, /amount_cents, /reason).
func (d *Decision) Validate() []app.FieldError {
	var fields []app.FieldError
	if !slices.Contains(outcomes, d.Outcome) {
		fields = append(fields, app.Field("/outcome", "enum", "casework.err.outcome_enum"))
	}
	if d.AmountCents != nil && *d.AmountCents < 0 {
		fields = append(fields, app.Field("/amount_cents", "minimum", "casework.err.amount_cents_negative"))
	} else if d.AmountCents != nil && *d.AmountCents > MaxAmountCents {
		fields = append(fields, app.Field("/amount_cents", "maximum", "casework.err.amount_too_large"))
	}
	d.Reason = strings.TrimSpace(d.Reason)
	if d.Reason == "" && (d.Outcome == workflows.OutcomeReject || d.Outcome == workflows.OutcomeRequestInfo) {
		fields = append(fields, app.Field("/reason", "required", "casework.err.reason_required"))
	}
	if utf8.RuneCountInString(d.Reason) > 2000 {
		fields = append(fields, app.Field("/reason", "too_long", "casework.err.reason_too_long"))
	}
	return fields
}

// Decide checks a decision and sends it to the case workflow of a task
// visible to user. Field problems are Invalid with pointers /outcome,
// /amount_cents and /reason, whether found here or by the workflow.
func (s Service) Decide(ctx context.Context, user store.UserView, taskID string, d Decision, key string) (workflows.DecideResult, error) {
	var res workflows.DecideResult
	if fields := d.Validate(); len(fields) > 0 {
		return res, app.InvalidInput(fields...)
	}
	t, err := s.ReviewTask(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	in := workflows.DecideInput{TaskID: t.ID, Actor: app.Actor(user), Outcome: d.Outcome, Reason: d.Reason}
	detail := map[string]any{"outcome": d.Outcome}
	if d.AmountCents != nil {
		in.AmountCents = *d.AmountCents
		detail["amount_cents"] = *d.AmountCents
	}
	err = s.Audited(ctx, user, app.TaskAudit(store.AuditDecide, t, d.Reason, detail), func() error {
		return s.Update(ctx, t.CaseID, workflows.UpdateDecide, app.UpdateID(user, "decide:"+t.ID, key), &res, in)
	})
	return res, err
}

// Assignment gives a task to someone.
type Assignment struct {
	Assignee string `json:"assignee"`
	Reason   string `json:"reason"`
}

// Validate trims the assignment and checks what does not depend on the task.
func (a *Assignment) Validate() []app.FieldError {
	a.Assignee, a.Reason = strings.TrimSpace(a.Assignee), strings.TrimSpace(a.Reason)
	if a.Assignee == "" {
		return []app.FieldError{app.Field("/assignee", "required", "casework.err.assignee_required")}
	}
	if len(a.Reason) > 2000 {
		return []app.FieldError{app.Field("/reason", "max_length", "casework.err.assign_reason_too_long")}
	}
	return nil
}

// errSupervisorsOnly refuses assignments by anyone but a supervisor.
var errSupervisorsOnly = app.Refuse(app.Forbidden, "forbidden", "your role may not use this resource")

// Assign gives a task to a staff member of its municipality or a
// supervisor of its district (supervisors only), with a reason when it is
// taken from someone. Someone out of office cannot be given a task.
func (s Service) Assign(ctx context.Context, user store.UserView, taskID string, a Assignment, key string) (workflows.AssignResult, error) {
	var res workflows.AssignResult
	if user.Role != string(contract.RoleSupervisor) {
		return res, errSupervisorsOnly
	}
	if fields := a.Validate(); len(fields) > 0 {
		return res, app.InvalidInput(fields...)
	}
	t, err := s.ReviewTask(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	who, err := s.API.Assignee(ctx, a.Assignee, user.District, t.Municipality)
	if errors.Is(err, store.ErrNotFound) {
		return res, app.InvalidInput(app.Field("/assignee", "unknown_assignee",
			"casework.err.unknown_assignee"))
	}
	if err != nil {
		return res, err
	}
	if err := s.refuseAbsent(ctx, who); err != nil {
		return res, err
	}
	err = s.Audited(ctx, user, app.TaskAudit("assign", t, a.Reason, map[string]any{"assignee": who.Username}), func() error {
		return s.Update(ctx, t.CaseID, workflows.UpdateAssign, app.UpdateID(user, "assign:"+t.ID+":"+who.Username, key), &res,
			workflows.AssignInput{TaskID: t.ID, Actor: app.Actor(user), Assignee: app.Actor(who), Reason: a.Reason})
	})
	return res, err
}

// refuseAbsent refuses giving a task to someone out of office, naming
// their delegate.
func (s Service) refuseAbsent(ctx context.Context, who store.UserView) error {
	a, away, err := s.API.AbsenceAt(ctx, who.ID, s.Now())
	if err != nil || !away {
		return err
	}
	until := a.EndsAt.In(calendar.Rome()).Add(-time.Minute).Format("02/01/2006")
	return app.InvalidInput(app.Field("/assignee", "assignee_absent",
		"casework.err.assignee_absent", who.Username, until, a.Delegate))
}

// refuseOutOfOffice refuses a claim by someone out of office: while they
// are away their tasks go to their delegate (the case's claim path refuses
// them too, under a lock shared with the delegation's handover).
func (s Service) refuseOutOfOffice(ctx context.Context, user store.UserView) error {
	a, away, err := s.API.AbsenceAt(ctx, user.ID, s.Now())
	if err != nil || !away {
		return err
	}
	return app.Refuse(app.Conflict, store.CodeOutOfOffice, store.OutOfOfficeMessage(a.EndsAt, a.Delegate))
}
