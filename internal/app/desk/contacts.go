package desk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// Contact tasks: a citizen without e-mail is told of a case's news by the
// staff (a call, a letter, a home delivery of the voucher); each contact
// is a task whose outcome goes on the case timeline.

// ContactStatuses are the statuses a list of contact tasks may be filtered by.
var ContactStatuses = []string{"active", "done", "all"}

// ContactTasks lists the contact tasks user (staff) may see, by f (its
// status one of ContactStatuses, checked by the caller with the rest of
// its query).
func (s Service) ContactTasks(ctx context.Context, user store.UserView, f store.ContactFilter) ([]store.ContactTaskView, int, error) {
	if err := staffOnly(user); err != nil {
		return nil, 0, err
	}
	return s.API.ContactTasks(ctx, user.Scope(), f)
}

// ContactOutcome is the outcome of a contact: the body of POST
// /api/v1/contact-tasks/{id}/outcome and the contacts page's form.
type ContactOutcome struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// Validate trims the note and lists the problems (pointers /outcome, /note).
func (in *ContactOutcome) Validate() []app.FieldError {
	in.Note = strings.TrimSpace(in.Note)
	var fields []app.FieldError
	if !slices.Contains(store.ContactOutcomes, in.Outcome) {
		fields = append(fields, app.Field("/outcome", "enum", "desk.err.outcome_unknown", strings.Join(store.ContactOutcomes, ", ")))
	}
	if utf8.RuneCountInString(in.Note) > 1000 {
		fields = append(fields, app.Field("/note", "too_long", "desk.err.note_too_long"))
	}
	return fields
}

// RecordContact records the outcome of a contact task visible to user
// (staff), audited with acting_for; it goes on the case timeline. A task
// already recorded is a Conflict "task_not_open".
func (s Service) RecordContact(ctx context.Context, user store.UserView, taskID string, in ContactOutcome) (store.ContactTaskView, error) {
	if err := staffOnly(user); err != nil {
		return store.ContactTaskView{}, err
	}
	if fields := in.Validate(); len(fields) > 0 {
		return store.ContactTaskView{}, app.InvalidInput(fields...)
	}
	t, err := s.API.ContactTask(ctx, user.Scope(), taskID)
	if errors.Is(err, store.ErrNotFound) {
		return t, app.Missing("contact task")
	}
	if err != nil {
		return t, err
	}
	// An operator acts at their own municipality's desk: for a citizen they
	// registered who lives elsewhere in the district (migration 025), the
	// audit row is their desk's, like the registration was.
	where := t.Municipality
	if user.Role == string(contract.RoleOperator) {
		where = user.Municipality
	}
	e := store.AuditEntry{Action: AuditRecordContact, CaseID: t.CaseID, Municipality: where,
		ActingFor: t.CitizenTaxCode, Reason: in.Note,
		Detail: app.AuditDetail(map[string]any{"task_id": t.ID, "outcome": in.Outcome, "notification": t.NotificationKind})}
	var out store.ContactTaskView
	err = s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.RecordContact(ctx, user.Scope(), store.ContactOutcomeInput{TaskID: t.ID, Outcome: in.Outcome,
			Note: in.Note, Actor: user.Username, At: s.Now()})
		if errors.Is(err, store.ErrContactNoHomeDeliver) {
			return app.InvalidInput(app.Field("/outcome", "no_home_delivery", "desk.err.no_home_delivery"))
		}
		return err
	})
	return out, err
}
