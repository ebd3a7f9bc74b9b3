package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"sportello/activities"
)

// Wednesday 2026-03-04 10:00 in Rome, booked on Monday 2026-03-02 10:00
// (start): the reminder is due on Tuesday 10:00, the no-show deadline is
// the end of Thursday (the working day after the appointment's).
var apptStart = time.Date(2026, 3, 4, 10, 0, 0, 0, rome)

type appointmentSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env      *testsuite.TestWorkflowEnvironment
	lock     sync.Mutex
	booked   []activities.AppointmentActionInput
	reminded []activities.AppointmentActionInput
	closed   []activities.CloseAppointmentInput
	notes    []activities.AppointmentNotifyInput
	// bookedStatus is what RecordBooking finds in the database.
	bookedStatus string
}

func TestAppointmentWorkflow(t *testing.T) { suite.Run(t, new(appointmentSuite)) }

func (s *appointmentSuite) SetupTest() {
	s.env = newTestEnv(&s.WorkflowTestSuite, errorsOnly)
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Appointments{})
	s.booked, s.reminded, s.closed, s.notes = nil, nil, nil, nil
	s.bookedStatus = AppointmentBooked
	s.env.OnActivity(apptActs.RecordBooking, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AppointmentActionInput) (activities.RecordBookingResult, error) {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.booked = append(s.booked, in)
			return activities.RecordBookingResult{Status: s.bookedStatus}, nil
		})
	s.env.OnActivity(apptActs.RemindAppointment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AppointmentActionInput) error {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.reminded = append(s.reminded, in)
			return nil
		})
	s.env.OnActivity(apptActs.CloseAppointment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CloseAppointmentInput) error {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.closed = append(s.closed, in)
			return nil
		})
	s.env.OnActivity(apptActs.NotifyAppointment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AppointmentNotifyInput) error {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.notes = append(s.notes, in)
			return nil
		})
}

func (s *appointmentSuite) run(startsAt time.Time) AppointmentResult {
	s.env.ExecuteWorkflow(Appointment, AppointmentInput{AppointmentID: "a1", PointID: "sp-tradate", CitizenID: citizen.UserID,
		StartsAt: startsAt, EndsAt: startsAt.Add(30 * time.Minute)})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res AppointmentResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Require().Len(s.booked, 1, "the booking is recorded once")
	return res
}

func (s *appointmentSuite) update(delay time.Duration, name string, arg any) *updateOutcome {
	out := &updateOutcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { out.rejected = err },
			OnComplete: func(r any, err error) { out.result, out.err = r, err },
		}, arg)
	}, delay)
	return out
}

func (s *appointmentSuite) kinds() []string {
	var out []string
	for _, n := range s.notes {
		out = append(out, n.Kind)
	}
	return out
}

var plan = &PersonalPlan{Needs: " Affitto arretrato ", Services: "Contributo affitto", NextSteps: "Domanda entro il 15", Notes: ""}

// The reminder fires 24 hours before the start; an attendance recorded
// that day closes the appointment with the plan.
func (s *appointmentSuite) TestReminderTheDayBeforeThenAttendanceWithPlan() {
	att := s.update(apptStart.Add(10*time.Minute).Sub(start), UpdateRecordAttendance,
		RecordAttendanceInput{Actor: worker, Attended: true, Plan: plan})
	res := s.run(apptStart)
	s.NoError(att.rejected)
	s.NoError(att.err)
	s.Equal(AppointmentResult{Status: AppointmentAttended, Reminded: true}, res)
	s.Require().Len(s.reminded, 1)
	s.True(s.reminded[0].At.Equal(apptStart.Add(-24*time.Hour)), "reminded at %v", s.reminded[0].At)
	s.Equal([]string{activities.KindAppointmentBooked, activities.KindAppointmentReminder}, s.kinds())
	s.Require().Len(s.closed, 1)
	c := s.closed[0]
	s.Equal(AppointmentAttended, c.Status)
	s.Equal(worker.Username, c.By)
	s.Require().NotNil(c.Plan)
	s.Equal("Affitto arretrato", c.Plan.Needs, "plan fields are trimmed")
	s.Equal("Domanda entro il 15", c.Plan.NextSteps)
}

// Booked less than 24 hours ahead: no reminder.
func (s *appointmentSuite) TestNoReminderWhenBookedLate() {
	startsAt := start.Add(3 * time.Hour)
	att := s.update(3*time.Hour+5*time.Minute, UpdateRecordAttendance, RecordAttendanceInput{Actor: worker, Attended: false})
	res := s.run(startsAt)
	s.NoError(att.rejected)
	s.Equal(AppointmentResult{Status: AppointmentNotAttended}, res)
	s.Empty(s.reminded)
	s.Equal([]string{activities.KindAppointmentBooked}, s.kinds())
	s.Require().Len(s.closed, 1)
	s.Nil(s.closed[0].Plan)
}

