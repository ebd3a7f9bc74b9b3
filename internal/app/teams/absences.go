package teams

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/app"
	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// Absences and delegations: while someone is out of office their tasks go
// to their delegate. Recording an absence starts its delegation workflow
// (workflows.Delegation) in the same step, which hands the tasks over when
// the absence starts and back when it ends; cancelling it is an Update to
// that workflow.

// DateLayout is the form of the days of an absence (Europe/Rome).
const DateLayout = "2006-01-02"

// startTimeout bounds the start of a delegation workflow.
const startTimeout = 15 * time.Second

// AbsenceRequest is an absence to record (POST /api/v1/absences): the
// absent person (the caller when empty), the delegate, the first and last
// day (inclusive, YYYY-MM-DD, Europe/Rome) and the reason.
type AbsenceRequest struct {
	User     string `json:"user"`
	Delegate string `json:"delegate"`
	From     string `json:"from"`
	To       string `json:"to"`
	Reason   string `json:"reason"`
}

// validate checks the request's form and turns the days into the range
// [first day 00:00, day after the last 00:00) in Europe/Rome.
func (req *AbsenceRequest) validate(user store.UserView, now time.Time) (store.NewAbsence, []app.FieldError) {
	var fields []app.FieldError
	req.User, req.Delegate, req.Reason = strings.TrimSpace(req.User), strings.TrimSpace(req.Delegate), strings.TrimSpace(req.Reason)
	if req.User == "" {
		req.User = user.Username
	}
	if req.Delegate == "" {
		fields = append(fields, app.Field("/delegate", "required", "teams.err.delegate_required"))
	}
	if req.Reason == "" {
		fields = append(fields, app.Field("/reason", "required", "teams.err.reason_required"))
	} else if utf8.RuneCountInString(req.Reason) > 500 {
		fields = append(fields, app.Field("/reason", "max_length", "teams.err.absence_reason_too_long"))
	}
	rome := calendar.Rome()
	from, errFrom := time.ParseInLocation(DateLayout, strings.TrimSpace(req.From), rome)
	if errFrom != nil {
		fields = append(fields, app.Field("/from", "invalid_date", "teams.err.invalid_date"))
	}
	to, errTo := time.ParseInLocation(DateLayout, strings.TrimSpace(req.To), rome)
	if errTo != nil {
		fields = append(fields, app.Field("/to", "invalid_date", "teams.err.to_invalid_date"))
	}
	local := now.In(rome)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, rome)
	if errFrom == nil && errTo == nil {
		switch {
		case to.Before(from):
			fields = append(fields, app.Field("/to", "before_from", "teams.err.before_from"))
		case to.Before(today):
			fields = append(fields, app.Field("/to", "in_the_past", "teams.err.range_in_the_past"))
		case from.Before(today):
			fields = append(fields, app.Field("/from", "in_the_past", "teams.err.from_in_the_past"))
		}
	}
	return store.NewAbsence{User: req.User, Delegate: req.Delegate, StartsAt: from, EndsAt: to.AddDate(0, 0, 1),
		Reason: req.Reason, RecordedAt: now}, fields
}

// Absences lists the current and future absences visible to user (their
// municipality's; a supervisor's district's).
func (s Service) Absences(ctx context.Context, user store.UserView) ([]store.AbsenceView, error) {
	return s.API.Absences(ctx, user.Scope(), s.Now())
}

// RecordAbsence validates and records an absence and starts its delegation
// workflow in the same step (nothing is recorded if it cannot start).
func (s Service) RecordAbsence(ctx context.Context, user store.UserView, req AbsenceRequest) (store.AbsenceView, error) {
	in, fields := req.validate(user, s.Now())
	if len(fields) > 0 {
		return store.AbsenceView{}, app.InvalidInput(fields...)
	}
	var v store.AbsenceView
	entry := store.AuditEntry{Action: "record_absence", Reason: in.Reason, Detail: app.AuditDetail(map[string]any{
		"user": in.User, "delegate": in.Delegate, "starts_at": in.StartsAt, "ends_at": in.EndsAt})}
	err := s.Audited(ctx, user, entry, func() error {
		var err error
		v, err = s.insertAbsence(ctx, user, in)
		return err
	})
	return v, storeInvalid(err)
}

// insertAbsence records the absence and starts its workflow in one step.
func (s Service) insertAbsence(ctx context.Context, user store.UserView, in store.NewAbsence) (store.AbsenceView, error) {
	return s.API.CreateAbsence(ctx, user, in, func(ctx context.Context, a store.AbsenceView) error {
		if s.Temporal == nil {
			return errors.New("no Temporal client")
		}
		ctx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                    workflows.AbsenceWorkflowID(a.ID),
			TaskQueue:             s.TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}, workflows.Delegation, workflows.DelegationInput{AbsenceID: a.ID})
		return err
	})
}

// ErrAbsenceOver refuses cancelling an absence that is over or cancelled.
var ErrAbsenceOver = app.Refuse(app.Conflict, "absence_over", "the absence is over or already cancelled")

// CancelAbsence cancels an absence visible to user: their own, or any of
// the district's for a supervisor. The delegation workflow gives back the
// tasks it handed over.
func (s Service) CancelAbsence(ctx context.Context, user store.UserView, id string) (workflows.CancelAbsenceResult, error) {
	var res workflows.CancelAbsenceResult
	a, err := s.API.Absence(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return res, app.Missing("absence")
	}
	if err != nil {
		return res, err
	}
	if user.Role != string(contract.RoleSupervisor) && a.UserID != user.ID {
		return res, app.Refuse(app.Forbidden, "forbidden", "only the absent person or a supervisor cancels an absence")
	}
	if a.Status == store.AbsenceCancelled || a.Status == store.AbsenceEnded {
		return res, ErrAbsenceOver
	}
	if s.Temporal == nil {
		return res, errors.New("no Temporal client")
	}
	entry := store.AuditEntry{Action: "cancel_absence", Detail: app.AuditDetail(map[string]any{"absence_id": a.ID, "user": a.Username})}
	err = s.Audited(ctx, user, entry, func() error {
		return s.UpdateWorkflow(ctx, workflows.AbsenceWorkflowID(a.ID), workflows.UpdateCancelAbsence, "cancel:"+a.ID, &res,
			workflows.CancelAbsenceInput{Actor: app.Actor(user)})
	})
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	if errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeAbsenceOver || errors.As(err, &nf) {
		return res, ErrAbsenceOver
	}
	return res, err
}
