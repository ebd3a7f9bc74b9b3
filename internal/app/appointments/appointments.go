// Package appointments is the Social Points' booking (issue 4): the points
// and their free slots (public), a citizen booking, seeing and cancelling
// their appointments, and the staff's agenda, cancellations and record of
// the meeting with a personal plan (operators: their municipality's points;
// supervisors: the district's). Every staff read and action is audited, with
// the appointment id in the detail.
//
// Each use case is here once: the rule, the store calls, the start of the
// appointment workflow and its Updates (cancel, record attendance). The
// JSON API (api/appointments.go) and the pages (api/web/points.go) only
// decode their input and show the result. The workflow
// (workflows/appointment.go) applies the same rules again against its state.
package appointments

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"

	"sportello/internal/app"
	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// Service does the Social Point use cases.
type Service struct{ *app.Core }

// New returns the Social Point service on core.
func New(core *app.Core) Service { return Service{core} }

// Audit actions on appointments.
const (
	AuditReadAppointment   = "read_appointment"
	AuditReadAgenda        = "read_agenda"
	AuditCancelAppointment = "cancel_appointment"
	AuditRecordAttendance  = "record_attendance"
)

// BookingDays is how far ahead citizens can book (today included).
const BookingDays = 28

// MaxTopic bounds what a citizen writes about the appointment.
const MaxTopic = 1000

// anonymous is the scope of the public reads (points, slots).
var anonymous = store.Scope{Kind: "anonymous"}

// Points lists the Social Points of district (all when empty).
func (s Service) Points(ctx context.Context, district string) ([]store.SocialPoint, error) {
	return s.API.SocialPoints(ctx, anonymous, district)
}

// Point reads a point (NotFound "social point not found").
func (s Service) Point(ctx context.Context, id string) (store.SocialPoint, error) {
	p, err := s.API.SocialPoint(ctx, anonymous, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, app.Missing("social point")
	}
	return p, err
}

// FreeSlots are the point's slots from now through BookingDays, less the
// booked ones.
func (s Service) FreeSlots(ctx context.Context, p store.SocialPoint) ([]store.Slot, error) {
	now := s.Now()
	all := p.Slots(now, BookingDays)
	if len(all) == 0 {
		return []store.Slot{}, nil
	}
	taken, err := s.API.TakenSlots(ctx, p.ID, all[0].StartsAt, all[len(all)-1].EndsAt)
	if err != nil {
		return nil, err
	}
	free := make([]store.Slot, 0, len(all))
	for _, sl := range all {
		if !taken[sl.StartsAt.UTC()] {
			free = append(free, sl)
		}
	}
	return free, nil
}

// Booking is a citizen's request for a slot.
type Booking struct {
	PointID  string `json:"point_id"`
	StartsAt string `json:"starts_at"`
	Topic    string `json:"topic"`
}

// Validate trims the booking and checks what does not depend on the point
// (pointers /point_id, /starts_at, /topic).
func (b *Booking) Validate() []app.FieldError {
	var fields []app.FieldError
	b.PointID, b.Topic = strings.TrimSpace(b.PointID), strings.TrimSpace(b.Topic)
	if b.PointID == "" {
		fields = append(fields, app.Field("/point_id", "required", "appointments.err.point_required"))
	}
	if _, err := time.Parse(time.RFC3339, strings.TrimSpace(b.StartsAt)); err != nil {
		fields = append(fields, app.Field("/starts_at", "required", "appointments.err.starts_at_required"))
	}
	if utf8.RuneCountInString(b.Topic) > MaxTopic {
		fields = append(fields, app.Field("/topic", "too_long", "appointments.err.topic_too_long"))
	}
	return fields
}

