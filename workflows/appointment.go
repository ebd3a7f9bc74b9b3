package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/calendar"
	"sportello/internal/contract"
)

// apptActs is how the appointment workflow names its activities: methods
// on a nil *Appointments.
var apptActs *activities.Appointments

// ReminderLead is how long before an appointment its reminder goes out; a
// booking made later than that gets no reminder.
const ReminderLead = 24 * time.Hour

// Limits of what an update may carry.
const (
	maxCancelReason = 1000
	maxPlanField    = 4000
)

// Appointment drives one booking at a Social Point: it takes the booking in
// hand and confirms it to the citizen, reminds them the day before, then
// waits for an operator to record the meeting (attended or not, with an
// optional personal plan) or for a cancellation before the start. Nobody
// recording anything by the end of the working day after the appointment's
// day closes it as a no-show.
func Appointment(ctx workflow.Context, in AppointmentInput) (AppointmentResult, error) {
	s := &appointment{in: in, status: AppointmentBooked}
	if err := s.setup(ctx); err != nil {
		return AppointmentResult{}, err
	}
	return s.run(ctx)
}

type appointment struct {
	in        AppointmentInput
	status    string
	reminded  bool
	closing   bool // an update handler is writing the final status
	notifySeq int
	notifying int
	mainOpts  workflow.ActivityOptions
	localOpts workflow.LocalActivityOptions
	notifyOpt workflow.LocalActivityOptions
}

func (s *appointment) setup(ctx workflow.Context) error {
	s.mainOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	s.localOpts = workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 5},
	}
	s.notifyOpt = workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (AppointmentState, error) {
		return AppointmentState{Status: s.status, StartsAt: s.in.StartsAt, Reminded: s.reminded}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRecordAttendance, s.recordAttendance,
		workflow.UpdateHandlerOptions{Validator: s.validateAttendance}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel, s.cancel,
		workflow.UpdateHandlerOptions{Validator: s.validateCancel})
}

func (s *appointment) run(ctx workflow.Context) (AppointmentResult, error) {
	mctx := workflow.WithActivityOptions(ctx, s.mainOpts)
	var rec activities.RecordBookingResult
	if err := workflow.ExecuteActivity(mctx, apptActs.RecordBooking, activities.AppointmentActionInput{
		AppointmentID: s.in.AppointmentID, At: workflow.Now(ctx)}).Get(ctx, &rec); err != nil {
		return AppointmentResult{}, err
	}
	if rec.Status != AppointmentBooked {
		// The API withdrew a booking whose start it could not confirm: nothing to do.
		s.status = rec.Status
		return AppointmentResult{Status: s.status}, nil
	}
	s.notify(ctx, activities.KindAppointmentBooked, nil)

	// The reminder, the day before, unless the booking came later than that.
	if remindAt := s.in.StartsAt.Add(-ReminderLead); remindAt.After(workflow.Now(ctx)) {
		closed, err := s.closedBefore(ctx, remindAt)
		if err != nil {
			return AppointmentResult{}, err
		}
		if !closed {
			if err := workflow.ExecuteActivity(mctx, apptActs.RemindAppointment, activities.AppointmentActionInput{
				AppointmentID: s.in.AppointmentID, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
				return AppointmentResult{}, err
			}
			s.reminded = true
			s.notify(ctx, activities.KindAppointmentReminder, nil)
		}
	}

	// Attendance or cancellation; else, after the grace, a no-show.
	closed, err := s.closedBefore(ctx, NoShowDeadline(s.in.StartsAt))
	if err != nil {
		return AppointmentResult{}, err
	}
	if !closed {
		s.closing = true // refuses updates from here on
		if err := workflow.ExecuteActivity(mctx, apptActs.CloseAppointment, activities.CloseAppointmentInput{
			ID: s.in.AppointmentID, Status: AppointmentNoShow, By: "system", At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
			return AppointmentResult{}, err
		}
		s.status, s.closing = AppointmentNoShow, false
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && s.notifying == 0 }); err != nil {
		return AppointmentResult{}, err
	}
	return AppointmentResult{Status: s.status, Reminded: s.reminded}, nil
}

// closedBefore waits until the appointment is closed or t comes; a close
// being written when t comes is waited for. It reports whether it closed.
func (s *appointment) closedBefore(ctx workflow.Context, t time.Time) (bool, error) {
	closed := func() bool { return s.status != AppointmentBooked }
	for {
		wait := t.Sub(workflow.Now(ctx))
		if wait <= 0 {
			if err := workflow.Await(ctx, func() bool { return !s.closing }); err != nil {
				return false, err
			}
			return closed(), nil
		}
		ok, err := workflow.AwaitWithTimeout(ctx, wait, closed)
		if err != nil || ok {
			return ok, err
		}
	}
}

// NoShowDeadline is when an appointment nobody recorded becomes a no-show:
// the end (midnight, Rome time) of the working day after the appointment's day.
func NoShowDeadline(startsAt time.Time) time.Time {
	next := calendar.AddWorkingDays(startsAt, 1).In(calendar.Rome())
	return time.Date(next.Year(), next.Month(), next.Day()+1, 0, 0, 0, 0, calendar.Rome())
}

// dayStart is the start (midnight, Rome time) of t's day.
func dayStart(t time.Time) time.Time {
	r := t.In(calendar.Rome())
	return time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, calendar.Rome())
}

