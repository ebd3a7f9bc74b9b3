package appointments

import (
	"slices"
	"strings"
	"testing"
	"time"

	"sportello/internal/app/apptest"
	"sportello/internal/store"
	"sportello/workflows"
)

// TestInputsValidate: booking, cancelling and recording a meeting are
// checked with the pointers of the JSON API before anything is read.
func TestInputsValidate(t *testing.T) {
	b := Booking{PointID: "  ", StartsAt: "tomorrow", Topic: strings.Repeat("x", MaxTopic+1)}
	if got, want := apptest.Fields(t, b.Validate()), []string{"/point_id required", "/starts_at required", "/topic too_long"}; !slices.Equal(got, want) {
		t.Errorf("booking: got %q, want %q", got, want)
	}
	b = Booking{PointID: " sp-tradate ", StartsAt: " 2026-03-02T09:00:00+01:00 ", Topic: " ISEE "}
	if f := b.Validate(); len(f) > 0 || b.PointID != "sp-tradate" || b.Topic != "ISEE" {
		t.Errorf("booking: %+v, %+v", f, b)
	}
	c := Cancellation{Reason: "   "}
	if got := apptest.Fields(t, c.Validate()); !slices.Equal(got, []string{"/reason required"}) {
		t.Errorf("cancellation: %q", got)
	}
	c = Cancellation{Reason: strings.Repeat("y", 1001)}
	if got := apptest.Fields(t, c.Validate()); !slices.Equal(got, []string{"/reason too_long"}) {
		t.Errorf("cancellation: %q", got)
	}
	a := Attendance{Plan: &workflows.PersonalPlan{Notes: strings.Repeat("z", 4001)}}
	if got, want := apptest.Fields(t, a.Validate()), []string{"/attended required", "/plan/notes too_long"}; !slices.Equal(got, want) {
		t.Errorf("attendance: got %q, want %q", got, want)
	}
}

// TestCanCancelAndRecord: a booking may be cancelled until it starts; staff
// record the meeting from its day (Rome) on.
func TestCanCancelAndRecord(t *testing.T) {
	starts := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 10:00 in Rome
	a := store.AppointmentView{Status: store.AppointmentBooked, StartsAt: starts, EndsAt: starts.Add(30 * time.Minute)}
	staff := store.UserView{Role: "operator"}
	citizen := store.UserView{Role: "citizen"}
	dayBefore := starts.Add(-11 * time.Hour)               // 23:00 in Rome, 1 March
	earlySameDay := starts.Add(-9*time.Hour + time.Minute) // 01:01 in Rome, 2 March
	if !CanCancel(a, dayBefore) || CanCancel(a, starts) {
		t.Error("cancel: open until the start only")
	}
	if CanRecord(staff, a, dayBefore) || !CanRecord(staff, a, earlySameDay) || CanRecord(citizen, a, starts) {
		t.Error("record: staff, from the appointment's Rome day on")
	}
	a.Status = store.AppointmentCancelled
	if CanCancel(a, dayBefore) || CanRecord(staff, a, starts) {
		t.Error("a cancelled appointment is closed")
	}
}