// The citizen cancels before the start, with a reason: closed, told, and
// no reminder follows.
func (s *appointmentSuite) TestCancelBeforeStart() {
	c := s.update(time.Hour, UpdateCancel, CancelAppointmentInput{Actor: citizen, Reason: "  Impegno di lavoro "})
	res := s.run(apptStart)
	s.NoError(c.rejected)
	s.NoError(c.err)
	s.Equal(AppointmentUpdateResult{Status: AppointmentCancelled}, c.result)
	s.Equal(AppointmentResult{Status: AppointmentCancelled}, res)
	s.Empty(s.reminded)
	s.Require().Len(s.closed, 1)
	s.Equal("Impegno di lavoro", s.closed[0].Reason)
	s.Equal([]string{activities.KindAppointmentBooked, activities.KindAppointmentCancelled}, s.kinds())
	s.Equal(false, s.notes[1].Data["by_staff"])
}

// After the start nobody can cancel; the operator records the meeting.
func (s *appointmentSuite) TestCancelRefusedAfterStart() {
	late := s.update(apptStart.Add(time.Minute).Sub(start), UpdateCancel, CancelAppointmentInput{Actor: citizen, Reason: "traffico"})
	op := s.update(apptStart.Add(time.Minute).Sub(start), UpdateCancel, CancelAppointmentInput{Actor: worker, Reason: "assente"})
	s.update(apptStart.Add(time.Hour).Sub(start), UpdateRecordAttendance, RecordAttendanceInput{Actor: worker, Attended: true})
	res := s.run(apptStart)
	s.Equal(ErrTypeAppointmentStarted, appErrType(late.rejected))
	s.Equal(ErrTypeAppointmentStarted, appErrType(op.rejected))
	s.Equal(AppointmentAttended, res.Status)
	s.Require().Len(s.closed, 1)
}

// Nobody records anything: at the end of the next working day it is a no-show.
func (s *appointmentSuite) TestNoShowAtTheDeadline() {
	res := s.run(apptStart)
	s.Equal(AppointmentResult{Status: AppointmentNoShow, Reminded: true}, res)
	s.Require().Len(s.closed, 1)
	want := time.Date(2026, 3, 6, 0, 0, 0, 0, rome) // end of Thursday 5 March
	s.Equal(AppointmentNoShow, s.closed[0].Status)
	s.Equal("system", s.closed[0].By)
	s.True(s.closed[0].At.Equal(want), "no-show at %v, want %v", s.closed[0].At, want)
}

// Validators: wrong state or actor is refused before anything is written.
func (s *appointmentSuite) TestValidators() {
	early := s.update(time.Hour, UpdateRecordAttendance, RecordAttendanceInput{Actor: worker, Attended: true})
	byCitizen := s.update(time.Hour, UpdateRecordAttendance, RecordAttendanceInput{Actor: citizen, Attended: true})
	stranger := s.update(time.Hour, UpdateCancel, CancelAppointmentInput{Actor: Actor{UserID: 99, Role: "citizen"}, Reason: "x"})
	noReason := s.update(time.Hour, UpdateCancel, CancelAppointmentInput{Actor: citizen, Reason: "  "})
	long := make([]byte, maxPlanField+1)
	for i := range long {
		long[i] = 'a'
	}
	tooLong := s.update(apptStart.Sub(start), UpdateRecordAttendance,
		RecordAttendanceInput{Actor: worker, Attended: true, Plan: &PersonalPlan{Notes: string(long)}})
	s.update(apptStart.Add(time.Minute).Sub(start), UpdateRecordAttendance, RecordAttendanceInput{Actor: worker, Attended: true})
	twice := s.update(apptStart.Add(time.Minute).Sub(start), UpdateRecordAttendance, RecordAttendanceInput{Actor: worker, Attended: false})
	res := s.run(apptStart)
	s.Equal(ErrTypeAppointmentNotYet, appErrType(early.rejected))
	s.Equal(ErrTypeForbidden, appErrType(byCitizen.rejected))
	s.Equal(ErrTypeForbidden, appErrType(stranger.rejected))
	s.Equal(ErrTypeInvalidDecision, appErrType(noReason.rejected))
	s.Equal(ErrTypeInvalidDecision, appErrType(tooLong.rejected))
	s.Equal(ErrTypeAppointmentClosed, appErrType(twice.rejected))
	s.Equal(AppointmentAttended, res.Status)
	s.Len(s.closed, 1)
}

// A booking the API withdrew (its workflow start was not confirmed) ends
// the workflow at once: no confirmation, no reminder, nothing closed.
func (s *appointmentSuite) TestWithdrawnBookingEndsQuietly() {
	s.bookedStatus = AppointmentCancelled
	res := s.run(apptStart)
	s.Equal(AppointmentResult{Status: AppointmentCancelled}, res)
	s.Empty(s.notes)
	s.Empty(s.reminded)
	s.Empty(s.closed)
}

func TestNoShowDeadlineSkipsHolidaysAndWeekends(t *testing.T) {
	// Friday 24 April 2026: the next working day is Monday 27 (25 April is a
	// Saturday), so the deadline is the end of that Monday.
	got := NoShowDeadline(time.Date(2026, 4, 24, 15, 0, 0, 0, rome))
	if want := time.Date(2026, 4, 28, 0, 0, 0, 0, rome); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
	// Thursday 24 December 2026: 25 and 26 are holidays, 27 is Sunday.
	got = NoShowDeadline(time.Date(2026, 12, 24, 9, 0, 0, 0, rome))
	if want := time.Date(2026, 12, 29, 0, 0, 0, 0, rome); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
}