// Book checks a booking against the point's free slots and writes it for
// user, then starts its workflow. Field problems are Invalid on /point_id,
// /starts_at or /topic; a slot taken meanwhile or too many future bookings
// are a Conflict. key, when not empty, makes a retry return the same
// booking (replayed true).
func (s Service) Book(ctx context.Context, user store.UserView, b Booking, key string) (v store.AppointmentView, replayed bool, err error) {
	if fields := b.Validate(); len(fields) > 0 {
		return v, false, app.InvalidInput(fields...)
	}
	startsAt, _ := time.Parse(time.RFC3339, strings.TrimSpace(b.StartsAt))
	p, err := s.Point(ctx, b.PointID)
	var ae *app.Error
	if errors.As(err, &ae) && ae.Kind == app.NotFound {
		return v, false, app.InvalidInput(app.Field("/point_id", "unknown", "appointments.err.point_unknown"))
	}
	if err != nil {
		return v, false, err
	}
	if p.District != user.District {
		return v, false, app.InvalidInput(app.Field("/point_id", "other_district",
			"appointments.err.other_district"))
	}
	var slot *store.Slot
	for _, sl := range p.Slots(s.Now(), BookingDays) {
		if sl.StartsAt.Equal(startsAt) {
			slot = &sl
			break
		}
	}
	if slot == nil {
		return v, false, app.InvalidInput(app.Field("/starts_at", "not_a_slot",
			"appointments.err.not_a_slot"))
	}
	v, replayed, err = s.API.BookAppointment(ctx, user.Scope(), store.BookInput{ID: uuid.NewString(), PointID: p.ID,
		CitizenID: user.ID, StartsAt: slot.StartsAt, EndsAt: slot.EndsAt, Topic: b.Topic, IdempotencyKey: key, Now: s.Now()})
	if err != nil {
		return v, false, err
	}
	if err := s.start(ctx, v); err != nil {
		// Free the slot: a workflow that did start after all finds the
		// booking withdrawn and ends without a word to the citizen.
		if cerr := s.Store.CloseAppointment(context.WithoutCancel(ctx), store.CloseAppointmentInput{ID: v.ID,
			Status: store.AppointmentCancelled, By: "system", Reason: "the booking could not be confirmed", At: s.Now()}); cerr != nil {
			s.Log.WarnContext(ctx, "withdraw unstarted booking", "appointment_id", v.ID, "err", cerr)
		}
		return v, false, err
	}
	return v, replayed, nil
}

// start starts the workflow of a booking, once whatever the retries.
func (s Service) start(ctx context.Context, v store.AppointmentView) error {
	return s.StartOnce(ctx, workflows.AppointmentWorkflowID(v.ID), workflows.Appointment, workflows.AppointmentInput{
		AppointmentID: v.ID, PointID: v.PointID, CitizenID: v.CitizenID, StartsAt: v.StartsAt, EndsAt: v.EndsAt})
}

// Appointments lists the appointments user sees under f (a citizen: their
// own, f empty; staff: the agenda, whose read is audited).
func (s Service) Appointments(ctx context.Context, user store.UserView, f store.AppointmentFilter) ([]store.AppointmentView, error) {
	items, err := s.API.Appointments(ctx, user.Scope(), f)
	if err != nil {
		return nil, err
	}
	if err := s.AuditRead(ctx, user, AuditReadAgenda, "", user.Municipality, map[string]any{
		"from": f.From.Format(time.DateOnly), "to": f.To.Format(time.DateOnly), "point_id": f.PointID, "count": len(items)}); err != nil {
		return nil, err
	}
	return items, nil
}

// Appointment reads an appointment visible to user (NotFound otherwise); a
// staff read is audited.
func (s Service) Appointment(ctx context.Context, user store.UserView, id string) (store.AppointmentView, error) {
	if _, err := uuid.Parse(id); err != nil {
		return store.AppointmentView{}, app.Missing("appointment")
	}
	v, err := s.API.Appointment(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return v, app.Missing("appointment")
	}
	if err != nil {
		return v, err
	}
	return v, s.AuditRead(ctx, user, AuditReadAppointment, "", v.Municipality, map[string]any{"appointment_id": v.ID})
}

// DayOf is the start of t's day in Rome (the agenda's days are Rome days).
func DayOf(t time.Time) time.Time {
	r := t.In(calendar.Rome())
	return time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, calendar.Rome())
}

// CanCancel tells whether a is still open to cancellation at now.
func CanCancel(a store.AppointmentView, now time.Time) bool {
	return a.Status == store.AppointmentBooked && now.Before(a.StartsAt)
}

// CanRecord tells whether user may record the meeting of a at now (staff,
// from the appointment's day on).
func CanRecord(user store.UserView, a store.AppointmentView, now time.Time) bool {
	return app.IsStaff(user.Role) && a.Status == store.AppointmentBooked && !now.Before(DayOf(a.StartsAt))
}

// update sends an update to the appointment's workflow; a finished
// workflow is a Conflict "appointment_closed".
func (s Service) update(ctx context.Context, v store.AppointmentView, name, id string, arg any) (workflows.AppointmentUpdateResult, error) {
	var res workflows.AppointmentUpdateResult
	err := s.UpdateWorkflow(ctx, workflows.AppointmentWorkflowID(v.ID), name, id, &res, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		e := app.Refuse(app.Conflict, "appointment_closed", "the appointment is "+strings.ReplaceAll(v.Status, "_", " "))
		e.Cause = err
		return res, e
	}
	return res, err
}

// Audit is the audit row of an action on appointment v.
func Audit(action string, v store.AppointmentView, reason string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["appointment_id"] = v.ID
	return store.AuditEntry{Action: action, Municipality: v.Municipality, Reason: reason, Detail: app.AuditDetail(detail)}
}