func (s *appointment) open() error {
	if s.status != AppointmentBooked || s.closing {
		status := s.status
		if s.closing {
			status = "being closed"
		}
		return temporal.NewApplicationError("the appointment is "+strings.ReplaceAll(status, "_", " "), ErrTypeAppointmentClosed)
	}
	return nil
}

func (s *appointment) validateCancel(ctx workflow.Context, in CancelAppointmentInput) error {
	if in.Actor.UserID != s.in.CitizenID && !isStaff(in.Actor) {
		return temporal.NewApplicationError("only the citizen or the Social Point's staff can cancel", ErrTypeForbidden)
	}
	if err := s.open(); err != nil {
		return err
	}
	if !workflow.Now(ctx).Before(s.in.StartsAt) {
		return temporal.NewApplicationError("the appointment has already started: it can no longer be cancelled",
			ErrTypeAppointmentStarted)
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return invalid("/reason", "appointments.err.cancel_reason_required")
	}
	if utf8.RuneCountInString(reason) > maxCancelReason {
		return invalid("/reason", "appointments.err.cancel_reason_too_long", maxCancelReason)
	}
	return nil
}

func (s *appointment) cancel(ctx workflow.Context, in CancelAppointmentInput) (AppointmentUpdateResult, error) {
	reason := strings.TrimSpace(in.Reason)
	if err := s.close(ctx, activities.CloseAppointmentInput{ID: s.in.AppointmentID, Status: AppointmentCancelled,
		By: in.Actor.Username, Reason: reason, At: workflow.Now(ctx)}); err != nil {
		return AppointmentUpdateResult{}, err
	}
	s.notify(ctx, activities.KindAppointmentCancelled, map[string]any{"reason": reason,
		"by_staff": in.Actor.UserID != s.in.CitizenID})
	return AppointmentUpdateResult{Status: s.status}, nil
}

func (s *appointment) validateAttendance(ctx workflow.Context, in RecordAttendanceInput) error {
	if !isStaff(in.Actor) {
		return temporal.NewApplicationError("only the Social Point's staff record attendance", ErrTypeForbidden)
	}
	if err := s.open(); err != nil {
		return err
	}
	if workflow.Now(ctx).Before(dayStart(s.in.StartsAt)) {
		return temporal.NewApplicationError("attendance is recorded from the day of the appointment", ErrTypeAppointmentNotYet)
	}
	if in.Plan == nil {
		return nil
	}
	for _, f := range []struct{ pointer, value string }{
		{"/plan/needs", in.Plan.Needs}, {"/plan/services", in.Plan.Services},
		{"/plan/next_steps", in.Plan.NextSteps}, {"/plan/notes", in.Plan.Notes},
	} {
		if utf8.RuneCountInString(f.value) > maxPlanField {
			return invalid(f.pointer, "appointments.err.plan_field_too_long", maxPlanField)
		}
	}
	return nil
}

func (s *appointment) recordAttendance(ctx workflow.Context, in RecordAttendanceInput) (AppointmentUpdateResult, error) {
	status := AppointmentNotAttended
	if in.Attended {
		status = AppointmentAttended
	}
	var plan *PersonalPlan
	if in.Plan != nil {
		p := PersonalPlan{Needs: strings.TrimSpace(in.Plan.Needs), Services: strings.TrimSpace(in.Plan.Services),
			NextSteps: strings.TrimSpace(in.Plan.NextSteps), Notes: strings.TrimSpace(in.Plan.Notes)}
		if !p.Empty() {
			plan = &p
		}
	}
	if err := s.close(ctx, activities.CloseAppointmentInput{ID: s.in.AppointmentID, Status: status,
		By: in.Actor.Username, Plan: plan, At: workflow.Now(ctx)}); err != nil {
		return AppointmentUpdateResult{}, err
	}
	return AppointmentUpdateResult{Status: s.status}, nil
}

// close writes the final status from an update handler.
func (s *appointment) close(ctx workflow.Context, in activities.CloseAppointmentInput) error {
	s.closing = true
	defer func() { s.closing = false }()
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, s.localOpts), apptActs.CloseAppointment, in).Get(ctx, nil)
	if err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == contract.ErrTypeAppointmentClosed {
			return temporal.NewApplicationError(ae.Message(), ErrTypeAppointmentClosed)
		}
		return err
	}
	s.status = in.Status
	return nil
}

// notify tells the citizen in the background; the workflow ends only when
// every notification has been handled.
func (s *appointment) notify(ctx workflow.Context, kind string, data map[string]any) {
	s.notifySeq++
	in := activities.AppointmentNotifyInput{Key: fmt.Sprintf("%s:notify:%d:%s", AppointmentWorkflowID(s.in.AppointmentID),
		s.notifySeq, kind), AppointmentID: s.in.AppointmentID, Kind: kind, Data: data, At: workflow.Now(ctx)}
	notifyInBackground(ctx, s.notifyOpt, &s.notifying, in.Key, apptActs.NotifyAppointment, in)
}

// notifyInBackground runs a notification's local activity in a workflow
// goroutine, counting it in *running until it is handled; a notification
// that cannot be delivered is logged, never an error of the workflow.
func notifyInBackground(ctx workflow.Context, opts workflow.LocalActivityOptions, running *int, key string, act, in any) {
	*running++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { *running-- }()
		f := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(gctx, opts), act, in)
		if err := f.Get(gctx, nil); err != nil {
			workflow.GetLogger(gctx).Warn("notification not delivered", "key", key, "error", err)
		}
	})
}