// Cancellation is a request to cancel an appointment.
type Cancellation struct {
	Reason string `json:"reason"`
}

// Validate trims the reason and checks it (pointer /reason).
func (r *Cancellation) Validate() []app.FieldError {
	r.Reason = strings.TrimSpace(r.Reason)
	if r.Reason == "" {
		return []app.FieldError{app.Field("/reason", "required", "appointments.err.reason_required")}
	}
	if utf8.RuneCountInString(r.Reason) > 1000 {
		return []app.FieldError{app.Field("/reason", "too_long",
			"appointments.err.reason_too_long")}
	}
	return nil
}

// Cancel cancels an appointment visible to user, with a reason.
func (s Service) Cancel(ctx context.Context, user store.UserView, id string, r Cancellation, key string) (workflows.AppointmentUpdateResult, error) {
	return s.auditedUpdate(ctx, user, id, key, r.Validate(), func(v store.AppointmentView) step {
		return step{name: workflows.UpdateCancel, idKey: "cancel:" + v.ID,
			arg:    workflows.CancelAppointmentInput{Actor: app.Actor(user), Reason: r.Reason},
			action: AuditCancelAppointment, reason: r.Reason}
	})
}

// step is one update of an appointment: the update's name, the part of its
// id the caller's idempotency key completes, its argument, and the audit
// row's action, reason and detail.
type step struct {
	name, idKey    string
	arg            any
	action, reason string
	detail         map[string]any
}

// auditedUpdate sends, audited, the update next makes for the appointment id
// visible to user, once the request has no problems of its own (fields).
func (s Service) auditedUpdate(ctx context.Context, user store.UserView, id, key string, fields []app.FieldError,
	next func(v store.AppointmentView) step) (workflows.AppointmentUpdateResult, error) {
	var res workflows.AppointmentUpdateResult
	if len(fields) > 0 {
		return res, app.InvalidInput(fields...)
	}
	v, err := s.Appointment(ctx, user, id)
	if err != nil {
		return res, err
	}
	st := next(v)
	err = s.Audited(ctx, user, Audit(st.action, v, st.reason, st.detail), func() error {
		res, err = s.update(ctx, v, st.name, app.UpdateID(user, st.idKey, key), st.arg)
		return err
	})
	return res, err
}

// Attendance is the record of a meeting: whether the citizen came, and the
// personal plan agreed.
type Attendance struct {
	Attended *bool                   `json:"attended"`
	Plan     *workflows.PersonalPlan `json:"plan"`
}

// planFields are the plan's fields with their pointers.
func planFields(p *workflows.PersonalPlan) []struct{ Pointer, Value string } {
	if p == nil {
		return nil
	}
	return []struct{ Pointer, Value string }{
		{"/plan/needs", p.Needs}, {"/plan/services", p.Services}, {"/plan/next_steps", p.NextSteps}, {"/plan/notes", p.Notes},
	}
}

// Validate checks the record (pointers /attended, /plan/...).
func (a Attendance) Validate() []app.FieldError {
	var fields []app.FieldError
	if a.Attended == nil {
		fields = append(fields, app.Field("/attended", "required", "appointments.err.attended_required"))
	}
	for _, f := range planFields(a.Plan) {
		if utf8.RuneCountInString(f.Value) > 4000 {
			fields = append(fields, app.Field(f.Pointer, "too_long", "appointments.err.plan_text_too_long"))
		}
	}
	return fields
}

// RecordAttendance records the meeting of an appointment visible to user.
func (s Service) RecordAttendance(ctx context.Context, user store.UserView, id string, a Attendance, key string) (workflows.AppointmentUpdateResult, error) {
	return s.auditedUpdate(ctx, user, id, key, a.Validate(), func(v store.AppointmentView) step {
		return step{name: workflows.UpdateRecordAttendance, idKey: "attendance:" + v.ID,
			arg:    workflows.RecordAttendanceInput{Actor: app.Actor(user), Attended: *a.Attended, Plan: a.Plan},
			action: AuditRecordAttendance, detail: map[string]any{"attended": *a.Attended, "plan": a.Plan != nil && !a.Plan.Empty()}}
	})
}

// isSupervisor is for the agenda's list of points.
func isSupervisor(user store.UserView) bool { return user.Role == string(contract.RoleSupervisor) }

// AgendaPoints are the points whose agenda user keeps: a supervisor's
// district, an operator's municipality.
func (s Service) AgendaPoints(ctx context.Context, user store.UserView) ([]store.SocialPoint, error) {
	points, err := s.Points(ctx, user.District)
	if err != nil {
		return nil, err
	}
	var out []store.SocialPoint
	for _, p := range points {
		if isSupervisor(user) || p.Municipality == user.Municipality {
			out = append(out, p)
		}
	}
	return out, nil
}
